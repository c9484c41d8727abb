/** What starts a run, and the journey's rules: re-entry, entry limit, goal, exits, migration. */
import {
  Alert,
  Badge,
  Divider,
  Group,
  NativeSelect,
  NumberInput,
  Select,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
} from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { Json } from '../../api';
import { EventInput, FilterEditor } from './fields';
import { ENTRY_TYPES, type Definition, type JsonObject, type PlacedProblem } from './graph';
import { KindIcon } from './kinds';
import { numberOrNothing, withKey, WEEKDAYS, type FormOptions, type TargetOption } from './NodeForm';
import { fieldError, problemText } from './problems';

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: Json | undefined): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

function num(value: Json | undefined): number | string {
  return typeof value === 'number' ? value : '';
}

const COMPUTED = ['last_order_at', 'first_seen_at', 'last_seen_at'];

/** Paths the form shows problems next to; others go above it. */
const INLINE = [
  'entry.type',
  'entry.event',
  'entry.where',
  'entry.entry_key',
  'entry.segment',
  'entry.trait',
  'entry.days_before',
  'entry.computed',
  'entry.days_after',
  'entry.at',
  'entry.every',
  'entry.weekday',
  'entry.day',
  'start',
  'reentry.policy',
  'reentry.days',
  'max_entries',
  'goal.event',
  'goal.window_days',
  'goal.revenue_property',
  'goal.where',
  'exit.segment_left',
  'exit.events',
];

function newEntry(type: string): JsonObject {
  switch (type) {
    case 'segment':
      return { type, segment: '' };
    case 'date':
      return { type, trait: 'birthday', at: '09:00', days_before: 0 };
    case 'schedule':
      return { type, segment: '', every: 'week', weekday: 'mon', at: '09:00' };
    default:
      return { type: 'event', event: '' };
  }
}

export function EntryForm({
  base,
  onChange,
  problems,
  options,
  targets,
  start,
  onStart,
}: {
  base: Definition;
  onChange: (base: Definition) => void;
  problems: PlacedProblem[];
  options: FormOptions;
  targets: TargetOption[];
  start: string | null;
  onStart: (target: string | null) => void;
}) {
  const { t } = useTranslation();
  const error = (field: string) => fieldError(problems, field, t);
  const entry = isObject(base.entry) ? base.entry : {};
  const type = str(entry.type) || 'event';
  const setEntry = (key: string, value: Json | undefined) => onChange(withKey(base, 'entry', withKey(entry, key, value)));
  const segments = (options.segments ?? []).map((s) => ({ value: s.id, label: s.name }));
  const segmentData = (id: string) => (id && !segments.some((s) => s.value === id) ? [...segments, { value: id, label: id }] : segments);
  const reentry = isObject(base.reentry) ? base.reentry : null;
  const policy = reentry ? str(reentry.policy) || 'never' : 'never';
  const goal = isObject(base.goal) ? base.goal : null;
  const setGoal = (key: string, value: Json | undefined) => goal && onChange(withKey(base, 'goal', withKey(goal, key, value)));
  const exit = isObject(base.exit) ? base.exit : null;
  const setExit = (key: string, value: Json | undefined) => onChange(withKey(base, 'exit', withKey(exit ?? {}, key, value)));
  const dateMode = entry.computed !== undefined && entry.computed !== null ? 'computed' : 'trait';
  const general = problems.filter((p) => !INLINE.some((f) => p.field === f || p.field?.startsWith(`${f}.`) || p.field?.startsWith(`${f}[`)));

  let entryFields = null;
  if (type === 'event') {
    entryFields = (
      <>
        <EventInput label={t('journeys.entry.event')} value={str(entry.event)} onChange={(v) => setEntry('event', v)} suggestions={options.events} error={error('entry.event')} required testId="entry-event" />
        <FilterEditor value={entry.where} onChange={(v) => setEntry('where', v)} error={error('entry.where')} properties={options.properties} />
        <TextInput
          label={t('journeys.entry.entryKey')}
          description={t('journeys.entry.entryKeyHint')}
          value={str(entry.entry_key)}
          onChange={(event) => setEntry('entry_key', event.currentTarget.value || undefined)}
          maxLength={200}
          error={error('entry.entry_key')}
        />
      </>
    );
  } else if (type === 'segment') {
    entryFields = (
      <Select
        label={t('journeys.entry.segment')}
        description={t('journeys.entry.segmentHint')}
        value={str(entry.segment) || null}
        data={segmentData(str(entry.segment))}
        onChange={(v) => setEntry('segment', v ?? '')}
        searchable
        required
        error={error('entry.segment')}
        nothingFoundMessage={t('journeys.form.nothingFound')}
        comboboxProps={{ withinPortal: true }}
      />
    );
  } else if (type === 'date') {
    entryFields = (
      <>
        <NativeSelect
          label={t('journeys.entry.dateMode')}
          value={dateMode}
          data={[
            { value: 'trait', label: t('journeys.entry.dateTrait') },
            { value: 'computed', label: t('journeys.entry.dateComputed') },
          ]}
          onChange={(event) => {
            const at = str(entry.at) || '09:00';
            onChange(
              withKey(
                base,
                'entry',
                event.currentTarget.value === 'computed'
                  ? { type: 'date', computed: 'last_order_at', days_after: 30, at }
                  : { type: 'date', trait: 'birthday', at, days_before: 0 },
              ),
            );
          }}
        />
        {dateMode === 'trait' ? (
          <>
            <TextInput label={t('journeys.entry.trait')} description={t('journeys.entry.traitHint')} value={str(entry.trait)} onChange={(e) => setEntry('trait', e.currentTarget.value)} error={error('entry.trait')} required />
            <NumberInput label={t('journeys.entry.daysBefore')} value={num(entry.days_before)} onChange={(v) => setEntry('days_before', numberOrNothing(v))} min={0} max={60} allowDecimal={false} error={error('entry.days_before')} />
          </>
        ) : (
          <>
            <NativeSelect
              label={t('journeys.entry.computed')}
              value={str(entry.computed)}
              data={COMPUTED.map((c) => ({ value: c, label: t(`journeys.computed.${c}`) }))}
              onChange={(e) => setEntry('computed', e.currentTarget.value)}
              error={error('entry.computed')}
            />
            <NumberInput label={t('journeys.entry.daysAfter')} value={num(entry.days_after)} onChange={(v) => setEntry('days_after', numberOrNothing(v))} min={1} max={3650} allowDecimal={false} error={error('entry.days_after')} required />
          </>
        )}
        <TextInput type="time" label={t('journeys.entry.at')} value={str(entry.at)} onChange={(e) => setEntry('at', e.currentTarget.value || undefined)} error={error('entry.at')} />
      </>
    );
  } else if (type === 'schedule') {
    const every = str(entry.every) || 'day';
    entryFields = (
      <>
        <Select
          label={t('journeys.entry.segment')}
          value={str(entry.segment) || null}
          data={segmentData(str(entry.segment))}
          onChange={(v) => setEntry('segment', v ?? '')}
          searchable
          required
          error={error('entry.segment')}
          nothingFoundMessage={t('journeys.form.nothingFound')}
          comboboxProps={{ withinPortal: true }}
        />
        <NativeSelect
          label={t('journeys.entry.every')}
          value={every}
          data={['day', 'week', 'month'].map((e) => ({ value: e, label: t(`journeys.every.${e}`) }))}
          onChange={(event) => {
            const next = event.currentTarget.value;
            let updated = withKey(withKey(entry, 'every', next), 'weekday', undefined);
            updated = withKey(updated, 'day', undefined);
            if (next === 'week') updated = withKey(updated, 'weekday', 'mon');
            if (next === 'month') updated = withKey(updated, 'day', 1);
            onChange(withKey(base, 'entry', updated));
          }}
          error={error('entry.every')}
        />
        {every === 'week' && (
          <NativeSelect
            label={t('journeys.entry.weekday')}
            value={str(entry.weekday) || 'mon'}
            data={WEEKDAYS.map((d) => ({ value: d, label: t(`journeys.weekday.${d}`) }))}
            onChange={(e) => setEntry('weekday', e.currentTarget.value)}
            error={error('entry.weekday')}
          />
        )}
        {every === 'month' && (
          <NumberInput label={t('journeys.entry.day')} value={num(entry.day)} onChange={(v) => setEntry('day', numberOrNothing(v))} min={1} max={28} allowDecimal={false} error={error('entry.day')} />
        )}
        <TextInput type="time" label={t('journeys.entry.at')} value={str(entry.at)} onChange={(e) => setEntry('at', e.currentTarget.value || undefined)} error={error('entry.at')} />
      </>
    );
  }

  return (
    <Stack gap="sm" data-testid="entry-form">
      <Group gap="xs">
        <Badge variant="light" color="teal" leftSection={<KindIcon kind="entry" size={12} />} tt="none" size="lg" radius="sm">
          {t('journeys.kind.entry')}
        </Badge>
      </Group>
      {general.length > 0 && (
        <Alert color="red" variant="light" p="xs" data-testid="form-problems">
          {general.map((problem, index) => (
            <Text key={index} size="sm">
              {problemText(problem, t)}
            </Text>
          ))}
        </Alert>
      )}
      <NativeSelect
        label={t('journeys.entry.type')}
        value={type}
        data={ENTRY_TYPES.map((e) => ({ value: e, label: t(`journeys.entryType.${e}`) }))}
        onChange={(event) => onChange(withKey(base, 'entry', newEntry(event.currentTarget.value)))}
        error={error('entry.type')}
        data-testid="entry-type"
      />
      {entryFields}
      <NativeSelect
        label={t('journeys.entry.first')}
        value={start ?? ''}
        data={[{ value: '', label: t('journeys.form.nextNone') }, ...targets]}
        onChange={(event) => onStart(event.currentTarget.value || null)}
        error={error('start')}
        data-testid="next-start"
      />

      <Divider label={t('journeys.entry.rules')} labelPosition="left" />
      <NativeSelect
        label={t('journeys.entry.reentry')}
        value={policy}
        data={['never', 'after', 'always'].map((p) => ({ value: p, label: t(`journeys.reentry.${p}`) }))}
        onChange={(event) => {
          const next = event.currentTarget.value;
          if (next === 'never' && !reentry) return;
          onChange(withKey(base, 'reentry', next === 'after' ? { policy: next, days: 30 } : { policy: next }));
        }}
        error={error('reentry.policy')}
        description={isObject(entry) && entry.entry_key ? t('journeys.entry.reentryKeyHint') : undefined}
      />
      {policy === 'after' && reentry && (
        <NumberInput
          label={t('journeys.entry.reentryDays')}
          value={num(reentry.days)}
          onChange={(v) => onChange(withKey(base, 'reentry', withKey(reentry, 'days', numberOrNothing(v))))}
          min={1}
          max={3650}
          allowDecimal={false}
          error={error('reentry.days')}
          required
        />
      )}
      <NumberInput
        label={t('journeys.entry.maxEntries')}
        description={t('journeys.entry.maxEntriesHint')}
        value={num(base.max_entries)}
        onChange={(v) => onChange(withKey(base, 'max_entries', numberOrNothing(v) ?? (base.max_entries === null ? null : undefined)))}
        min={1}
        allowDecimal={false}
        error={error('max_entries')}
      />

      <Divider label={t('journeys.goal.title')} labelPosition="left" />
      <Switch
        label={t('journeys.goal.enabled')}
        checked={goal !== null}
        onChange={(event) =>
          onChange(withKey(base, 'goal', event.currentTarget.checked ? { event: 'Order Completed', window_days: 7, exit: true } : base.goal === null ? null : undefined))
        }
        data-testid="goal-enabled"
      />
      {goal && (
        <>
          <EventInput label={t('journeys.goal.event')} value={str(goal.event)} onChange={(v) => setGoal('event', v)} suggestions={options.events} error={error('goal.event')} required />
          <NumberInput label={t('journeys.goal.window')} value={num(goal.window_days)} onChange={(v) => setGoal('window_days', numberOrNothing(v))} min={1} max={365} allowDecimal={false} error={error('goal.window_days')} />
          <Switch label={t('journeys.goal.exit')} checked={goal.exit !== false} onChange={(event) => setGoal('exit', event.currentTarget.checked)} />
          <TextInput
            label={t('journeys.goal.revenue')}
            description={t('journeys.goal.revenueHint')}
            value={str(goal.revenue_property)}
            placeholder="revenue"
            onChange={(e) => setGoal('revenue_property', e.currentTarget.value || undefined)}
            error={error('goal.revenue_property')}
          />
          <FilterEditor value={goal.where} onChange={(v) => setGoal('where', v)} error={error('goal.where')} properties={options.properties} />
        </>
      )}

      <Divider label={t('journeys.exit.title')} labelPosition="left" />
      <Select
        label={t('journeys.exit.segmentLeft')}
        description={t('journeys.exit.segmentLeftHint')}
        value={exit && typeof exit.segment_left === 'string' ? exit.segment_left : null}
        data={segmentData(exit ? str(exit.segment_left) : '')}
        onChange={(v) => setExit('segment_left', v ?? (exit && exit.segment_left === null ? null : undefined))}
        clearable
        searchable
        error={error('exit.segment_left')}
        comboboxProps={{ withinPortal: true }}
      />
      <TagsInput
        label={t('journeys.exit.events')}
        description={t('journeys.exit.eventsHint')}
        value={exit && Array.isArray(exit.events) ? exit.events.map(str) : []}
        data={options.events}
        onChange={(value) => setExit('events', value.length || (exit && Array.isArray(exit.events)) ? value : undefined)}
        maxTags={20}
        error={error('exit.events')}
        comboboxProps={{ withinPortal: true }}
      />
      <Switch
        label={t('journeys.entry.migrate')}
        description={t('journeys.entry.migrateHint')}
        checked={base.migrate_runs === true}
        onChange={(event) => onChange(withKey(base, 'migrate_runs', event.currentTarget.checked ? true : base.migrate_runs === false ? false : undefined))}
      />
    </Stack>
  );
}
