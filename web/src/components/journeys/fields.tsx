/** Inputs the node and entry forms share: property filters, key/value lists, events, durations. */
import { ActionIcon, Autocomplete, Button, Group, NativeSelect, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Json } from '../../api';
import type { JsonObject } from './graph';

/** Event names worth suggesting even before the workspace has seen them. */
export const COMMON_EVENTS = [
  'Product Viewed',
  'Product Added',
  'Checkout Started',
  'Order Completed',
  'Order Shipped',
  'Order Delivered',
  'Order Refunded',
  'Signed Up',
  'Hotel Checked Out',
  'Hotel Booked',
];

export const FILTER_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'not_in', 'contains', 'exists'] as const;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A typed value from what was typed: numbers and true/false/null as such, else the text. */
export function parseValue(text: string): Json {
  const trimmed = text.trim();
  if (trimmed === 'true') return true;
  if (trimmed === 'false') return false;
  if (trimmed === 'null') return null;
  if (trimmed !== '' && String(Number(trimmed)) === trimmed) return Number(trimmed);
  return text;
}

/** A value as it is typed back: text as it is, anything else as JSON. */
export function showValue(value: Json | undefined): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function RemoveIcon() {
  return (
    <svg width={14} height={14} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" aria-hidden="true">
      <path d="M6 6l12 12M18 6L6 18" />
    </svg>
  );
}

/** A text box for an event name, suggesting the names the workspace and playbooks know. */
export function EventInput({
  label,
  value,
  onChange,
  suggestions,
  error,
  testId,
  required,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  suggestions: string[];
  error?: string;
  testId?: string;
  required?: boolean;
}) {
  const { t } = useTranslation();
  return (
    <Autocomplete
      label={label}
      value={value}
      onChange={onChange}
      data={suggestions}
      error={error}
      required={required}
      description={t('journeys.form.eventHint')}
      limit={30}
      maxLength={200}
      data-testid={testId}
      comboboxProps={{ withinPortal: true }}
    />
  );
}

/** A duration such as 30m, 1h, 3d or 1d12h. */
export function DurationInput({
  label,
  value,
  onChange,
  error,
  testId,
  required,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string;
  testId?: string;
  required?: boolean;
}) {
  const { t } = useTranslation();
  return (
    <TextInput
      label={label}
      value={value}
      onChange={(event) => onChange(event.currentTarget.value)}
      description={t('journeys.form.durationHint')}
      error={error}
      required={required}
      maxLength={40}
      data-testid={testId}
    />
  );
}

/** `where`: tests on an event's top-level properties, all of which must pass. */
export function FilterEditor({
  value,
  onChange,
  error,
  properties,
}: {
  value: Json | undefined;
  onChange: (value: Json[] | undefined) => void;
  error?: string;
  properties: string[];
}) {
  const { t } = useTranslation();
  const rows = Array.isArray(value) ? value : [];
  const update = (index: number, patch: JsonObject) =>
    onChange(rows.map((row, i) => (i === index && isObject(row) ? { ...row, ...patch } : row)));
  return (
    <Stack gap={6}>
      <Text size="sm" fw={500}>
        {t('journeys.form.where')}
      </Text>
      {rows.length === 0 && (
        <Text size="xs" c="dimmed">
          {t('journeys.form.whereNone')}
        </Text>
      )}
      {rows.map((row, index) => {
        const filter = isObject(row) ? row : {};
        const op = typeof filter.op === 'string' ? filter.op : 'eq';
        const list = op === 'in' || op === 'not_in';
        return (
          <Group key={index} gap={6} align="flex-end" wrap="wrap" data-testid="filter-row">
            <Autocomplete
              label={t('journeys.form.property')}
              value={typeof filter.property === 'string' ? filter.property : ''}
              data={properties}
              onChange={(property) => update(index, { property })}
              w={130}
              comboboxProps={{ withinPortal: true }}
            />
            <NativeSelect
              label={t('journeys.form.op')}
              value={op}
              data={FILTER_OPS.map((o) => ({ value: o, label: t(`journeys.op.${o}`) }))}
              onChange={(event) => {
                const next = event.currentTarget.value;
                const patch: JsonObject = { op: next };
                if (next === 'exists') patch.value = true;
                else if ((next === 'in' || next === 'not_in') && !Array.isArray(filter.value)) patch.value = filter.value === undefined || filter.value === null ? [] : [filter.value];
                else if (!(next === 'in' || next === 'not_in') && Array.isArray(filter.value)) patch.value = filter.value[0] ?? '';
                update(index, patch);
              }}
              w={130}
            />
            {op === 'exists' ? (
              <NativeSelect
                label={t('journeys.form.value')}
                value={filter.value === false ? 'false' : 'true'}
                data={[
                  { value: 'true', label: t('journeys.form.present') },
                  { value: 'false', label: t('journeys.form.absent') },
                ]}
                onChange={(event) => update(index, { value: event.currentTarget.value === 'true' })}
                w={120}
              />
            ) : (
              <TextInput
                label={list ? t('journeys.form.values') : t('journeys.form.value')}
                value={list && Array.isArray(filter.value) ? filter.value.map(showValue).join(', ') : showValue(filter.value)}
                onChange={(event) => {
                  const text = event.currentTarget.value;
                  update(index, {
                    value: list
                      ? text
                          .split(',')
                          .map((part) => part.trim())
                          .filter((part, i, parts) => part !== '' || i === parts.length - 1)
                          .map(parseValue)
                      : parseValue(text),
                  });
                }}
                w={140}
              />
            )}
            <ActionIcon
              variant="subtle"
              color="red"
              aria-label={t('journeys.form.removeFilter')}
              onClick={() => {
                const next = rows.filter((_, i) => i !== index);
                onChange(next.length ? next : undefined);
              }}
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
        variant="light"
        size="xs"
        onClick={() => onChange([...rows, { property: '', op: 'eq', value: '' }])}
        style={{ alignSelf: 'flex-start' }}
        data-testid="filter-add"
      >
        {t('journeys.form.addFilter')}
      </Button>
    </Stack>
  );
}

/** Traits to set or an event's properties: names and values (numbers and true/false typed). */
export function KeyValueEditor({
  label,
  value,
  onChange,
  error,
  keyLabel,
}: {
  label: string;
  value: Json | undefined;
  onChange: (value: JsonObject) => void;
  error?: string;
  keyLabel: string;
}) {
  const { t } = useTranslation();
  const [rows, setRows] = useState<[string, string][]>(() =>
    isObject(value) ? Object.entries(value).map(([k, v]) => [k, showValue(v)]) : [],
  );
  const write = (next: [string, string][]) => {
    setRows(next);
    const object: JsonObject = {};
    for (const [k, v] of next) if (k.trim()) object[k.trim()] = parseValue(v);
    onChange(object);
  };
  return (
    <Stack gap={6}>
      <Text size="sm" fw={500}>
        {label}
      </Text>
      {rows.map(([k, v], index) => (
        <Group key={index} gap={6} align="flex-end" wrap="nowrap" data-testid="kv-row">
          <TextInput
            label={keyLabel}
            value={k}
            onChange={(event) => write(rows.map((row, i) => (i === index ? [event.currentTarget.value, row[1]] : row)))}
            style={{ flex: 1 }}
            maxLength={200}
          />
          <TextInput
            label={t('journeys.form.value')}
            value={v}
            onChange={(event) => write(rows.map((row, i) => (i === index ? [row[0], event.currentTarget.value] : row)))}
            style={{ flex: 1 }}
          />
          <ActionIcon variant="subtle" color="red" aria-label={t('journeys.form.removeRow')} onClick={() => write(rows.filter((_, i) => i !== index))} mb={4}>
            <RemoveIcon />
          </ActionIcon>
        </Group>
      ))}
      <Text size="xs" c="dimmed">
        {t('journeys.form.valueHint')}
      </Text>
      {error && (
        <Text size="xs" c="red" role="alert">
          {error}
        </Text>
      )}
      <Button variant="light" size="xs" onClick={() => setRows([...rows, ['', '']])} style={{ alignSelf: 'flex-start' }}>
        {t('journeys.form.addRow')}
      </Button>
    </Stack>
  );
}
