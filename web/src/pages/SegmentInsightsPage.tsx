import { BarChart } from '@mantine/charts';
import '@mantine/charts/styles.css';
import {
  Anchor,
  Box,
  Group,
  ScrollArea,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
  UnstyledButton,
} from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { Segment } from '../api';
import { useAuth } from '../auth';
import { ApiView, Empty, Panel } from '../components/states';
import { formatDateTime, formatNumber } from '../format';
import { useApi } from '../useApi';

interface Tally {
  label: string;
  people: number;
}

interface Insights {
  people: number;
  buyers: number;
  rfm_groups: { group: string; people: number; avg_orders: number; avg_spent: number; avg_days_since_order: number }[];
  rfm_grid: { recency: number; fm: number; group: string; people: number }[];
  lifecycle: Tally[];
  inactivity: Tally[];
  at: string;
}

// One colour per RFM group, from the warm (best) to the cold (lost) end.
const GROUP_COLOR: Record<string, string> = {
  Champions: 'teal',
  Loyal: 'green',
  'Potential Loyalist': 'lime',
  New: 'cyan',
  Promising: 'blue',
  'Need Attention': 'yellow',
  'About to Sleep': 'orange',
  'At Risk': 'red',
  "Can't Lose Them": 'pink',
  Hibernating: 'grape',
  Lost: 'gray',
};

const slug = (group: string) => group.toLowerCase().replace(/'/g, '').replace(/[^a-z0-9]+/g, '_');

/** `/segments/insights`: the RFM grid and groups, lifecycle stages and inactivity. */
export default function SegmentInsightsPage() {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const allowed = can('segments:read');
  const insights = useApi<Insights>(allowed ? '/api/segments/insights' : null, 60_000);
  const segments = useApi<Segment[]>(allowed ? '/api/segments' : null);
  const lang = i18n.language;

  // A group or stage links to its ready-made segment, or to a new segment started from it.
  const byKey = new Map((segments.data ?? []).filter((s) => s.key).map((s) => [s.key, s.id]));
  const linkFor = (key: string, preset: string) => {
    const id = byKey.get(key);
    return id ? `/segments/${encodeURIComponent(id)}` : `/segments/new?${preset}`;
  };
  const rfmLink = (group: string) => linkFor(`rfm_${slug(group)}`, `rfm=${encodeURIComponent(group)}`);
  const stageLink = (stage: string) => linkFor(`lifecycle_${stage}`, `stage=${encodeURIComponent(stage)}`);

  if (!allowed) {
    return (
      <Stack gap="md">
        <Title order={1} size="h2">
          {t('insights.title')}
        </Title>
        <Empty>{t('common.noPermission')}</Empty>
      </Stack>
    );
  }

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <div>
          <Anchor component={Link} to="/segments" size="sm">
            {t('segments.backToList')}
          </Anchor>
          <Title order={1} size="h2">
            {t('insights.title')}
          </Title>
        </div>
      </Group>
      <ApiView state={insights}>
        {(data) => (
          <Stack gap="md">
            <Text size="sm" c="dimmed" data-testid="insights-summary">
              {t('insights.summary', {
                people: formatNumber(data.people, lang),
                buyers: formatNumber(data.buyers, lang),
                time: formatDateTime(data.at, lang),
              })}
            </Text>
            <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="md">
              <Panel title={t('insights.grid')} testId="rfm-grid">
                {data.buyers === 0 ? (
                  <Empty>{t('insights.noBuyers')}</Empty>
                ) : (
                  <Stack gap={4}>
                    <Text size="xs" c="dimmed">
                      {t('insights.gridHint')}
                    </Text>
                    <Box
                      role="grid"
                      aria-label={t('insights.grid')}
                      style={{ display: 'grid', gridTemplateColumns: 'auto repeat(5, minmax(0, 1fr))', gap: 4 }}
                    >
                      <span />
                      {[1, 2, 3, 4, 5].map((fm) => (
                        <Text key={fm} size="xs" ta="center" c="dimmed" role="columnheader">
                          FM {fm}
                        </Text>
                      ))}
                      {[5, 4, 3, 2, 1].map((recency) => (
                        <Box key={recency} role="row" style={{ display: 'contents' }}>
                          <Text size="xs" c="dimmed" role="rowheader" style={{ alignSelf: 'center' }}>
                            R {recency}
                          </Text>
                          {data.rfm_grid
                            .filter((cell) => cell.recency === recency)
                            .sort((a, b) => a.fm - b.fm)
                            .map((cell) => {
                              const color = GROUP_COLOR[cell.group] ?? 'gray';
                              const name = t(`rfm.${cell.group}`, { defaultValue: cell.group });
                              return (
                                <Tooltip key={cell.fm} label={`${name}: ${formatNumber(cell.people, lang)}`} withArrow>
                                  <UnstyledButton
                                    component={Link}
                                    to={rfmLink(cell.group)}
                                    role="gridcell"
                                    aria-label={t('insights.cell', {
                                      recency: cell.recency,
                                      fm: cell.fm,
                                      group: name,
                                      people: formatNumber(cell.people, lang),
                                    })}
                                    data-testid="rfm-cell"
                                    data-group={cell.group}
                                    data-people={cell.people}
                                    style={{
                                      background: `var(--mantine-color-${color}-${cell.people ? 2 : 0})`,
                                      borderRadius: 6,
                                      padding: '6px 4px',
                                      minHeight: 52,
                                      textAlign: 'center',
                                    }}
                                  >
                                    <Text size="xs" lh={1.2} lineClamp={2}>
                                      {name}
                                    </Text>
                                    <Text size="sm" fw={700}>
                                      {formatNumber(cell.people, lang)}
                                    </Text>
                                  </UnstyledButton>
                                </Tooltip>
                              );
                            })}
                        </Box>
                      ))}
                    </Box>
                  </Stack>
                )}
              </Panel>
              <Panel title={t('insights.lifecycle')} testId="lifecycle-view">
                <BarChart
                  h={260}
                  data={data.lifecycle.map((tally) => ({
                    stage: t(`lifecycle.${tally.label}`, { defaultValue: tally.label }),
                    people: tally.people,
                  }))}
                  dataKey="stage"
                  orientation="vertical"
                  yAxisProps={{ width: 130 }}
                  series={[{ name: 'people', label: t('segments.people'), color: 'teal.6' }]}
                  tickLine="none"
                  withTooltip
                />
                <Group gap="xs" mt="sm">
                  {data.lifecycle.map((tally) => (
                    <Anchor
                      key={tally.label}
                      component={Link}
                      to={stageLink(tally.label)}
                      size="sm"
                      data-testid="lifecycle-stage"
                      data-stage={tally.label}
                      data-people={tally.people}
                    >
                      {t(`lifecycle.${tally.label}`, { defaultValue: tally.label })} ({formatNumber(tally.people, lang)})
                    </Anchor>
                  ))}
                </Group>
              </Panel>
            </SimpleGrid>
            <Panel title={t('insights.groups')} testId="rfm-groups">
              <ScrollArea type="auto">
                <Table striped highlightOnHover miw={560}>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>{t('insights.group')}</Table.Th>
                      <Table.Th ta="right">{t('segments.people')}</Table.Th>
                      <Table.Th ta="right">{t('insights.avgOrders')}</Table.Th>
                      <Table.Th ta="right">{t('insights.avgSpent')}</Table.Th>
                      <Table.Th ta="right">{t('insights.avgDays')}</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {data.rfm_groups.map((group) => (
                      <Table.Tr key={group.group} data-testid="rfm-group" data-group={group.group} data-people={group.people}>
                        <Table.Td>
                          <Group gap={6} wrap="nowrap">
                            <Box
                              w={10}
                              h={10}
                              style={{ borderRadius: 2, background: `var(--mantine-color-${GROUP_COLOR[group.group] ?? 'gray'}-4)` }}
                              aria-hidden="true"
                            />
                            <Anchor component={Link} to={rfmLink(group.group)} size="sm">
                              {t(`rfm.${group.group}`, { defaultValue: group.group })}
                            </Anchor>
                          </Group>
                        </Table.Td>
                        <Table.Td ta="right">{formatNumber(group.people, lang)}</Table.Td>
                        <Table.Td ta="right">{group.people ? formatNumber(group.avg_orders, lang) : '–'}</Table.Td>
                        <Table.Td ta="right">
                          {group.people ? `฿${formatNumber(Math.round(group.avg_spent), lang)}` : '–'}
                        </Table.Td>
                        <Table.Td ta="right">{group.people ? formatNumber(group.avg_days_since_order, lang) : '–'}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </ScrollArea>
            </Panel>
            <Panel title={t('insights.inactivity')} testId="inactivity-view">
              <SimpleGrid cols={{ base: 2, sm: 4 }}>
                {data.inactivity.map((tally) => (
                  <div key={tally.label}>
                    <Text size="xl" fw={700} data-testid="inactivity-bucket" data-bucket={tally.label} data-people={tally.people}>
                      {formatNumber(tally.people, lang)}
                    </Text>
                    <Text size="sm" c="dimmed">
                      {t(`segments.inactivity.${tally.label}`, { defaultValue: tally.label })}
                    </Text>
                  </div>
                ))}
              </SimpleGrid>
            </Panel>
          </Stack>
        )}
      </ApiView>
    </Stack>
  );
}
