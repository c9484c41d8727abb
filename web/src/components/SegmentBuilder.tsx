import {
  ActionIcon,
  Autocomplete,
  Button,
  Fieldset,
  Group,
  NativeSelect,
  SegmentedControl,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import {
  computedOps,
  CONTACT_CHANNELS,
  COMPUTED_FIELDS,
  COUNT_OPS,
  EVENT_NAMES,
  IDENTITY_TYPES,
  INACTIVITY,
  LIFECYCLE_STAGES,
  newRule,
  operand,
  RFM_GROUPS,
  RULE_KINDS,
  TRAIT_OPS,
  type Match,
  type Problem,
  type Rule,
  type RuleKind,
} from '../segments';

export interface PurposeOption {
  value: string;
  label: string;
}

function RuleRow({
  rule,
  index,
  problem,
  serverError,
  purposes,
  onChange,
  onRemove,
  removable,
}: {
  rule: Rule;
  index: number;
  problem: Problem;
  serverError: boolean;
  purposes: PurposeOption[];
  onChange: (rule: Rule) => void;
  onRemove: () => void;
  removable: boolean;
}) {
  const { t } = useTranslation();
  const set = (patch: Partial<Rule>) => onChange({ ...rule, ...patch });
  const opLabel = (op: string) => t(`segments.op.${op}`, { defaultValue: op });
  const error = (kind: Problem) => (problem === kind ? t(`segments.problem.${kind}`) : undefined);

  let fields: ReactNode = null;
  if (rule.kind === 'computed') {
    const kind = COMPUTED_FIELDS[rule.name] ?? 'number';
    const needs = operand(rule.op);
    fields = (
      <>
        <NativeSelect
          label={t('segments.field.computed')}
          value={rule.name}
          data={Object.keys(COMPUTED_FIELDS).map((field) => ({ value: field, label: t(`segments.computedField.${field}`) }))}
          onChange={(event) => {
            const name = event.currentTarget.value;
            const ops = computedOps(name);
            set({ name, op: ops.includes(rule.op) ? rule.op : ops[0], value: name === 'inactivity' ? '30_days' : '' });
          }}
          data-testid="rule-field"
        />
        <NativeSelect
          label={t('segments.field.op')}
          value={rule.op}
          data={computedOps(rule.name).map((op) => ({ value: op, label: opLabel(op) }))}
          onChange={(event) => set({ op: event.currentTarget.value })}
          data-testid="rule-op"
        />
        {needs !== 'none' &&
          (rule.name === 'inactivity' ? (
            <NativeSelect
              label={t('segments.field.value')}
              value={rule.value}
              data={INACTIVITY.map((bucket) => ({ value: bucket, label: t(`segments.inactivity.${bucket}`) }))}
              onChange={(event) => set({ value: event.currentTarget.value })}
              data-testid="rule-value"
            />
          ) : (
            <TextInput
              label={needs === 'days' ? t('segments.field.days') : kind === 'number' ? t('segments.field.number') : t('segments.field.value')}
              value={rule.value}
              inputMode={needs === 'days' || kind === 'number' ? 'decimal' : undefined}
              onChange={(event) => set({ value: event.currentTarget.value })}
              error={error('number') ?? error('days') ?? error('value')}
              data-testid="rule-value"
              w={140}
            />
          ))}
      </>
    );
  } else if (rule.kind === 'trait') {
    const needs = operand(rule.op);
    fields = (
      <>
        <TextInput
          label={t('segments.field.trait')}
          placeholder="city"
          value={rule.name}
          onChange={(event) => set({ name: event.currentTarget.value })}
          error={error('name')}
          data-testid="rule-field"
          w={160}
        />
        <NativeSelect
          label={t('segments.field.op')}
          value={rule.op}
          data={TRAIT_OPS.map((op) => ({ value: op, label: opLabel(op) }))}
          onChange={(event) => set({ op: event.currentTarget.value })}
          data-testid="rule-op"
        />
        {needs === 'value' && ['eq', 'neq'].includes(rule.op) && (
          <NativeSelect
            label={t('segments.field.valueType')}
            value={rule.valueType}
            data={(['text', 'number', 'boolean'] as const).map((type) => ({ value: type, label: t(`segments.valueType.${type}`) }))}
            onChange={(event) => {
              const valueType = event.currentTarget.value as Rule['valueType'];
              set({ valueType, value: valueType === 'boolean' ? 'true' : rule.value });
            }}
            data-testid="rule-value-type"
          />
        )}
        {needs === 'value' && rule.valueType === 'boolean' && ['eq', 'neq'].includes(rule.op) ? (
          <NativeSelect
            label={t('segments.field.value')}
            value={rule.value}
            data={[
              { value: 'true', label: t('common.yes') },
              { value: 'false', label: t('common.no') },
            ]}
            onChange={(event) => set({ value: event.currentTarget.value })}
            data-testid="rule-value"
          />
        ) : (
          needs !== 'none' && (
            <TextInput
              label={needs === 'days' ? t('segments.field.days') : t('segments.field.value')}
              value={rule.value}
              inputMode={needs === 'days' ? 'decimal' : undefined}
              onChange={(event) => set({ value: event.currentTarget.value })}
              error={error('number') ?? error('days') ?? error('value')}
              data-testid="rule-value"
              w={160}
            />
          )
        )}
      </>
    );
  } else if (rule.kind === 'event') {
    fields = (
      <>
        <Autocomplete
          label={t('segments.field.event')}
          value={rule.name}
          data={EVENT_NAMES}
          onChange={(name) => set({ name })}
          error={error('name')}
          data-testid="rule-event"
          w={190}
        />
        <NativeSelect
          label={t('segments.field.did')}
          value={rule.did ? 'did' : 'not'}
          data={[
            { value: 'did', label: t('segments.did.did') },
            { value: 'not', label: t('segments.did.not') },
          ]}
          onChange={(event) => set({ did: event.currentTarget.value === 'did' })}
          data-testid="rule-did"
        />
        {rule.did && rule.name.trim() !== '*' && (
          <>
            <NativeSelect
              label={t('segments.field.times')}
              value={rule.op}
              data={COUNT_OPS.map((op) => ({ value: op, label: opLabel(op) }))}
              onChange={(event) => set({ op: event.currentTarget.value })}
              data-testid="rule-op"
            />
            <TextInput
              label={t('segments.field.count')}
              value={rule.value}
              inputMode="numeric"
              onChange={(event) => set({ value: event.currentTarget.value })}
              error={error('number')}
              data-testid="rule-value"
              w={90}
            />
          </>
        )}
        <TextInput
          label={t('segments.field.withinDays')}
          description={t('segments.field.withinDaysHint')}
          value={rule.days}
          inputMode="decimal"
          onChange={(event) => set({ days: event.currentTarget.value })}
          error={error('days')}
          data-testid="rule-days"
          w={140}
        />
      </>
    );
  } else if (rule.kind === 'identity') {
    fields = (
      <NativeSelect
        label={t('segments.field.identity')}
        value={rule.name}
        data={IDENTITY_TYPES.map((type) => ({ value: type, label: `${t(`channel.${type}`, { defaultValue: type })} (${type})` }))}
        onChange={(event) => set({ name: event.currentTarget.value })}
        data-testid="rule-field"
      />
    );
  } else if (rule.kind === 'consent') {
    const options = purposes.some((p) => p.value === rule.name)
      ? purposes
      : [...purposes, { value: rule.name, label: rule.name }];
    fields = (
      <>
        <NativeSelect
          label={t('segments.field.purpose')}
          value={rule.name}
          data={options}
          onChange={(event) => set({ name: event.currentTarget.value })}
          data-testid="rule-field"
        />
        <NativeSelect
          label={t('segments.field.channel')}
          value={rule.channel}
          data={[
            { value: '', label: t('segments.noChannel') },
            ...CONTACT_CHANNELS.map((channel) => ({ value: channel, label: t(`channel.${channel}`, { defaultValue: channel }) })),
          ]}
          onChange={(event) => set({ channel: event.currentTarget.value })}
          data-testid="rule-channel"
        />
        <NativeSelect
          label={t('segments.field.consentState')}
          value={rule.granted ? 'granted' : 'not'}
          data={[
            { value: 'granted', label: t('segments.granted.yes') },
            { value: 'not', label: t('segments.granted.no') },
          ]}
          onChange={(event) => set({ granted: event.currentTarget.value === 'granted' })}
          data-testid="rule-granted"
        />
      </>
    );
  } else if (rule.kind === 'lifecycle') {
    fields = (
      <NativeSelect
        label={t('segments.field.stage')}
        value={rule.name}
        data={LIFECYCLE_STAGES.map((stage) => ({ value: stage, label: t(`lifecycle.${stage}`, { defaultValue: stage }) }))}
        onChange={(event) => set({ name: event.currentTarget.value })}
        data-testid="rule-field"
      />
    );
  } else if (rule.kind === 'rfm') {
    fields = (
      <NativeSelect
        label={t('segments.field.rfmGroup')}
        value={rule.name}
        data={RFM_GROUPS}
        onChange={(event) => set({ name: event.currentTarget.value })}
        data-testid="rule-field"
      />
    );
  }

  return (
    <Fieldset
      legend={t('segments.ruleLegend', { n: index + 1 })}
      data-testid="segment-rule"
      data-kind={rule.kind}
      style={serverError ? { borderColor: 'var(--mantine-color-red-6)' } : undefined}
      p="sm"
    >
      <Group align="flex-end" gap="sm" wrap="wrap">
        <NativeSelect
          label={t('segments.field.kind')}
          value={rule.kind}
          data={RULE_KINDS.map((kind) => ({ value: kind, label: t(`segments.kind.${kind}`) }))}
          onChange={(event) => onChange({ ...newRule(event.currentTarget.value as RuleKind), key: rule.key })}
          data-testid="rule-kind"
        />
        {fields}
        {removable && (
          <ActionIcon
            variant="subtle"
            color="red"
            size="lg"
            onClick={onRemove}
            aria-label={t('segments.removeRule', { n: index + 1 })}
            data-testid="rule-remove"
            mb={2}
          >
            <span aria-hidden="true">✕</span>
          </ActionIcon>
        )}
      </Group>
    </Fieldset>
  );
}

/** The top-level all/any group with its rows: add, change and remove conditions. */
export function SegmentBuilder({
  match,
  rules,
  problems,
  failing,
  purposes,
  onMatch,
  onRules,
}: {
  match: Match;
  rules: Rule[];
  problems: Map<number, Exclude<Problem, null>>;
  /** the row the server's error names */
  failing: number | null;
  purposes: PurposeOption[];
  onMatch: (match: Match) => void;
  onRules: (rules: Rule[]) => void;
}) {
  const { t } = useTranslation();
  return (
    <Stack gap="sm">
      <div>
        <Text size="sm" fw={500} id="segment-match-label" mb={4}>
          {t('segments.matchLabel')}
        </Text>
        <SegmentedControl
          value={match}
          onChange={(value) => onMatch(value as Match)}
          data={[
            { value: 'all', label: t('segments.match.all') },
            { value: 'any', label: t('segments.match.any') },
          ]}
          aria-labelledby="segment-match-label"
          data-testid="segment-match"
        />
      </div>
      {rules.map((rule, index) => (
        <RuleRow
          key={rule.key}
          rule={rule}
          index={index}
          problem={problems.get(rule.key) ?? null}
          serverError={failing === index}
          purposes={purposes}
          removable={rules.length > 1}
          onChange={(changed) => onRules(rules.map((r) => (r.key === rule.key ? changed : r)))}
          onRemove={() => onRules(rules.filter((r) => r.key !== rule.key))}
        />
      ))}
      <Group>
        <Button variant="light" onClick={() => onRules([...rules, newRule()])} data-testid="rule-add">
          {t('segments.addRule')}
        </Button>
      </Group>
    </Stack>
  );
}
