import { BarChart } from '@mantine/charts';
import '@mantine/charts/styles.css';
import { Alert, Anchor, Badge, Button, Card, Group, Loader, Modal, Paper, SimpleGrid, Stack, Table, Text, Tooltip } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { useState } from 'react';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { apiFetch, type Segment } from '../../api';
import { useAuth } from '../../auth';
import { formatDateTime, formatMoneyWhole, formatNumber, formatPercent } from '../../format';
import { CONTROL, type ArmStats, type Campaign, type CampaignStats, type Template, type Uplift } from '../../pages/messaging/types';
import { useApi, type ApiState } from '../../useApi';
import { ApiView, ErrorNotice, Panel } from '../states';
import { pendingOf, totalOf } from './campaign';

type Metric = 'targeted' | 'sent' | 'delivered' | 'opened' | 'clicked' | 'unsubscribed' | 'suppressed' | 'failed' | 'converted';

/** Each count and what its rate is taken of. */
const METRICS: { key: Metric; of: 'targeted' | 'sent' | null }[] = [
  { key: 'targeted', of: null },
  { key: 'sent', of: 'targeted' },
  { key: 'delivered', of: 'sent' },
  { key: 'opened', of: 'sent' },
  { key: 'clicked', of: 'sent' },
  { key: 'unsubscribed', of: 'targeted' },
  { key: 'suppressed', of: 'targeted' },
  { key: 'failed', of: 'targeted' },
  { key: 'converted', of: 'targeted' },
];

function rate(count: number, of: number): number | null {
  return of > 0 ? count / of : null;
}

function signedPoints(value: number, language: string): string {
  const points = new Intl.NumberFormat(language.startsWith('th') ? 'th-TH' : 'en-GB', {
    maximumFractionDigits: 1,
    minimumFractionDigits: 1,
    signDisplay: 'always',
  }).format(value * 100);
  return points;
}

function Stat({ label, value, raw, testId, hint }: { label: string; value: string; raw: number; testId: string; hint?: ReactNode }) {
  return (
    <Card withBorder radius="md" padding="sm" data-testid={testId} data-value={raw}>
      <Text size="xs" c="dimmed" fw={600} lineClamp={1}>
        {label}
      </Text>
      <Text fz={26} fw={700} lh={1.2}>
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Card>
  );
}

/** A launched campaign's results: per arm, uplift against control, a chart; live while sending. */
export function CampaignResults({
  campaign,
  stats,
  onChanged,
}: {
  campaign: Campaign;
  stats: ApiState<CampaignStats>;
  onChanged: () => void;
}) {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const lang = i18n.language;
  const pending = pendingOf(stats.data);
  // Phones get a card per arm: a table with a column per arm would scroll sideways.
  const phone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false });
  const segments = useApi<Segment[]>(can('segments:read') ? '/api/segments' : null);
  const templates = useApi<Template[]>('/api/messaging/templates');
  const segment = segments.data?.find((s) => s.id === campaign.segment_id);
  const templateName = (id: string) => templates.data?.find((tpl) => tpl.id === id)?.name ?? id;
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [cancelling, setCancelling] = useState(false);
  const [cancelError, setCancelError] = useState<Error | null>(null);

  async function cancel() {
    setCancelling(true);
    try {
      await apiFetch<Campaign>(`/api/messaging/campaigns/${encodeURIComponent(campaign.id)}/cancel`, { method: 'POST' });
      setConfirmCancel(false);
      onChanged();
      stats.reload();
    } catch (error) {
      setCancelError(error instanceof Error ? error : new Error(String(error)));
      setConfirmCancel(false);
    } finally {
      setCancelling(false);
    }
  }

  const armLabel = (arm: string) => (arm === CONTROL ? t('campaigns.results.control') : t('campaigns.results.variant', { name: arm }));

  return (
    <Stack gap="md">
      {campaign.status === 'sent' && stats.data && pending > 0 && (
        <Alert color="blue" data-testid="campaign-sending">
          <Group gap="xs">
            <Loader size="xs" />
            <Text size="sm">{t('campaigns.results.sending', { n: formatNumber(pending, lang) })}</Text>
          </Group>
        </Alert>
      )}
      {cancelError && <ErrorNotice error={cancelError} />}
      <ApiView state={stats}>
        {(data) => {
          const uplift = new Map<string, Uplift>(data.uplift.map((u) => [u.arm, u]));
          const revenue = totalOf(data, 'revenue');
          const chart = data.arms.map((arm) => ({
            arm: armLabel(arm.arm),
            opened: arm.arm === CONTROL ? 0 : Math.round((rate(arm.opened, arm.sent) ?? 0) * 1000) / 10,
            clicked: arm.arm === CONTROL ? 0 : Math.round((rate(arm.clicked, arm.sent) ?? 0) * 1000) / 10,
            converted: Math.round(arm.conversion_rate * 1000) / 10,
          }));
          return (
            <Stack gap="md">
              <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="sm">
                <Stat label={t('campaigns.metric.targeted')} value={formatNumber(totalOf(data, 'targeted'), lang)} raw={totalOf(data, 'targeted')} testId="total-targeted" />
                <Stat
                  label={t('campaigns.metric.sent')}
                  value={formatNumber(totalOf(data, 'sent'), lang)}
                  raw={totalOf(data, 'sent')}
                  testId="total-sent"
                  hint={
                    totalOf(data, 'suppressed') + totalOf(data, 'failed') > 0
                      ? t('campaigns.results.notSent', {
                          suppressed: formatNumber(totalOf(data, 'suppressed'), lang),
                          failed: formatNumber(totalOf(data, 'failed'), lang),
                        })
                      : undefined
                  }
                />
                <Stat label={t('campaigns.metric.converted')} value={formatNumber(totalOf(data, 'converted'), lang)} raw={totalOf(data, 'converted')} testId="total-converted" />
                <Stat label={t('campaigns.metric.revenue')} value={formatMoneyWhole(revenue)} raw={revenue} testId="total-revenue" />
              </SimpleGrid>

              <Panel title={t('campaigns.results.chartTitle')} testId="results-chart">
                <Text size="xs" c="dimmed" mb="xs">
                  {t('campaigns.results.chartHint')}
                </Text>
                <BarChart
                  h={260}
                  maxBarWidth={56}
                  data={chart}
                  dataKey="arm"
                  withLegend
                  legendProps={{ verticalAlign: 'bottom' }}
                  valueFormatter={(value) => `${value}%`}
                  series={[
                    { name: 'opened', label: t('campaigns.results.openRate'), color: 'blue.5' },
                    { name: 'clicked', label: t('campaigns.results.clickRate'), color: 'grape.5' },
                    { name: 'converted', label: t('campaigns.results.conversionRate'), color: 'teal.6' },
                  ]}
                />
              </Panel>

              <Panel title={t('campaigns.results.tableTitle')} testId="results-table">
                {phone ? (
                  <Stack gap="sm">
                    {data.arms.map((arm) => {
                      const u = uplift.get(arm.arm);
                      return (
                        <Paper key={arm.arm} withBorder radius="md" p="sm" data-testid="arm-card" data-arm={arm.arm}>
                          <Text fw={700} mb={6}>
                            {armLabel(arm.arm)}
                          </Text>
                          <SimpleGrid cols={2} spacing={6} verticalSpacing={6}>
                            {METRICS.filter(({ key }) => arm.arm !== CONTROL || key === 'targeted' || key === 'converted' || key === 'unsubscribed').map(({ key, of }) => {
                              const share = of ? rate(arm[key], arm[of]) : null;
                              return (
                                <div key={key} data-testid="arm-stat" data-arm={arm.arm} data-metric={key} data-value={arm[key]}>
                                  <Text size="xs" c="dimmed" lineClamp={2}>
                                    {t(`campaigns.metric.${key}`)}
                                  </Text>
                                  <Text size="sm" fw={600}>
                                    {formatNumber(arm[key], lang)}
                                    {share !== null && (
                                      <Text span size="xs" c="dimmed" fw={400}>
                                        {' '}
                                        ({formatPercent(share, lang)})
                                      </Text>
                                    )}
                                  </Text>
                                </div>
                              );
                            })}
                            <div data-testid="arm-stat" data-arm={arm.arm} data-metric="revenue" data-value={arm.revenue}>
                              <Text size="xs" c="dimmed">
                                {t('campaigns.metric.revenue')}
                              </Text>
                              <Text size="sm" fw={600}>
                                {formatMoneyWhole(arm.revenue)}
                              </Text>
                            </div>
                            {u && (
                              <div data-testid="arm-uplift" data-arm={arm.arm}>
                                <Text size="xs" c="dimmed">
                                  {t('campaigns.metric.uplift')}
                                </Text>
                                <Text size="sm" fw={700}>
                                  {t('campaigns.results.points', { n: signedPoints(u.absolute, lang) })}
                                </Text>
                                <Text size="xs" c="dimmed">
                                  {u.p_value === null ? t('campaigns.results.noP') : `p = ${u.p_value.toFixed(3)}`}
                                </Text>
                              </div>
                            )}
                          </SimpleGrid>
                        </Paper>
                      );
                    })}
                  </Stack>
                ) : (
                  <Table.ScrollContainer minWidth={200 + data.arms.length * 140}>
                    <Table striped verticalSpacing="xs">
                      <Table.Thead>
                        <Table.Tr>
                          <Table.Th scope="col">{t('campaigns.results.metric')}</Table.Th>
                          {data.arms.map((arm) => (
                            <Table.Th key={arm.arm} scope="col" ta="right" data-testid="arm-head" data-arm={arm.arm}>
                              {armLabel(arm.arm)}
                            </Table.Th>
                          ))}
                        </Table.Tr>
                      </Table.Thead>
                      <Table.Tbody>
                        {METRICS.map(({ key, of }) => (
                          <Table.Tr key={key}>
                            <Table.Th scope="row" fw={500}>
                              {t(`campaigns.metric.${key}`)}
                            </Table.Th>
                            {data.arms.map((arm: ArmStats) => {
                              const share = of ? rate(arm[key], arm[of]) : null;
                              const nothingSent = arm.arm === CONTROL && key !== 'targeted' && key !== 'converted' && key !== 'unsubscribed';
                              return (
                                <Table.Td key={arm.arm} ta="right" data-testid="arm-stat" data-arm={arm.arm} data-metric={key} data-value={arm[key]}>
                                  {nothingSent ? (
                                    <Text size="sm" c="dimmed">
                                      –
                                    </Text>
                                  ) : (
                                    <>
                                      <Text size="sm" fw={600} component="span">
                                        {formatNumber(arm[key], lang)}
                                      </Text>
                                      {share !== null && (
                                        <Text size="xs" c="dimmed">
                                          {formatPercent(share, lang)}
                                        </Text>
                                      )}
                                    </>
                                  )}
                                </Table.Td>
                              );
                            })}
                          </Table.Tr>
                        ))}
                        <Table.Tr>
                          <Table.Th scope="row" fw={500}>
                            {t('campaigns.metric.revenue')}
                          </Table.Th>
                          {data.arms.map((arm) => (
                            <Table.Td key={arm.arm} ta="right" data-testid="arm-stat" data-arm={arm.arm} data-metric="revenue" data-value={arm.revenue}>
                              <Text size="sm" fw={600}>
                                {formatMoneyWhole(arm.revenue)}
                              </Text>
                            </Table.Td>
                          ))}
                        </Table.Tr>
                        <Table.Tr>
                          <Table.Th scope="row" fw={500}>
                            {t('campaigns.metric.uplift')}
                          </Table.Th>
                          {data.arms.map((arm) => {
                            const u = uplift.get(arm.arm);
                            return (
                              <Table.Td key={arm.arm} ta="right" data-testid="arm-uplift" data-arm={arm.arm}>
                                {u ? (
                                  <Stack gap={0} align="flex-end">
                                    <Tooltip
                                      label={t('campaigns.results.ci', {
                                        low: signedPoints(u.ci_low, lang),
                                        high: signedPoints(u.ci_high, lang),
                                      })}
                                    >
                                      <Text size="sm" fw={700} c={u.p_value !== null && u.p_value < 0.05 ? (u.absolute > 0 ? 'teal.8' : 'red.7') : undefined}>
                                        {t('campaigns.results.points', { n: signedPoints(u.absolute, lang) })}
                                      </Text>
                                    </Tooltip>
                                    {u.relative !== null && (
                                      <Text size="xs" c="dimmed">
                                        {t('campaigns.results.relative', { n: signedPoints(u.relative, lang) })}
                                      </Text>
                                    )}
                                    <Text size="xs" c="dimmed">
                                      {u.p_value === null ? t('campaigns.results.noP') : `p = ${u.p_value.toFixed(3)}`}
                                    </Text>
                                  </Stack>
                                ) : (
                                  <Text size="sm" c="dimmed">
                                    –
                                  </Text>
                                )}
                              </Table.Td>
                            );
                          })}
                        </Table.Tr>
                      </Table.Tbody>
                    </Table>
                  </Table.ScrollContainer>
                )}
                <Text size="xs" c="dimmed" mt="xs">
                  {data.uplift.length ? t('campaigns.results.upliftHint') : t('campaigns.results.noControl')}
                </Text>
              </Panel>
            </Stack>
          );
        }}
      </ApiView>

      <Panel title={t('campaigns.results.details')} testId="campaign-details">
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="xs">
          <Detail label={t('campaigns.segment')}>
            {segment ? (
              <Anchor component={Link} to={`/segments/${encodeURIComponent(segment.id)}`}>
                {segment.name}
              </Anchor>
            ) : (
              campaign.segment_id
            )}
          </Detail>
          <Detail label={t('campaigns.channels')}>{campaign.channels.join(' → ')}</Detail>
          <Detail label={t('campaigns.category')}>{t(`templates.categories.${campaign.category}`)}</Detail>
          <Detail label={t('campaigns.launchedAt')}>{formatDateTime(campaign.launched_at, lang)}</Detail>
          <Detail label={t('campaigns.form.variants')}>
            {campaign.variants.map((v) => (
              <Text key={v.name} size="sm">
                {v.name}:{' '}
                <Anchor component={Link} to={`/templates/${encodeURIComponent(templateName(v.template))}`}>
                  {templateName(v.template)}
                </Anchor>
              </Text>
            ))}
          </Detail>
          <Detail label={t('campaigns.form.control')}>{`${campaign.control_percent}%`}</Detail>
          <Detail label={t('campaigns.form.conversion')}>
            {t('campaigns.results.conversionWindow', { event: campaign.conversion_event, days: campaign.attribution_days })}
          </Detail>
        </SimpleGrid>
        {can('messaging:send') && campaign.status === 'sent' && pending > 0 && (
          <Button variant="subtle" color="red" mt="sm" onClick={() => setConfirmCancel(true)} data-testid="campaign-stop">
            {t('campaigns.results.stop')}
          </Button>
        )}
      </Panel>

      <Modal opened={confirmCancel} onClose={() => !cancelling && setConfirmCancel(false)} title={t('campaigns.confirm.stopTitle')} centered>
        <Stack gap="md">
          <Text size="sm">{t('campaigns.confirm.stopBody', { n: formatNumber(pending, lang) })}</Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirmCancel(false)} disabled={cancelling}>
              {t('campaigns.confirm.back')}
            </Button>
            <Button color="red" onClick={() => void cancel()} loading={cancelling} data-testid="confirm-stop">
              {t('campaigns.confirm.stopYes')}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

function Detail({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" fw={600}>
        {label}
      </Text>
      <Text size="sm" component="div" style={{ overflowWrap: 'anywhere' }}>
        {children}
      </Text>
    </div>
  );
}

export function CampaignStatusBadge({ status, sending }: { status: string; sending?: boolean }) {
  const { t } = useTranslation();
  const shown = status === 'sent' && sending ? 'sending' : status;
  const colors: Record<string, string> = { draft: 'gray', scheduled: 'blue', sending: 'yellow', sent: 'teal', cancelled: 'red' };
  return (
    <Badge variant="dot" color={colors[shown] ?? 'gray'} tt="none" radius="sm" data-testid="campaign-status" data-status={shown}>
      {t(`campaigns.status.${shown}`, { defaultValue: shown })}
    </Badge>
  );
}
