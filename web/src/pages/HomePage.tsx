import { DonutChart } from '@mantine/charts';
import '@mantine/charts/styles.css';
import {
  Anchor,
  Box,
  Card,
  Group,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Text,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { Overview } from '../api';
import { useAuth } from '../auth';
import { ChannelBadge, channelColor } from '../components/badges';
import { Empty, ErrorNotice, Loading, Panel } from '../components/states';
import { formatMoneyWhole, formatNumber, formatPercent } from '../format';
import { useApi } from '../useApi';

// The figures come from one cheap read; every 15 s keeps the charts live without a reload.
const REFRESH_MS = 15_000;
const FUNNEL_COLORS = ['teal.3', 'teal.4', 'teal.5', 'teal.7', 'teal.9'];

function timeOf(value: string, language: string, style: 'short' | 'medium' = 'medium'): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return new Intl.DateTimeFormat(language.startsWith('th') ? 'th-TH' : 'en-GB', {
    timeStyle: style,
  }).format(date);
}

/** The time of day as the server wrote it: "today" starts at midnight in the workspace's zone. */
function wallClock(value: string, language: string): string {
  return /T(\d{2}:\d{2})/.exec(value)?.[1] ?? timeOf(value, language, 'short');
}

function StatCard({
  label,
  testId,
  value,
  shown,
  hint,
}: {
  label: string;
  testId: string;
  /** The raw figure for `data-value`; undefined while loading. */
  value: number | undefined;
  shown?: string;
  hint?: ReactNode;
}) {
  return (
    <Card withBorder radius="md" padding="md" data-testid={testId}>
      <Text size="sm" c="dimmed" fw={600} lineClamp={1}>
        {label}
      </Text>
      {value === undefined ? (
        <>
          <Skeleton h={30} mt={8} mb={6} w="70%" />
          <Skeleton h={12} w="50%" />
        </>
      ) : (
        <>
          <Text fz={28} fw={700} lh={1.4} data-testid={`${testId}-value`} data-value={value}>
            {shown}
          </Text>
          {hint && (
            <Text size="xs" c="dimmed">
              {hint}
            </Text>
          )}
        </>
      )}
    </Card>
  );
}

function ChannelMix({ overview }: { overview: Overview }) {
  const { t, i18n } = useTranslation();
  const rows = overview.channels_today.filter((row) => row.events > 0);
  if (rows.length === 0) return <Empty>{t('home.channelsEmpty')}</Empty>;
  const total = rows.reduce((sum, row) => sum + row.events, 0);
  const data = rows.map((row) => ({
    name: t(`channel.${row.channel}`, { defaultValue: row.channel }),
    value: row.events,
    color: `${channelColor(row.channel)}.6`,
  }));
  return (
    <Group align="center" gap="lg" wrap="nowrap">
      <Box aria-hidden="true" style={{ flex: 'none' }}>
        <DonutChart
          data={data}
          size={170}
          thickness={26}
          paddingAngle={2}
          chartLabel={formatNumber(total, i18n.language)}
          valueFormatter={(value) => formatNumber(value, i18n.language)}
          tooltipDataSource="segment"
        />
      </Box>
      <Table verticalSpacing={6} style={{ flex: 1 }}>
        <VisuallyHidden component="caption">{t('home.channels')}</VisuallyHidden>
        <Table.Tbody>
          {rows.map((row) => (
            <Table.Tr key={row.channel} data-testid="channel-item" data-channel={row.channel} data-value={row.events}>
              <Table.Th scope="row" fw={400}>
                <ChannelBadge kind={row.channel} />
              </Table.Th>
              <Table.Td ta="right" fw={600}>
                {formatNumber(row.events, i18n.language)}
              </Table.Td>
              <Table.Td ta="right" c="dimmed" w={70}>
                {formatPercent(row.events / total, i18n.language)}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Group>
  );
}

/** Awareness → Advocacy as centred bars, each as wide as its share of everyone. */
function LifecycleFunnel({ overview }: { overview: Overview }) {
  const { t, i18n } = useTranslation();
  const top = overview.funnel[0]?.people || overview.people;
  return (
    <Stack gap={6} role="list" aria-label={t('home.funnel')}>
      {overview.funnel.map((step, index) => {
        const share = top ? step.people / top : 0;
        const previous = index > 0 ? (overview.funnel[index - 1]?.people ?? 0) : 0;
        return (
          <Group
            key={step.stage}
            gap="sm"
            wrap="nowrap"
            role="listitem"
            data-testid="funnel-step"
            data-stage={step.stage}
            data-value={step.people}
          >
            <Box w={136} style={{ flex: 'none' }}>
              <Text size="sm" fw={600} lh={1.3}>
                {t(`funnel.${step.stage}`)}
              </Text>
              <Text size="xs" c="dimmed" lh={1.3} lineClamp={1}>
                {t(`funnel.${step.stage}Hint`)}
              </Text>
            </Box>
            <Box style={{ flex: 1, display: 'flex', justifyContent: 'center' }} aria-hidden="true">
              <Box
                h={34}
                bg={FUNNEL_COLORS[index] ?? 'teal.6'}
                style={{
                  width: `${Math.max(share * 100, step.people > 0 ? 2 : 0.5)}%`,
                  borderRadius: 4,
                  transition: 'width 400ms ease',
                }}
              />
            </Box>
            <Box w={108} ta="right" style={{ flex: 'none' }}>
              <Text size="sm" fw={700} lh={1.3}>
                {formatNumber(step.people, i18n.language)}
              </Text>
              <Text size="xs" c="dimmed" lh={1.3}>
                {index === 0
                  ? formatPercent(share, i18n.language)
                  : t('home.ofPrevious', {
                      share: formatPercent(previous ? step.people / previous : 0, i18n.language),
                    })}
              </Text>
            </Box>
          </Group>
        );
      })}
    </Stack>
  );
}

export default function HomePage() {
  const { t, i18n } = useTranslation();
  const { can, user } = useAuth();
  const allowed = can('profiles:read');
  const state = useApi<Overview>(allowed ? '/api/analytics/overview' : null, REFRESH_MS);
  const data = state.data;
  const lang = i18n.language;
  const empty = data !== undefined && data.people === 0;

  let charts: ReactNode;
  if (!allowed) charts = <Empty>{t('common.noPermission')}</Empty>;
  else if (!data) charts = state.error ? null : <Loading />;
  else if (empty) charts = <Empty>{t('home.emptyWorkspace')}</Empty>;

  return (
    <Stack gap="md">
      <Group justify="space-between" align="baseline">
        <Title order={1} size="h2">
          {t('home.title', { name: user?.name ?? '' })}
        </Title>
        {data && (
          <Text size="xs" c={state.error ? 'orange.8' : 'dimmed'} aria-live="off" data-testid="home-updated">
            {t(state.error ? 'home.stale' : 'home.updated', { time: timeOf(data.at, lang) })}
          </Text>
        )}
      </Group>
      {allowed && state.error && !data && <ErrorNotice error={state.error} onRetry={state.reload} />}
      {allowed && !(state.error && !data) && (
        <SimpleGrid cols={{ base: 1, xs: 2, md: 3, lg: 5 }} spacing="md">
          <StatCard
            label={t('home.totalCustomers')}
            testId="stat-customers"
            value={data?.people}
            shown={data && formatNumber(data.people, lang)}
            hint={data && t('home.identifiedHint', { count: data.identified, shown: formatNumber(data.identified, lang) })}
          />
          <StatCard
            label={t('home.identifiedShare')}
            testId="stat-identified"
            value={data?.identified_share}
            shown={data && (data.people ? formatPercent(data.identified_share, lang) : '–')}
            hint={data && (data.people ? t('home.identifiedShareHint') : t('home.noCustomersYet'))}
          />
          <StatCard
            label={t('home.eventsToday')}
            testId="stat-events-today"
            value={data?.events_today}
            shown={data && formatNumber(data.events_today, lang)}
            hint={data && t('home.eventsTodayHint', { time: wallClock(data.today_from, lang) })}
          />
          <StatCard
            label={t('home.liveJourneys')}
            testId="stat-journeys"
            value={data?.live_journeys}
            shown={data && formatNumber(data.live_journeys, lang)}
            hint={data && t('home.journeysHint', { count: data.journeys, shown: formatNumber(data.journeys, lang) })}
          />
          <StatCard
            label={t('home.revenue')}
            testId="stat-revenue"
            value={data ? Number(data.revenue) : undefined}
            shown={data && formatMoneyWhole(data.revenue, data.currency)}
            hint={data && t('home.ordersHint', { count: data.orders, shown: formatNumber(data.orders, lang) })}
          />
        </SimpleGrid>
      )}
      {!(allowed && state.error && !data) && (
        <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md" style={{ alignItems: 'start' }}>
          <Panel title={t('home.channels')} testId="channel-chart">
            {charts ?? (data && <ChannelMix overview={data} />)}
          </Panel>
          <Panel title={t('home.funnel')} testId="funnel-chart">
            {charts ?? (data && <LifecycleFunnel overview={data} />)}
          </Panel>
        </SimpleGrid>
      )}
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
