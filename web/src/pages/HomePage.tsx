import { BarChart } from '@mantine/charts';
import '@mantine/charts/styles.css';
import { Anchor, Card, Group, SimpleGrid, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { withQuery, type Journey, type SearchPage, type Segment } from '../api';
import { useAuth } from '../auth';
import { ApiView, Empty, Panel } from '../components/states';
import { formatNumber } from '../format';
import { useApi, type ApiState } from '../useApi';

const REFRESH_MS = 30_000;
// The ready-made lifecycle segments (segments/ready.py), in the order a customer lives them.
const STAGES = ['new_lead', 'first_time_buyer', 'active', 'loyal_vip', 'at_risk', 'churned'];

function lifecycleStage(segment: Segment): string | null {
  const { computed, op, value } = segment.condition;
  if (computed === 'lifecycle_stage' && op === 'eq' && typeof value === 'string') return value;
  return null;
}

function StatCard<T>({
  label,
  testId,
  state,
  allowed,
  value,
  hint,
}: {
  label: string;
  testId: string;
  state: ApiState<T>;
  allowed: boolean;
  value: (data: T) => number;
  hint?: (data: T) => string;
}) {
  const { t, i18n } = useTranslation();
  return (
    <Card withBorder radius="md" padding="lg" data-testid={testId}>
      <Text size="sm" c="dimmed" fw={600}>
        {label}
      </Text>
      {allowed ? (
        <ApiView state={state}>
          {(data) => (
            <>
              <Text fz={32} fw={700} lh={1.3} data-testid={`${testId}-value`} data-value={value(data)}>
                {formatNumber(value(data), i18n.language)}
              </Text>
              {hint && (
                <Text size="xs" c="dimmed">
                  {hint(data)}
                </Text>
              )}
            </>
          )}
        </ApiView>
      ) : (
        <Empty>{t('common.noPermission')}</Empty>
      )}
    </Card>
  );
}

function LifecycleChart({ segments }: { segments: Segment[] }) {
  const { t, i18n } = useTranslation();
  const sizes = new Map<string, number>();
  for (const segment of segments) {
    const stage = lifecycleStage(segment);
    if (stage) sizes.set(stage, segment.size);
  }
  if (sizes.size === 0) return <Empty>{t('home.lifecycleEmpty')}</Empty>;
  const stages = [...STAGES.filter((s) => sizes.has(s)), ...[...sizes.keys()].filter((s) => !STAGES.includes(s))];
  const data = stages.map((stage) => ({
    stage: t(`lifecycle.${stage}`, { defaultValue: stage }),
    customers: sizes.get(stage) ?? 0,
  }));
  return (
    <>
      <div aria-hidden="true">
        <BarChart
          h={280}
          data={data}
          dataKey="stage"
          orientation="vertical"
          yAxisProps={{ width: 130 }}
          series={[{ name: 'customers', label: t('home.customers'), color: 'teal.6' }]}
          valueFormatter={(value) => formatNumber(value, i18n.language)}
          gridAxis="x"
          withTooltip
        />
      </div>
      <VisuallyHidden>
        <Table>
          <caption>{t('home.lifecycle')}</caption>
          <tbody>
            {data.map((row) => (
              <tr key={row.stage}>
                <th scope="row">{row.stage}</th>
                <td>{row.customers}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      </VisuallyHidden>
    </>
  );
}

export default function HomePage() {
  const { t, i18n } = useTranslation();
  const { can, user } = useAuth();
  const customers = useApi<SearchPage>(
    can('profiles:read') ? withQuery('/api/profiles', { q: '', limit: 1 }) : null,
    REFRESH_MS,
  );
  const journeys = useApi<Journey[]>(can('journeys:read') ? '/api/journeys' : null, REFRESH_MS);
  const segments = useApi<Segment[]>(can('segments:read') ? '/api/segments' : null, REFRESH_MS);

  // "Updated at" follows the newest answer of any card.
  const [updated, setUpdated] = useState<Date | null>(null);
  useEffect(() => {
    if (customers.data || journeys.data || segments.data) setUpdated(new Date());
  }, [customers.data, journeys.data, segments.data]);

  return (
    <Stack gap="md">
      <Group justify="space-between" align="baseline">
        <Title order={1} size="h2">
          {t('home.title', { name: user?.name ?? '' })}
        </Title>
        {updated && (
          <Text size="xs" c="dimmed" aria-live="off">
            {t('home.updated', {
              time: new Intl.DateTimeFormat(i18n.language === 'th' ? 'th-TH' : 'en-GB', {
                timeStyle: 'medium',
              }).format(updated),
            })}
          </Text>
        )}
      </Group>
      <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="md">
        <StatCard
          label={t('home.totalCustomers')}
          testId="stat-customers"
          state={customers}
          allowed={can('profiles:read')}
          value={(page) => page.total}
        />
        <StatCard
          label={t('home.liveJourneys')}
          testId="stat-journeys"
          state={journeys}
          allowed={can('journeys:read')}
          value={(list) => list.filter((j) => j.status === 'live').length}
          hint={(list) => t('home.journeysHint', { count: list.length })}
        />
      </SimpleGrid>
      <Panel title={t('home.lifecycle')} testId="lifecycle-chart">
        {can('segments:read') ? (
          <ApiView state={segments}>{(list) => <LifecycleChart segments={list} />}</ApiView>
        ) : (
          <Empty>{t('common.noPermission')}</Empty>
        )}
      </Panel>
      <Group gap="lg">
        <Anchor component={Link} to="/customers" size="sm">
          {t('home.findCustomer')}
        </Anchor>
        {can('commerce:read') && (
          <Anchor component={Link} to="/store" size="sm">
            {t('home.openStore')}
          </Anchor>
        )}
      </Group>
    </Stack>
  );
}
