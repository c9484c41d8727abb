import { Alert, Button, Code, Group, Stack, Table, Text } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { apiFetch } from '../../api';
import { ConfirmModal } from '../../components/settings/common';
import { ApiView, Empty, Panel } from '../../components/states';
import { formatDateTime, formatNumber } from '../../format';
import { useApi } from '../../useApi';
import type { RetentionReport, RetentionRun } from './types';

function Removed({ run }: { run: RetentionRun }) {
  const { t, i18n } = useTranslation();
  const entries = Object.entries(run.removed).filter(([, count]) => count > 0);
  if (entries.length === 0) return <Text size="sm" c="dimmed">{t('settings.retention.nothingRemoved')}</Text>;
  return (
    <Stack gap={2}>
      {entries.map(([name, count]) => (
        <Text key={name} size="sm">
          {t(`settings.retention.className.${name}`, { defaultValue: name })}: {formatNumber(count, i18n.language)}
        </Text>
      ))}
    </Stack>
  );
}

/** `/settings/retention`: how long each class of data is kept, and the latest runs. */
export default function RetentionPage() {
  const { t, i18n } = useTranslation();
  const report = useApi<RetentionReport>('/api/privacy/retention');
  const [confirming, setConfirming] = useState(false);
  const [ran, setRan] = useState<RetentionRun | null>(null);
  const period = (days: number) => {
    if (days === 0) return t('settings.retention.keep');
    const years = days / 365;
    return Number.isInteger(years)
      ? t('settings.retention.daysYears', { count: days, days: formatNumber(days, i18n.language), years })
      : t('settings.retention.days', { count: days, days: formatNumber(days, i18n.language) });
  };
  return (
    <Stack gap="md">
      <Panel
        title={t('settings.retention.title')}
        testId="retention-panel"
        actions={
          <Button size="compact-sm" variant="light" color="red" onClick={() => setConfirming(true)} data-testid="retention-run">
            {t('settings.retention.runNow')}
          </Button>
        }
      >
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            {t('settings.retention.intro')}
          </Text>
          <ApiView state={report} isEmpty={(data) => data.rules.length === 0} empty={t('settings.retention.none')}>
            {(data) => (
              <Table.ScrollContainer minWidth={560}>
                <Table verticalSpacing="sm">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th scope="col">{t('settings.retention.class')}</Table.Th>
                      <Table.Th scope="col">{t('settings.retention.what')}</Table.Th>
                      <Table.Th scope="col">{t('settings.retention.period')}</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {data.rules.map((rule) => (
                      <Table.Tr key={rule.name} data-testid="retention-rule" data-name={rule.name} data-days={rule.days}>
                        <Table.Td>
                          <Text size="sm" fw={600}>
                            {t(`settings.retention.className.${rule.name}`, { defaultValue: rule.name })}
                          </Text>
                          <Code>{rule.name}</Code>
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{t(`settings.retention.rule.${rule.name}`, { defaultValue: rule.description })}</Text>
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm" fw={600}>
                            {period(rule.days)}
                          </Text>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )}
          </ApiView>
          <Alert color="blue" variant="light">
            {t('settings.retention.configured')}
          </Alert>
          {ran && (
            <Alert color="teal" role="status" data-testid="retention-ran">
              <Group gap="xs" align="flex-start">
                <Text size="sm">{t('settings.retention.ran')}</Text>
                <Removed run={ran} />
              </Group>
            </Alert>
          )}
        </Stack>
      </Panel>
      <Panel title={t('settings.retention.runs')} testId="retention-runs">
        <ApiView state={report}>
          {(data) =>
            data.runs.length === 0 ? (
              <Empty>{t('settings.retention.noRuns')}</Empty>
            ) : (
              <Table.ScrollContainer minWidth={520}>
                <Table verticalSpacing="xs">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th scope="col">{t('settings.retention.started')}</Table.Th>
                      <Table.Th scope="col">{t('settings.retention.finished')}</Table.Th>
                      <Table.Th scope="col">{t('settings.retention.removed')}</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {data.runs.map((run) => (
                      <Table.Tr key={run.started_at}>
                        <Table.Td>
                          <Text size="sm">{formatDateTime(run.started_at, i18n.language)}</Text>
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{formatDateTime(run.finished_at, i18n.language)}</Text>
                        </Table.Td>
                        <Table.Td>
                          <Removed run={run} />
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )
          }
        </ApiView>
      </Panel>
      <ConfirmModal
        opened={confirming}
        title={t('settings.retention.runTitle')}
        confirmLabel={t('settings.retention.runNow')}
        onConfirm={async () => {
          const run = await apiFetch<RetentionRun>('/api/privacy/retention/run', { method: 'POST' });
          setRan(run);
          report.reload();
        }}
        onClose={() => setConfirming(false)}
      >
        {t('settings.retention.runBody')}
      </ConfirmModal>
    </Stack>
  );
}
