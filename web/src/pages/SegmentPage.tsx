import { LineChart } from '@mantine/charts';
import '@mantine/charts/styles.css';
import { Anchor, Badge, Button, Code, Group, List, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import type { Segment, SegmentMemberPage, SegmentSizePoint } from '../api';
import { useAuth } from '../auth';
import { ApiView, Empty, Panel } from '../components/states';
import { formatDateTime, formatNumber } from '../format';
import { useApi } from '../useApi';

export default function SegmentPage() {
  const { t, i18n } = useTranslation();
  const { id = '' } = useParams();
  const { can } = useAuth();
  const allowed = can('segments:read');
  const base = `/api/segments/${encodeURIComponent(id)}`;
  const segment = useApi<Segment>(allowed ? base : null);
  const members = useApi<SegmentMemberPage>(allowed ? `${base}/members?limit=50` : null);
  const sizes = useApi<SegmentSizePoint[]>(allowed ? `${base}/sizes` : null);

  if (!allowed) {
    return (
      <Stack gap="md">
        <Title order={1} size="h2">
          {t('segments.title')}
        </Title>
        <Empty>{t('common.noPermission')}</Empty>
      </Stack>
    );
  }

  return (
    <Stack gap="md">
      <Anchor component={Link} to="/segments" size="sm">
        {t('segments.backToList')}
      </Anchor>
      <ApiView state={segment}>
        {(data) => (
          <Stack gap="md">
            <Group justify="space-between" align="flex-start" wrap="wrap">
            <div>
              <Title order={1} size="h2" data-testid="segment-title" style={{ overflowWrap: 'anywhere' }}>
                {data.name}
              </Title>
              {data.description && <Text c="dimmed">{data.description}</Text>}
              <Group gap="xs" mt={6}>
                <Badge variant="light" tt="none">
                  {t('segments.version', { version: data.version })}
                </Badge>
                {data.time_based && (
                  <Badge variant="light" color="grape" tt="none">
                    {t('segments.timeBased')}
                  </Badge>
                )}
                <Text size="xs" c="dimmed">
                  {t('segments.updatedAt', { time: formatDateTime(data.updated_at, i18n.language) })}
                </Text>
              </Group>
            </div>
            {can('segments:write') && (
              <Button component={Link} to={`/segments/${encodeURIComponent(data.id)}/edit`} variant="light" data-testid="segment-edit">
                {t('segments.edit')}
              </Button>
            )}
            </Group>
            <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
              <Panel title={t('segments.size')}>
                <Group gap="xs" align="baseline">
                  <Text fz={40} fw={700} lh={1} c="teal.8" data-testid="segment-size" data-value={data.size}>
                    {formatNumber(data.size, i18n.language)}
                  </Text>
                  <Text size="sm" c="dimmed">
                    {t('segments.people')}
                  </Text>
                </Group>
                {sizes.data && sizes.data.length > 1 && (
                  <LineChart
                    mt="md"
                    h={160}
                    data={sizes.data.map((point) => ({
                      at: formatDateTime(point.at, i18n.language),
                      size: point.size,
                    }))}
                    dataKey="at"
                    series={[{ name: 'size', label: t('segments.size'), color: 'teal.6' }]}
                    withDots={false}
                    tickLine="none"
                    xAxisProps={{ hide: true }}
                    data-testid="segment-size-chart"
                  />
                )}
              </Panel>
              <Panel title={t('segments.condition')}>
                <Code block data-testid="segment-condition" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
                  {JSON.stringify(data.condition, null, 2)}
                </Code>
              </Panel>
            </SimpleGrid>
            <Panel title={t('segments.members')} testId="segment-members">
              <ApiView state={members} isEmpty={(page) => page.items.length === 0} empty={t('segments.noMembers')}>
                {(page) => (
                  <Stack gap="xs">
                    {page.total > page.items.length && (
                      <Text size="sm" c="dimmed">
                        {t('segments.firstMembers', {
                          shown: formatNumber(page.items.length, i18n.language),
                          total: formatNumber(page.total, i18n.language),
                        })}
                      </Text>
                    )}
                    <List size="sm" spacing={4}>
                      {page.items.map((member) => (
                        <List.Item key={member.profile_id} data-testid="segment-member">
                          <Anchor component={Link} to={`/customers/${encodeURIComponent(member.profile_id)}`}>
                            {member.display_name || t('customers.unnamed')}
                          </Anchor>
                          {member.since && (
                            <Text span size="xs" c="dimmed">
                              {' · '}
                              {t('segments.since', { time: formatDateTime(member.since, i18n.language) })}
                            </Text>
                          )}
                        </List.Item>
                      ))}
                    </List>
                  </Stack>
                )}
              </ApiView>
            </Panel>
          </Stack>
        )}
      </ApiView>
    </Stack>
  );
}
