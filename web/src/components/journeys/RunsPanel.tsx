/** The journey's latest runs; one chosen shows its path on the canvas and step by step. */
import { Anchor, Badge, Button, Group, NativeSelect, Stack, Table, Text, Timeline } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { apiFetch, withQuery } from '../../api';
import { formatDateTime } from '../../format';
import type { RunOut } from '../../pages/journeys/types';
import { useApi } from '../../useApi';
import { ApiView, ErrorNotice } from '../states';
import { STATUS_COLORS } from './SimulationPanel';

const STATUSES = ['', 'active', 'completed', 'exited', 'held_out', 'failed'];

export function RunsPanel({
  journeyId,
  nodeName,
  onPath,
}: {
  journeyId: string;
  nodeName: (id: string) => string;
  onPath: (run: RunOut | null) => void;
}) {
  const { t, i18n } = useTranslation();
  const [status, setStatus] = useState('');
  const runs = useApi<RunOut[]>(withQuery(`/api/journeys/${encodeURIComponent(journeyId)}/runs`, { status, limit: 20 }), 10_000);
  const [chosen, setChosen] = useState<RunOut | null>(null);
  const [error, setError] = useState<Error | null>(null);

  async function open(run: RunOut) {
    setError(null);
    try {
      const full = await apiFetch<RunOut>(`/api/journeys/runs/${encodeURIComponent(run.id)}`);
      setChosen(full);
      onPath(full);
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  }

  return (
    <Stack gap="sm" data-testid="runs">
      <Group justify="space-between" align="flex-end">
        <NativeSelect
          label={t('journeys.runs.status')}
          value={status}
          onChange={(e) => setStatus(e.currentTarget.value)}
          data={STATUSES.map((s) => ({ value: s, label: s ? t(`journeys.runStatus.${s}`) : t('journeys.runs.all') }))}
          w={200}
        />
        {chosen && (
          <Button
            variant="subtle"
            onClick={() => {
              setChosen(null);
              onPath(null);
            }}
          >
            {t('journeys.sim.clear')}
          </Button>
        )}
      </Group>
      <ApiView state={runs} isEmpty={(data) => data.length === 0} empty={t('journeys.runs.none')}>
        {(data) => (
          <Table.ScrollContainer minWidth={520}>
            <Table striped highlightOnHover verticalSpacing={4} fz="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('journeys.runs.entered')}</Table.Th>
                  <Table.Th>{t('journeys.runs.status')}</Table.Th>
                  <Table.Th>{t('journeys.runs.at')}</Table.Th>
                  <Table.Th>{t('journeys.runs.person')}</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.map((run) => (
                  <Table.Tr key={run.id} data-testid="run-row" data-run-id={run.id} bg={chosen?.id === run.id ? 'teal.0' : undefined}>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(run.entered_at, i18n.language)}</Table.Td>
                    <Table.Td>
                      <Badge color={STATUS_COLORS[run.status] ?? 'gray'} variant="light" tt="none">
                        {t(`journeys.runStatus.${run.status}`)}
                        {run.waiting ? ` · ${t('journeys.runs.waiting')}` : ''}
                      </Badge>
                    </Table.Td>
                    <Table.Td>{run.node_id ? nodeName(run.node_id) : '–'}</Table.Td>
                    <Table.Td>
                      <Anchor component={Link} to={`/customers/${encodeURIComponent(run.profile_id)}`} size="sm">
                        {t('journeys.runs.profile')}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Button size="compact-xs" variant="light" onClick={() => void open(run)} data-testid="run-open">
                        {t('journeys.runs.showPath')}
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </ApiView>
      {error && <ErrorNotice error={error} />}
      {chosen && (
        <Stack gap={4} data-testid="run-path">
          <Text size="sm" fw={600}>
            {t('journeys.runs.path')}
            {chosen.reason ? ` · ${chosen.reason}` : ''}
          </Text>
          <Timeline bulletSize={12} lineWidth={2} active={chosen.steps.length - 1} color="teal">
            {chosen.steps.map((step, index) => (
              <Timeline.Item key={index} title={nodeName(step.node_id)}>
                <Text size="xs" c="dimmed">
                  {formatDateTime(step.at, i18n.language)} · {t(`journeys.outcome.${step.outcome}`, { defaultValue: step.outcome })}
                  {step.detail ? ` · ${step.detail}` : ''}
                </Text>
              </Timeline.Item>
            ))}
          </Timeline>
        </Stack>
      )}
    </Stack>
  );
}
