/** The settings of one node, by kind, with the validator's problems on the fields they name. */
import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Checkbox,
  Code,
  Group,
  MultiSelect,
  NativeSelect,
  NumberInput,
  SegmentedControl,
  Select,
  Stack,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import type { TFunction } from 'i18next';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Json, Segment } from '../../api';
import type { ChannelOut, TemplateOut } from '../../pages/journeys/types';
import { DurationInput, EventInput, FilterEditor, KeyValueEditor, RemoveIcon } from './fields';
import { outputsOf, type DefNode, type JsonObject, type PlacedProblem } from './graph';
import { outputLabel } from './JourneyCanvas';
import { ConditionBuilderModal } from '../ConditionBuilderModal';
import { conditionSummary, kindColor, KindIcon } from './kinds';
import { fieldError, problemText } from './problems';
import { MONO } from './SimulationPanel';

export interface FormOptions {
  templates: TemplateOut[] | undefined;
  channels: ChannelOut[] | undefined;
  segments: Segment[] | undefined;
  /** event names to suggest */
  events: string[];
  /** property names to suggest */
  properties: string[];
}

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: Json | undefined): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

function num(value: Json | undefined): number | string {
  return typeof value === 'number' ? value : '';
}

/** A copy of an object with a key set, or removed when the value is undefined (order kept). */
export function withKey<T extends JsonObject>(object: T, key: string, value: Json | undefined): T {
  const copy: JsonObject = { ...object };
  if (value === undefined) delete copy[key];
  else copy[key] = value;
  return copy as T;
}

/** A number input's value as the JSON to store: a number, or nothing. */
export function numberOrNothing(value: number | string): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The fields each kind's form shows its problems on; the rest go above the form. */
const INLINE_FIELDS: Record<string, string[]> = {
  wait: ['duration'],
  wait_until: ['time', 'weekdays'],
  wait_for_event: ['event', 'timeout', 'where'],
  branch: ['condition'],
  split: ['paths'],
  holdout: ['percent'],
  send: ['template', 'channels', 'category'],
  update_profile: ['traits'],
  coupon: ['percent', 'amount', 'prefix', 'valid_days'],
  task: ['team', 'title', 'due_in'],
  emit: ['event', 'properties'],
};

export interface TargetOption {
  value: string;
  label: string;
}

function conditionPresets(t: TFunction): { key: string; label: string; condition: JsonObject }[] {
  return [
    {
      key: 'line',
      label: t('journeys.branch.presetLine'),
      condition: { all: [{ identity: 'line_user_id' }, { consent: { purpose: 'marketing', channel: 'line' } }] },
    },
    { key: 'email', label: t('journeys.branch.presetEmail'), condition: { identity: 'email' } },
    { key: 'buyer', label: t('journeys.branch.presetBuyer'), condition: { computed: 'order_count', op: 'gte', value: 1 } },
    { key: 'first', label: t('journeys.branch.presetFirst'), condition: { computed: 'order_count', op: 'eq', value: 1 } },
  ];
}

function ConditionEditor({
  value,
  onChange,
  error,
  segments,
  disabled,
}: {
  value: Json | undefined;
  onChange: (value: JsonObject) => void;
  error?: string;
  segments: Segment[] | undefined;
  disabled: boolean;
}) {
  const { t } = useTranslation();
  const [text, setText] = useState(() => JSON.stringify(value ?? {}, null, 2));
  const [parseError, setParseError] = useState<string | null>(null);
  const apply = (condition: JsonObject) => {
    setText(JSON.stringify(condition, null, 2));
    setParseError(null);
    onChange(condition);
  };
  const segmentId = isObject(value) && typeof value.segment === 'string' ? value.segment : null;
  const [building, setBuilding] = useState(false);
  return (
    <Stack gap="xs">
      <ConditionBuilderModal opened={building} value={value} onClose={() => setBuilding(false)} onApply={apply} />
      <Text size="sm">
        <Text span fw={500}>
          {t('journeys.branch.now')}:{' '}
        </Text>
        <Code>{conditionSummary(value) || '–'}</Code>
      </Text>
      <Group gap={6}>
        {conditionPresets(t).map((preset) => (
          <Button key={preset.key} size="compact-xs" variant="light" onClick={() => apply(preset.condition)} disabled={disabled}>
            {preset.label}
          </Button>
        ))}
        <Button
          size="compact-xs"
          variant="filled"
          onClick={() => setBuilding(true)}
          disabled={disabled}
          data-testid="branch-build"
        >
          {t('segments.buildVisually')}
        </Button>
      </Group>
      <Select
        label={t('journeys.branch.segment')}
        placeholder={t('journeys.branch.segmentPlaceholder')}
        value={segmentId}
        data={(segments ?? []).map((segment) => ({ value: segment.id, label: segment.name }))}
        onChange={(id) => id && apply({ segment: id })}
        searchable
        nothingFoundMessage={t('journeys.form.nothingFound')}
        comboboxProps={{ withinPortal: true }}
      />
      <Textarea
        label={t('journeys.branch.json')}
        description={t('journeys.branch.jsonHint')}
        value={text}
        onChange={(event) => {
          const next = event.currentTarget.value;
          setText(next);
          try {
            const parsed: unknown = JSON.parse(next);
            if (!isObject(parsed)) throw new Error('not an object');
            setParseError(null);
            onChange(parsed);
          } catch {
            setParseError(t('journeys.branch.jsonInvalid'));
          }
        }}
        error={parseError ?? error}
        autosize
        minRows={3}
        maxRows={12}
        styles={{ input: { fontFamily: MONO, fontSize: 12 } }}
        data-testid="branch-condition"
      />
    </Stack>
  );
}

function SplitPaths({
  node,
  onChange,
  onRemovePath,
  error,
}: {
  node: DefNode;
  onChange: (node: DefNode) => void;
  onRemovePath: (index: number) => void;
  error?: string;
}) {
  const { t } = useTranslation();
  const paths = Array.isArray(node.paths) ? node.paths : [];
  const total = paths.reduce<number>((sum, path) => sum + (isObject(path) && typeof path.weight === 'number' ? path.weight : 0), 0);
  const update = (index: number, key: string, value: Json | undefined) =>
    onChange({ ...node, paths: paths.map((path, i) => (i === index && isObject(path) ? withKey(path, key, value) : path)) });
  return (
    <Stack gap={6}>
      <Text size="sm" fw={500}>
        {t('journeys.split.paths')}
      </Text>
      {paths.map((path, index) => {
        const item = isObject(path) ? path : {};
        const weight = typeof item.weight === 'number' ? item.weight : 0;
        return (
          <Group key={index} gap={6} align="flex-end" wrap="nowrap" data-testid="split-path">
            <TextInput
              label={t('journeys.split.name')}
              value={str(item.name)}
              onChange={(event) => update(index, 'name', event.currentTarget.value)}
              maxLength={40}
              style={{ flex: 1 }}
            />
            <NumberInput
              label={total > 0 ? `${t('journeys.split.weight')} · ${Math.round((weight / total) * 100)}%` : t('journeys.split.weight')}
              value={num(item.weight)}
              onChange={(value) => update(index, 'weight', numberOrNothing(value))}
              min={0}
              max={10000}
              allowDecimal={false}
              w={120}
            />
            <ActionIcon
              variant="subtle"
              color="red"
              aria-label={t('journeys.split.remove')}
              onClick={() => onRemovePath(index)}
              disabled={paths.length <= 2}
              mb={4}
            >
              <RemoveIcon />
            </ActionIcon>
          </Group>
        );
      })}
      {error && (
        <Text size="xs" c="red" role="alert">
          {error}
        </Text>
      )}
      <Button
        size="xs"
        variant="light"
        style={{ alignSelf: 'flex-start' }}
        disabled={paths.length >= 10}
        onClick={() => {
          const names = new Set(paths.map((p) => (isObject(p) ? str(p.name) : '')));
          let letter = 0;
          while (names.has(String.fromCharCode(65 + letter))) letter += 1;
          onChange({ ...node, paths: [...paths, { name: String.fromCharCode(65 + letter), weight: 50 }] });
        }}
      >
        {t('journeys.split.add')}
      </Button>
    </Stack>
  );
}

export function NodeForm({
  node,
  problems,
  options,
  targets,
  currentTargets,
  onChange,
  onTarget,
  onRemovePath,
  onDelete,
  editable,
}: {
  node: DefNode;
  problems: PlacedProblem[];
  options: FormOptions;
  /** nodes a way out of this node may lead to */
  targets: TargetOption[];
  currentTargets: Map<string, string>;
  onChange: (node: DefNode) => void;
  onTarget: (handle: string, target: string | null) => void;
  onRemovePath: (index: number) => void;
  onDelete: () => void;
  editable: boolean;
}) {
  const { t } = useTranslation();
  const set = (key: string, value: Json | undefined) => onChange(withKey(node, key, value));
  const error = (field: string) => fieldError(problems, field, t);
  const inline = new Set([...(INLINE_FIELDS[node.type] ?? []), 'label', 'next', 'on_event', 'on_timeout', 'yes', 'no', 'paths']);
  const general = problems.filter((p) => !p.field || !inline.has(p.field));
  const type = node.type;

  let fields = null;
  if (type === 'wait') {
    fields = (
      <DurationInput label={t('journeys.form.duration')} value={str(node.duration)} onChange={(v) => set('duration', v)} error={error('duration')} required testId="field-duration" />
    );
  } else if (type === 'wait_until') {
    const weekdays = Array.isArray(node.weekdays) ? node.weekdays.map(str) : [];
    fields = (
      <>
        <TextInput
          type="time"
          label={t('journeys.form.time')}
          description={t('journeys.form.timeHint')}
          value={str(node.time)}
          onChange={(event) => set('time', event.currentTarget.value)}
          error={error('time')}
          required
        />
        <Checkbox.Group
          label={t('journeys.form.weekdays')}
          description={t('journeys.form.weekdaysHint')}
          value={weekdays}
          onChange={(value) => set('weekdays', value.length ? WEEKDAYS.filter((d) => value.includes(d)) : undefined)}
          error={error('weekdays')}
        >
          <Group gap="xs" mt={4}>
            {WEEKDAYS.map((day) => (
              <Checkbox key={day} value={day} label={t(`journeys.weekdayShort.${day}`)} />
            ))}
          </Group>
        </Checkbox.Group>
      </>
    );
  } else if (type === 'wait_for_event') {
    fields = (
      <>
        <EventInput label={t('journeys.form.event')} value={str(node.event)} onChange={(v) => set('event', v)} suggestions={options.events} error={error('event')} required testId="field-event" />
        <DurationInput label={t('journeys.form.timeout')} value={str(node.timeout)} onChange={(v) => set('timeout', v)} error={error('timeout')} required testId="field-timeout" />
        <FilterEditor value={node.where} onChange={(v) => set('where', v)} error={error('where')} properties={options.properties} />
      </>
    );
  } else if (type === 'branch') {
    fields = <ConditionEditor value={node.condition} onChange={(v) => set('condition', v)} error={error('condition')} segments={options.segments} disabled={!editable} />;
  } else if (type === 'split') {
    fields = <SplitPaths node={node} onChange={onChange} onRemovePath={onRemovePath} error={error('paths')} />;
  } else if (type === 'holdout') {
    fields = (
      <NumberInput
        label={t('journeys.form.holdoutPercent')}
        description={t('journeys.form.holdoutHint')}
        value={num(node.percent)}
        onChange={(v) => set('percent', numberOrNothing(v))}
        min={0.1}
        max={50}
        suffix="%"
        error={error('percent')}
        required
      />
    );
  } else if (type === 'send') {
    const templates = options.templates ?? [];
    const current = str(node.template);
    const templateData = templates.map((tpl) => ({ value: tpl.name, label: `${tpl.name} · ${t(`journeys.category.${tpl.category}`)}` }));
    if (current && !templates.some((tpl) => tpl.name === current || tpl.id === current)) {
      templateData.push({ value: current, label: t('journeys.form.unknownTemplate', { name: current }) });
    }
    const byId = templates.find((tpl) => tpl.id === current);
    const channelNames = Array.isArray(node.channels) ? node.channels.map(str) : [];
    const channelData = (options.channels ?? []).map((c) => ({
      value: c.name,
      label: `${c.name} (${t(`channel.${c.kind}`, { defaultValue: c.kind })})${c.enabled ? '' : ` · ${t('journeys.form.channelOff')}`}`,
    }));
    for (const name of channelNames) if (!channelData.some((c) => c.value === name)) channelData.push({ value: name, label: t('journeys.form.unknownChannel', { name }) });
    const template = templates.find((tpl) => tpl.name === current) ?? byId;
    fields = (
      <>
        <Select
          label={t('journeys.form.template')}
          placeholder={t('journeys.form.templatePlaceholder')}
          value={byId ? byId.name : current || null}
          data={templateData}
          onChange={(value) => set('template', value ?? '')}
          searchable
          clearable
          clearButtonProps={{ 'aria-label': t('journeys.form.clearTemplate') }}
          required
          nothingFoundMessage={t('journeys.form.nothingFound')}
          error={error('template')}
          description={template ? t('journeys.form.templateKinds', { kinds: Object.keys(template.bodies).map((k) => t(`channel.${k}`, { defaultValue: k })).join(', ') }) : undefined}
          data-testid="field-template"
          comboboxProps={{ withinPortal: true }}
        />
        <MultiSelect
          label={t('journeys.form.channels')}
          description={t('journeys.form.channelsHint')}
          value={channelNames}
          data={channelData}
          onChange={(value) => set('channels', value)}
          required
          error={error('channels')}
          data-testid="field-channels"
          comboboxProps={{ withinPortal: true }}
        />
        <NativeSelect
          label={t('journeys.form.category')}
          value={str(node.category)}
          data={[
            { value: '', label: t('journeys.form.categoryDefault') },
            { value: 'marketing', label: t('journeys.category.marketing') },
            { value: 'transactional', label: t('journeys.category.transactional') },
          ]}
          onChange={(event) => set('category', event.currentTarget.value || undefined)}
          error={error('category')}
        />
      </>
    );
  } else if (type === 'update_profile') {
    fields = <KeyValueEditor label={t('journeys.form.traits')} keyLabel={t('journeys.form.trait')} value={node.traits} onChange={(v) => set('traits', v)} error={error('traits')} />;
  } else if (type === 'coupon') {
    const mode = node.amount !== undefined && node.amount !== null && (node.percent === undefined || node.percent === null) ? 'amount' : 'percent';
    fields = (
      <>
        <SegmentedControl
          value={mode}
          onChange={(value) => {
            const other = value === 'amount' ? 'percent' : 'amount';
            const amount = node[other];
            onChange(withKey(withKey(node, other, undefined), value, typeof amount === 'number' ? amount : 10));
          }}
          data={[
            { value: 'percent', label: t('journeys.coupon.percent') },
            { value: 'amount', label: t('journeys.coupon.amount') },
          ]}
          aria-label={t('journeys.coupon.kind')}
          disabled={!editable}
        />
        {mode === 'percent' ? (
          <NumberInput label={t('journeys.coupon.percentOff')} value={num(node.percent)} onChange={(v) => set('percent', numberOrNothing(v))} min={1} max={100} suffix="%" error={error('percent')} required />
        ) : (
          <NumberInput label={t('journeys.coupon.amountOff')} value={num(node.amount)} onChange={(v) => set('amount', numberOrNothing(v))} min={1} prefix="฿" thousandSeparator="," error={error('amount')} required />
        )}
        <TextInput
          label={t('journeys.coupon.prefix')}
          description={t('journeys.coupon.prefixHint')}
          value={str(node.prefix)}
          onChange={(event) => set('prefix', event.currentTarget.value.toUpperCase().replace(/[^A-Z0-9]/g, ''))}
          maxLength={12}
          error={error('prefix')}
        />
        <NumberInput label={t('journeys.coupon.validDays')} value={num(node.valid_days)} onChange={(v) => set('valid_days', numberOrNothing(v))} min={1} max={3650} allowDecimal={false} error={error('valid_days')} />
      </>
    );
  } else if (type === 'task') {
    fields = (
      <>
        <TextInput label={t('journeys.task.team')} description={t('journeys.task.teamHint')} value={str(node.team)} onChange={(event) => set('team', event.currentTarget.value)} maxLength={60} error={error('team')} required />
        <Textarea label={t('journeys.task.title')} value={str(node.title)} onChange={(event) => set('title', event.currentTarget.value)} maxLength={300} autosize minRows={2} error={error('title')} required />
        <TextInput
          label={t('journeys.task.dueIn')}
          description={t('journeys.form.durationOptionalHint')}
          value={str(node.due_in)}
          onChange={(event) => set('due_in', event.currentTarget.value || undefined)}
          error={error('due_in')}
        />
      </>
    );
  } else if (type === 'emit') {
    fields = (
      <>
        <EventInput label={t('journeys.form.emitEvent')} value={str(node.event)} onChange={(v) => set('event', v)} suggestions={options.events} error={error('event')} required testId="field-event" />
        <KeyValueEditor label={t('journeys.form.properties')} keyLabel={t('journeys.form.property')} value={node.properties} onChange={(v) => set('properties', v)} error={error('properties')} />
      </>
    );
  } else if (type === 'exit') {
    fields = (
      <Text size="sm" c="dimmed">
        {t('journeys.form.exitHint')}
      </Text>
    );
  }

  const outputs = outputsOf(node);
  return (
    <Stack gap="sm" data-testid="node-form" data-node-id={node.id}>
      <Group gap="xs" wrap="nowrap">
        <Badge variant="light" color={kindColor(type)} leftSection={<KindIcon kind={type} size={12} />} tt="none" size="lg" radius="sm">
          {t(`journeys.kind.${type}`, { defaultValue: type })}
        </Badge>
        <Code style={{ overflowWrap: 'anywhere' }}>{node.id}</Code>
      </Group>
      <Text size="xs" c="dimmed">
        {t(`journeys.kindHint.${type}`, { defaultValue: '' })}
      </Text>
      {general.length > 0 && (
        <Alert color="red" variant="light" p="xs" data-testid="form-problems">
          {general.map((problem, index) => (
            <Text key={index} size="sm">
              {problemText(problem, t)}
            </Text>
          ))}
        </Alert>
      )}
      <TextInput
        label={t('journeys.form.label')}
        description={t('journeys.form.labelHint')}
        value={str(node.label)}
        onChange={(event) => set('label', event.currentTarget.value || undefined)}
        maxLength={200}
        error={error('label')}
        data-testid="field-label"
      />
      {fields}
      {outputs.length > 0 && (
        <Stack gap={6}>
          <Text size="sm" fw={500}>
            {t('journeys.form.next')}
          </Text>
          {outputs.map((output) => (
            <NativeSelect
              key={output.handle}
              label={outputs.length > 1 ? t('journeys.form.nextOf', { outcome: outputLabel(type, output.outcome, t) }) : t('journeys.form.nextStep')}
              value={currentTargets.get(output.handle) ?? ''}
              data={[{ value: '', label: t('journeys.form.nextNone') }, ...targets]}
              onChange={(event) => onTarget(output.handle, event.currentTarget.value || null)}
              error={error(output.handle.startsWith('paths.') ? 'paths' : output.handle)}
              data-testid={`next-${output.handle}`}
            />
          ))}
        </Stack>
      )}
      {editable && (
        <Button color="red" variant="subtle" onClick={onDelete} style={{ alignSelf: 'flex-start' }} data-testid="node-delete">
          {t('journeys.form.delete')}
        </Button>
      )}
    </Stack>
  );
}
