import { Anchor, Badge, Button, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { Segment } from '../api';
import { useAuth } from '../auth';
import { ApiView, Empty } from '../components/states';
import { formatDateTime, formatNumber } from '../format';
import { useApi } from '../useApi';

export default function SegmentsPage() {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const allowed = can('segments:read');
  const segments = useApi<Segment[]>(allowed ? '/api/segments' : null);
  // Phones get cards: a table's size column would be off-screen.
  const phone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false });
  const kind = (segment: Segment) =>
    segment.key ? (
      <Badge variant="light" color="gray" tt="none">
        {t('segments.readyMade')}
      </Badge>
    ) : (
      <Badge variant="light" tt="none">
        {t('segments.custom')}
      </Badge>
    );

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={1} size="h2">
          {t('segments.title')}
        </Title>
        <Group gap="xs">
          {allowed && (
            <Button component={Link} to="/segments/insights" variant="light" data-testid="segment-insights">
              {t('segments.insights')}
            </Button>
          )}
          {can('segments:write') && (
            <Button component={Link} to="/segments/new" data-testid="segment-new">
              {t('segments.new')}
            </Button>
          )}
        </Group>
      </Group>
      {!allowed ? (
        <Empty>{t('common.noPermission')}</Empty>
      ) : (
        <ApiView state={segments} isEmpty={(data) => data.length === 0} empty={t('segments.none')}>
          {(data) =>
            phone ? (
              <Stack gap="xs" data-testid="segment-table">
                {data.map((segment) => (
                  <Paper key={segment.id} withBorder p="sm" radius="md" data-testid="segment-row" data-segment-id={segment.id}>
                    <Group justify="space-between" wrap="nowrap" align="flex-start">
                      <Anchor component={Link} to={`/segments/${encodeURIComponent(segment.id)}`} fw={600}>
                        {segment.name}
                      </Anchor>
                      <Text fw={700} data-value={segment.size} style={{ whiteSpace: 'nowrap' }}>
                        {formatNumber(segment.size, i18n.language)} {t('segments.people')}
                      </Text>
                    </Group>
                    <Group gap="xs" mt={4}>
                      {kind(segment)}
                      <Text size="xs" c="dimmed">
                        {t('segments.updatedAt', { time: formatDateTime(segment.updated_at, i18n.language) })}
                      </Text>
                    </Group>
                  </Paper>
                ))}
              </Stack>
            ) : (
            <Table.ScrollContainer minWidth={560}>
              <Table highlightOnHover striped verticalSpacing="sm" data-testid="segment-table">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">{t('segments.name')}</Table.Th>
                    <Table.Th scope="col" ta="right">
                      {t('segments.size')}
                    </Table.Th>
                    <Table.Th scope="col">{t('segments.type')}</Table.Th>
                    <Table.Th scope="col">{t('segments.updated')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.map((segment) => (
                    <Table.Tr key={segment.id} data-testid="segment-row" data-segment-id={segment.id}>
                      <Table.Td>
                        <Anchor component={Link} to={`/segments/${encodeURIComponent(segment.id)}`} fw={600}>
                          {segment.name}
                        </Anchor>
                        {segment.description && (
                          <Text size="xs" c="dimmed" lineClamp={1}>
                            {segment.description}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td ta="right" data-value={segment.size}>
                        {formatNumber(segment.size, i18n.language)}
                      </Table.Td>
                      <Table.Td>{kind(segment)}</Table.Td>
                      <Table.Td>
                        <Text size="sm">{formatDateTime(segment.updated_at, i18n.language)}</Text>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            )
          }
        </ApiView>
      )}
    </Stack>
  );
}
