import {
  ActionIcon,
  Autocomplete,
  Box,
  Button,
  Fieldset,
  Group as Row,
  NativeSelect,
  SegmentedControl,
  Stack,
  Switch,
  Text,
  TextInput,
} from '@mantine/core';
import { useId, useMemo } from 'react';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import {
  computedOps,
  COUNT_OPS,
  figureFields,
  MAX_GROUP_DEPTH,
  MEASURES,
  newFilter,
  newGroup,
  newRule,
  operand,
  PROPERTY_OPS,
  RULE_KINDS,
  TRAIT_OPS,
  type Group,
  type Match,
  type Measure,
  type Node,
  type Problem,
  type PropertyFilter,
  type Rule,
  type RuleKind,
  type Vocabulary,
} from '../segments';
import type { ConsentPurpose, Segment } from '../api';
import { useAuth } from '../auth';
import { useApi } from '../useApi';

export interface Option {
  value: string;
  label: string;
}

/**
 * The consent purposes (titled in the reader's language) and the other segments a builder
 * offers, read for roles that may see them; purposes fall back to the vocabulary's names.
 */
export function useBuilderOptions(vocabulary: Vocabulary, exclude?: string): { purposes: Option[]; segments: Option[] } {
  const { i18n } = useTranslation();
  const { can } = useAuth();
  const purposes = useApi<ConsentPurpose[]>(can('consent:read') ? '/api/privacy/purposes' : null);
  const segments = useApi<Segment[]>(can('segments:read') ? '/api/segments' : null);
  return useMemo(
    () => ({
      purposes: purposes.data
        ? purposes.data.map((p) => ({
            value: p.name,
            label: `${i18n.language === 'en' ? p.title_en : p.title_th} (${p.name})`,
          }))
        : Object.keys(vocabulary.purposes).map((p) => ({ value: p, label: p })),
      segments: (segments.data ?? []).filter((s) => s.id !== exclude).map((s) => ({ value: s.id, label: s.name })),
    }),
    [purposes.data, segments.data, i18n.language, vocabulary, exclude],
  );
}

interface Shared {
  problems: Map<number, Exclude<Problem, null>>;
  /** the node the server's error names */
  failing: number | null;
  vocabulary: Vocabulary;
  purposes: Option[];
  /** other segments, for "is a member of" */
  segments: Option[];
}

const RED = { borderColor: 'var(--mantine-color-red-6)' };

function FilterRow({
  filter,
  properties,
  onChange,
  onRemove,
  n,
}: {
  filter: PropertyFilter;
  properties: string[];
  onChange: (filter: PropertyFilter) => void;
  onRemove: () => void;
  n: number;
}) {
  const { t } = useTranslation();
  const set = (patch: Partial<PropertyFilter>) => onChange({ ...filter, ...patch });
  return (
    <Row align="flex-end" gap="xs" wrap="wrap" data-testid="rule-filter">
      <Autocomplete
        label={t('segments.field.property')}
        value={filter.property}
        data={properties}
        onChange={(property) => set({ property })}
        w={150}
        data-testid="filter-property"
      />
      <NativeSelect
        label={t('segments.field.op')}
        value={filter.op}
        data={PROPERTY_OPS.map((op) => ({ value: op, label: t(`segments.op.${op}`, { defaultValue: op }) }))}
        onChange={(event) => set({ op: event.currentTarget.value })}
        data-testid="filter-op"
      />
      {filter.op !== 'exists' && (
        <TextInput
          label={filter.op === 'in' ? t('segments.field.values') : t('segments.field.value')}
          value={filter.value}
          onChange={(event) => set({ value: event.currentTarget.value })}
          w={150}
          data-testid="filter-value"
        />
      )}
      <ActionIcon
        variant="subtle"
        color="red"
        size="lg"
        onClick={onRemove}
        aria-label={t('segments.removeFilter', { n })}
        mb={2}
      >
        <span aria-hidden="true">✕</span>
      </ActionIcon>
    </Row>
  );
}

function RuleRow({
  rule,
  label,
  shared,
  onChange,
  onRemove,
  removable,
}: {
  rule: Rule;
  label: string;
  shared: Shared;
  onChange: (rule: Rule) => void;
  onRemove: () => void;
  removable: boolean;
}) {
  const { t } = useTranslation();
  const { vocabulary } = shared;
  const problem = shared.problems.get(rule.key) ?? null;
  const set = (patch: Partial<Rule>) => onChange({ ...rule, ...patch });
  const opLabel = (op: string) => t(`segments.op.${op}`, { defaultValue: op });
  const error = (...kinds: Problem[]) =>
    problem && kinds.includes(problem) ? t(`segments.problem.${problem}`) : undefined;
  const listHint = t('segments.field.listHint');

  let fields: ReactNode = null;
  if (rule.kind === 'computed') {
    const kind = vocabulary.computed[rule.name] ?? 'number';
    const needs = operand(rule.op);
    const ops = computedOps(rule.name, vocabulary);
    fields = (
      <>
        <NativeSelect
          label={t('segments.field.computed')}
          value={rule.name}
          data={figureFields(vocabulary).map((field) => ({
            value: field,
            label: t(`segments.computedField.${field}`, { defaultValue: field }),
          }))}
          onChange={(event) => {
            const name = event.currentTarget.value;
            const next = computedOps(name, vocabulary);
            set({ name, op: next.includes(rule.op) ? rule.op : next[0], value: name === 'inactivity' ? '30_days' : '' });
          }}
          data-testid="rule-field"
        />
        <NativeSelect
          label={t('segments.field.op')}
          value={rule.op}
          data={ops.map((op) => ({ value: op, label: opLabel(op) }))}
          onChange={(event) => set({ op: event.currentTarget.value })}
          data-testid="rule-op"
        />
        {needs !== 'none' &&
          (rule.name === 'inactivity' && needs === 'value' ? (
            <NativeSelect
              label={t('segments.field.value')}
              value={rule.value}
              data={vocabulary.inactivity.map((bucket) => ({ value: bucket, label: t(`segments.inactivity.${bucket}`) }))}
              onChange={(event) => set({ value: event.currentTarget.value })}
              data-testid="rule-value"
            />
          ) : (
            <TextInput
              label={
                needs === 'days'
                  ? t('segments.field.days')
                  : needs === 'list'
                    ? t('segments.field.values')
                    : kind === 'number'
                      ? t('segments.field.number')
                      : t('segments.field.value')
              }
              description={needs === 'list' ? listHint : undefined}
              value={rule.value}
              inputMode={needs === 'days' || (kind === 'number' && needs === 'value') ? 'decimal' : undefined}
              onChange={(event) => set({ value: event.currentTarget.value })}
              error={error('number', 'days', 'value')}
              data-testid="rule-value"
              w={needs === 'list' ? 220 : 140}
            />
          ))}
      </>
    );
  } else if (rule.kind === 'trait') {
    const needs = operand(rule.op);
    const typed = (needs === 'value' && ['eq', 'neq'].includes(rule.op)) || needs === 'list';
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
        {typed && (
          <NativeSelect
            label={t('segments.field.valueType')}
            value={rule.valueType}
            data={(needs === 'list' ? (['text', 'number'] as const) : (['text', 'number', 'boolean'] as const)).map(
              (type) => ({ value: type, label: t(`segments.valueType.${type}`) }),
            )}
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
              label={
                needs === 'days' ? t('segments.field.days') : needs === 'list' ? t('segments.field.values') : t('segments.field.value')
              }
              description={needs === 'list' ? listHint : undefined}
              value={rule.value}
              inputMode={needs === 'days' ? 'decimal' : undefined}
              onChange={(event) => set({ value: event.currentTarget.value })}
              error={error('number', 'days', 'value')}
              data-testid="rule-value"
              w={needs === 'list' ? 220 : 160}
            />
          )
        )}
      </>
    );
  } else if (rule.kind === 'event') {
    const known = vocabulary.events.find((event) => event.name === rule.name.trim());
    const properties = known?.properties ?? [];
    const anyEvent = rule.name.trim() === '*';
    fields = (
      <>
        <Autocomplete
          label={t('segments.field.event')}
          value={rule.name}
          data={vocabulary.events.length ? vocabulary.events.map((event) => event.name) : ['Order Completed', 'Product Added']}
          onChange={(name) => set({ name })}
          error={error('name')}
          data-testid="rule-event"
          w={200}
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
        {rule.did && !anyEvent && (
          <>
            <NativeSelect
              label={t('segments.field.measure')}
              value={rule.measure}
              data={MEASURES.map((measure) => ({ value: measure, label: t(`segments.measure.${measure}`) }))}
              onChange={(event) => {
                const measure = event.currentTarget.value as Measure;
                set({ measure, value: measure === 'count' ? '1' : rule.value });
              }}
              data-testid="rule-measure"
            />
            {rule.measure !== 'count' && (
              <Autocomplete
                label={t('segments.field.ofProperty')}
                value={rule.measureProperty}
                data={properties}
                onChange={(measureProperty) => set({ measureProperty })}
                error={error('property')}
                data-testid="rule-measure-property"
                w={140}
              />
            )}
            <NativeSelect
              label={t('segments.field.op')}
              value={rule.op}
              data={COUNT_OPS.map((op) => ({ value: op, label: opLabel(op) }))}
              onChange={(event) => set({ op: event.currentTarget.value })}
              data-testid="rule-op"
            />
            <TextInput
              label={rule.measure === 'count' ? t('segments.field.count') : t('segments.field.number')}
              value={rule.value}
              inputMode="decimal"
              onChange={(event) => set({ value: event.currentTarget.value })}
              error={error('number')}
              data-testid="rule-value"
              w={100}
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
          w={150}
        />
      </>
    );
  } else if (rule.kind === 'identity') {
    const types = vocabulary.identifier_types.includes(rule.name)
      ? vocabulary.identifier_types
      : [...vocabulary.identifier_types, rule.name];
    fields = (
      <NativeSelect
        label={t('segments.field.identity')}
        value={rule.name}
        data={types.map((type) => ({ value: type, label: `${t(`channel.${type}`, { defaultValue: type })} (${type})` }))}
        onChange={(event) => set({ name: event.currentTarget.value })}
        data-testid="rule-field"
      />
    );
  } else if (rule.kind === 'consent') {
    const options = shared.purposes.some((p) => p.value === rule.name)
      ? shared.purposes
      : [...shared.purposes, { value: rule.name, label: rule.name }];
    const channels = vocabulary.purposes[rule.name] ?? [];
    const channelOptions = rule.channel && !channels.includes(rule.channel) ? [...channels, rule.channel] : channels;
    fields = (
      <>
        <NativeSelect
          label={t('segments.field.purpose')}
          value={rule.name}
          data={options}
          onChange={(event) => {
            const name = event.currentTarget.value;
            const next = vocabulary.purposes[name] ?? [];
            set({ name, channel: next.includes(rule.channel) ? rule.channel : '' });
          }}
          data-testid="rule-field"
        />
        <NativeSelect
          label={t('segments.field.channel')}
          value={rule.channel}
          data={[
            { value: '', label: t('segments.noChannel') },
            ...channelOptions.map((channel) => ({ value: channel, label: t(`channel.${channel}`, { defaultValue: channel }) })),
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
        data={vocabulary.lifecycle_stages.map((stage) => ({ value: stage, label: t(`lifecycle.${stage}`, { defaultValue: stage }) }))}
        onChange={(event) => set({ name: event.currentTarget.value })}
        data-testid="rule-field"
      />
    );
  } else if (rule.kind === 'rfm') {
    fields = (
      <NativeSelect
        label={t('segments.field.rfmGroup')}
        value={rule.name}
        data={vocabulary.rfm_groups.map((group) => ({ value: group, label: t(`rfm.${group}`, { defaultValue: group }) }))}
        onChange={(event) => set({ name: event.currentTarget.value })}
        data-testid="rule-field"
      />
    );
  } else if (rule.kind === 'segment') {
    const options = shared.segments.some((s) => s.value === rule.name) || !rule.name
      ? shared.segments
      : [...shared.segments, { value: rule.name, label: rule.name }];
    fields = (
      <NativeSelect
        label={t('segments.field.segment')}
        value={rule.name}
        data={[{ value: '', label: t('segments.pickSegment') }, ...options]}
        onChange={(event) => set({ name: event.currentTarget.value })}
        error={error('name')}
        data-testid="rule-field"
        maw={320}
      />
    );
  }

  const filters = rule.kind === 'event' && rule.name.trim() !== '*';
  const properties = shared.vocabulary.events.find((event) => event.name === rule.name.trim())?.properties ?? [];
  return (
    <Fieldset
      legend={label}
      data-testid="segment-rule"
      data-kind={rule.kind}
      data-failing={shared.failing === rule.key || undefined}
      style={shared.failing === rule.key ? RED : undefined}
      p="sm"
    >
      <Row align="flex-end" gap="sm" wrap="wrap">
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
            aria-label={t('segments.removeRule', { label })}
            data-testid="rule-remove"
            mb={2}
          >
            <span aria-hidden="true">✕</span>
          </ActionIcon>
        )}
      </Row>
      {filters && (
        <Stack gap={6} mt="xs">
          {rule.where.map((filter, index) => (
            <FilterRow
              key={filter.key}
              n={index + 1}
              filter={filter}
              properties={properties}
              onChange={(changed) => set({ where: rule.where.map((f) => (f.key === filter.key ? changed : f)) })}
              onRemove={() => set({ where: rule.where.filter((f) => f.key !== filter.key) })}
            />
          ))}
          {problem === 'property' && rule.where.some((f) => !f.property.trim()) && (
            <Text size="xs" c="red">
              {t('segments.problem.property')}
            </Text>
          )}
          <div>
            <Button
              variant="subtle"
              size="compact-sm"
              onClick={() => set({ where: [...rule.where, newFilter()] })}
              data-testid="filter-add"
            >
              {t('segments.addFilter')}
            </Button>
          </div>
        </Stack>
      )}
    </Fieldset>
  );
}

function GroupBox({
  group,
  depth,
  label,
  shared,
  onChange,
  onRemove,
}: {
  group: Group;
  depth: number;
  label: string;
  shared: Shared;
  onChange: (group: Group) => void;
  onRemove?: () => void;
}) {
  const { t } = useTranslation();
  const matchLabel = useId();
  const empty = shared.problems.get(group.key) === 'empty';
  const replace = (child: Node) => onChange({ ...group, children: group.children.map((c) => (c.key === child.key ? child : c)) });
  const remove = (key: number) => onChange({ ...group, children: group.children.filter((c) => c.key !== key) });
  const header = (
    <Row gap="sm" align="flex-end" wrap="wrap">
      <div>
        <Text size="sm" fw={500} id={matchLabel} mb={4}>
          {depth === 1 ? t('segments.matchLabel') : t('segments.groupMatchLabel')}
        </Text>
        <SegmentedControl
          value={group.match}
          onChange={(value) => onChange({ ...group, match: value as Match })}
          data={[
            { value: 'all', label: t('segments.match.all') },
            { value: 'any', label: t('segments.match.any') },
          ]}
          aria-labelledby={matchLabel}
          data-testid="segment-match"
        />
      </div>
      <Switch
        label={t('segments.negate')}
        checked={group.negate}
        onChange={(event) => onChange({ ...group, negate: event.currentTarget.checked })}
        data-testid="group-negate"
        mb={6}
      />
    </Row>
  );
  const body = (
    <Stack gap="sm">
      {header}
      {group.children.map((child, index) => {
        const childLabel = depth === 1 ? `${index + 1}` : `${label}.${index + 1}`;
        return child.type === 'rule' ? (
          <RuleRow
            key={child.key}
            rule={child}
            label={t('segments.ruleLegend', { n: childLabel })}
            shared={shared}
            removable={group.children.length > 1 || depth > 1}
            onChange={replace}
            onRemove={() => remove(child.key)}
          />
        ) : (
          <GroupBox
            key={child.key}
            group={child}
            depth={depth + 1}
            label={childLabel}
            shared={shared}
            onChange={replace}
            onRemove={() => remove(child.key)}
          />
        );
      })}
      {empty && (
        <Text size="sm" c="red" role="alert">
          {t('segments.problem.empty')}
        </Text>
      )}
      <Row gap="xs">
        <Button
          variant="light"
          size="compact-sm"
          onClick={() => onChange({ ...group, children: [...group.children, newRule()] })}
          data-testid="rule-add"
        >
          {t('segments.addRule')}
        </Button>
        {depth < MAX_GROUP_DEPTH && (
          <Button
            variant="subtle"
            size="compact-sm"
            onClick={() =>
              onChange({ ...group, children: [...group.children, newGroup(group.match === 'all' ? 'any' : 'all')] })
            }
            data-testid="group-add"
          >
            {t('segments.addGroup')}
          </Button>
        )}
        {onRemove && (
          <Button variant="subtle" color="red" size="compact-sm" onClick={onRemove} data-testid="group-remove">
            {t('segments.removeGroup', { label })}
          </Button>
        )}
      </Row>
    </Stack>
  );
  if (depth === 1) return <Box data-testid="segment-group" data-depth={depth}>{body}</Box>;
  return (
    <Fieldset
      legend={t('segments.groupLegend', { n: label })}
      data-testid="segment-group"
      data-depth={depth}
      data-failing={shared.failing === group.key || undefined}
      p="sm"
      style={{
        borderLeft: `4px solid var(--mantine-color-${group.negate ? 'red' : 'teal'}-4)`,
        ...(shared.failing === group.key ? RED : {}),
      }}
    >
      {body}
    </Fieldset>
  );
}

/** The condition tree: groups of all / any (or none of) rules and further groups. */
export function SegmentBuilder({
  root,
  onChange,
  ...shared
}: Shared & { root: Group; onChange: (root: Group) => void }) {
  return <GroupBox group={root} depth={1} label="" shared={shared} onChange={onChange} />;
}
