import { Badge, Button, Code, Group, Paper, Stack, Table, Text, TextInput } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { withQuery } from '../../api';
import { ApiView, Panel } from '../../components/states';
import { formatDateTime } from '../../format';
import { useApi } from '../../useApi';
import type { AuditEntry, AuditPage as Page } from './types';

const PAGE_SIZE = 25;

interface Filters {
  action: string;
  actor_id: string;
  subject_id: string;
}

const EMPTY: Filters = { action: '', actor_id: '', subject_id: '' };

function Detail({ entry }: { entry: AuditEntry }) {
  const entries = Object.entries(entry.detail);
  if (entries.length === 0) return <Text size="sm" c="dimmed">–</Text>;
  return (
    <Stack gap={0} maw={420}>
      {entries.map(([key, value]) => (
        <Text key={key} size="xs" style={{ overflowWrap: 'anywhere' }}>
          <Text span size="xs" c="dimmed">
            {key}:
          </Text>{' '}
          {typeof value === 'string' ? value : JSON.stringify(value)}
        </Text>
      ))}
    </Stack>
  );
}

/** `/settings/audit`: who saw, changed or erased what, newest first, a page at a time. */
export default function AuditPage() {
  const { t, i18n } = useTranslation();
  const phone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false });
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  // Cursors of the pages seen so far: the last one is the page shown.
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const page = useApi<Page>(withQuery('/api/audit', { ...filters, limit: PAGE_SIZE, cursor }));

  function apply(event: FormEvent) {
    event.preventDefault();
    setFilters({ action: draft.action.trim(), actor_id: draft.actor_id.trim(), subject_id: draft.subject_id.trim() });
    setCursors([null]);
  }

  const actor = (entry: AuditEntry) => (
    <>
      <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
        {t(`settings.audit.actorKind.${entry.actor_kind}`, { defaultValue: entry.actor_kind })}
        {entry.actor_role ? ` · ${t(`role.${entry.actor_role}`, { defaultValue: entry.actor_role })}` : ''}
      </Text>
      <Text size="xs" c="dimmed" ff="monospace" style={{ overflowWrap: 'anywhere' }}>
        {entry.actor_id}
      </Text>
    </>
  );
  const subject = (entry: AuditEntry) => (
    <>
      <Text size="sm">{entry.subject_type}</Text>
      {entry.subject_id && (
        <Text size="xs" c="dimmed" ff="monospace" style={{ overflowWrap: 'anywhere' }}>
          {entry.subject_id}
        </Text>
      )}
    </>
  );

  return (
    <Panel title={t('settings.audit.title')} testId="audit-panel">
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          {t('settings.audit.intro')}
        </Text>
        <form onSubmit={apply}>
          <Group gap="sm" align="flex-end" wrap="wrap">
            <TextInput
              label={t('settings.audit.action')}
              description={t('settings.audit.actionHint')}
              placeholder="login.*"
              value={draft.action}
              onChange={(event) => setDraft({ ...draft, action: event.currentTarget.value })}
              style={{ flex: '1 1 180px' }}
              data-testid="audit-action"
            />
            <TextInput
              label={t('settings.audit.actor')}
              placeholder="usr_…"
              value={draft.actor_id}
              onChange={(event) => setDraft({ ...draft, actor_id: event.currentTarget.value })}
              style={{ flex: '1 1 180px' }}
              data-testid="audit-actor"
            />
            <TextInput
              label={t('settings.audit.subject')}
              placeholder="prf_…"
              value={draft.subject_id}
              onChange={(event) => setDraft({ ...draft, subject_id: event.currentTarget.value })}
              style={{ flex: '1 1 180px' }}
              data-testid="audit-subject"
            />
            <Button type="submit" data-testid="audit-apply">
              {t('settings.audit.filter')}
            </Button>
          </Group>
        </form>
        <ApiView state={page} isEmpty={(data) => data.items.length === 0} empty={t('settings.audit.none')}>
          {(data) => (
            <Stack gap="sm">
              {phone ? (
                <Stack gap="xs">
                  {data.items.map((entry) => (
                    <Paper key={entry.id} withBorder p="sm" data-testid="audit-row" data-action={entry.action}>
                      <Group justify="space-between" wrap="nowrap" align="flex-start">
                        <Badge variant="light" tt="none" style={{ flexShrink: 1, minWidth: 0 }}>
                          {entry.action}
                        </Badge>
                        <Text size="xs" c="dimmed">
                          {formatDateTime(entry.at, i18n.language)}
                        </Text>
                      </Group>
                      <div style={{ marginTop: 6 }}>{actor(entry)}</div>
                      <div style={{ marginTop: 4 }}>{subject(entry)}</div>
                    </Paper>
                  ))}
                </Stack>
              ) : (
                <Table.ScrollContainer minWidth={900}>
                  <Table verticalSpacing="xs" striped>
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th scope="col">{t('settings.audit.at')}</Table.Th>
                        <Table.Th scope="col">{t('settings.audit.action')}</Table.Th>
                        <Table.Th scope="col">{t('settings.audit.actor')}</Table.Th>
                        <Table.Th scope="col">{t('settings.audit.subject')}</Table.Th>
                        <Table.Th scope="col">{t('settings.audit.detail')}</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {data.items.map((entry) => (
                        <Table.Tr key={entry.id} data-testid="audit-row" data-action={entry.action}>
                          <Table.Td>
                            <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                              {formatDateTime(entry.at, i18n.language)}
                            </Text>
                          </Table.Td>
                          <Table.Td>
                            <Code>{entry.action}</Code>
                          </Table.Td>
                          <Table.Td>{actor(entry)}</Table.Td>
                          <Table.Td>{subject(entry)}</Table.Td>
                          <Table.Td>
                            <Detail entry={entry} />
                          </Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )}
              <Group justify="space-between">
                <Button
                  variant="default"
                  size="compact-sm"
                  disabled={cursors.length <= 1}
                  onClick={() => setCursors((list) => list.slice(0, -1))}
                  data-testid="audit-newer"
                >
                  {t('settings.audit.newer')}
                </Button>
                <Text size="xs" c="dimmed">
                  {t('settings.audit.page', { page: cursors.length })}
                </Text>
                <Button
                  variant="default"
                  size="compact-sm"
                  disabled={!data.next_cursor}
                  onClick={() => data.next_cursor && setCursors((list) => [...list, data.next_cursor])}
                  data-testid="audit-older"
                >
                  {t('settings.audit.older')}
                </Button>
              </Group>
            </Stack>
          )}
        </ApiView>
      </Stack>
    </Panel>
  );
}
