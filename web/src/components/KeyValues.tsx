import { Table, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Json } from '../api';
import { formatDateTime, isIsoMoment } from '../format';

/** A trait value as text: objects as "key: value" pairs, ISO moments as local dates. */
export function JsonText({ value }: { value: Json | undefined }): ReactNode {
  const { t, i18n } = useTranslation();
  if (value === null || value === undefined || value === '') return <Text span c="dimmed">–</Text>;
  if (typeof value === 'boolean') return value ? t('common.yes') : t('common.no');
  if (typeof value === 'number') return new Intl.NumberFormat(i18n.language === 'th' ? 'th-TH' : 'en-GB').format(value);
  if (typeof value === 'string') return isIsoMoment(value) ? formatDateTime(value, i18n.language) : value;
  if (Array.isArray(value)) {
    if (value.length === 0) return <Text span c="dimmed">–</Text>;
    return value.map((item) => (typeof item === 'object' ? JSON.stringify(item) : String(item))).join(', ');
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return <Text span c="dimmed">–</Text>;
  return entries
    .map(([key, item]) => `${key}: ${typeof item === 'object' && item !== null ? JSON.stringify(item) : String(item)}`)
    .join(' · ');
}

export interface Row {
  key: string;
  label: ReactNode;
  value: ReactNode;
}

/** Label/value rows of a panel; wraps long values instead of widening the page. */
export function KeyValues({ rows, testId }: { rows: Row[]; testId?: string }) {
  return (
    <Table verticalSpacing={6} horizontalSpacing="xs" layout="fixed" data-testid={testId}>
      <Table.Tbody>
        {rows.map((row) => (
          <Table.Tr key={row.key} data-key={row.key}>
            <Table.Th scope="row" w="42%" fw={500} c="dimmed" fz="sm" style={{ verticalAlign: 'top' }}>
              {row.label}
            </Table.Th>
            <Table.Td fz="sm" style={{ overflowWrap: 'anywhere' }}>
              {row.value}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
