import { Anchor, Button, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { Segment } from '../../api';
import { useAuth } from '../../auth';
import { pendingOf, totalOf } from '../../components/messaging/campaign';
import { CampaignStatusBadge } from '../../components/messaging/CampaignResults';
import { ApiView, Empty } from '../../components/states';
import { formatDateTime, formatNumber } from '../../format';
import { useApi } from '../../useApi';
import type { Campaign, CampaignStats } from './types';

/** The sent count of a launched campaign, and whether it is still sending; live every 5 s while so. */
function useSent(campaign: Campaign) {
  const launched = campaign.launched_at !== null;
  const [polling, setPolling] = useState(campaign.status === 'sent');
  const stats = useApi<CampaignStats>(
    launched ? `/api/messaging/campaigns/${encodeURIComponent(campaign.id)}/stats` : null,
    polling ? 5_000 : undefined,
  );
  const pending = pendingOf(stats.data);
  useEffect(() => {
    if (stats.data) setPolling(campaign.status === 'sent' && pending > 0);
  }, [stats.data, pending, campaign.status]);
  return { sent: stats.data ? totalOf(stats.data, 'sent') : null, sending: pending > 0 };
}

function Row({ campaign, segmentName, phone }: { campaign: Campaign; segmentName: string; phone: boolean }) {
  const { t, i18n } = useTranslation();
  const { sent, sending } = useSent(campaign);
  const link = (
    <Anchor component={Link} to={`/campaigns/${encodeURIComponent(campaign.id)}`} fw={600} style={{ overflowWrap: 'anywhere' }} data-testid="campaign-link">
      {campaign.name}
    </Anchor>
  );
  const sentText = campaign.launched_at === null ? '–' : sent === null ? '…' : formatNumber(sent, i18n.language);
  if (phone) {
    return (
      <Paper withBorder p="sm" radius="md" data-testid="campaign-row" data-campaign-id={campaign.id}>
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          {link}
          <CampaignStatusBadge status={campaign.status} sending={sending} />
        </Group>
        <Text size="xs" c="dimmed" mt={4}>
          {segmentName} · {campaign.channels.join(', ')}
        </Text>
        <Group justify="space-between" mt={4}>
          <Text size="xs" c="dimmed">
            {formatDateTime(campaign.created_at, i18n.language)}
          </Text>
          <Text size="sm" data-testid="campaign-sent" data-value={sent ?? ''}>
            {t('campaigns.sentCount', { n: sentText })}
          </Text>
        </Group>
      </Paper>
    );
  }
  return (
    <Table.Tr data-testid="campaign-row" data-campaign-id={campaign.id}>
      <Table.Td>{link}</Table.Td>
      <Table.Td>
        <CampaignStatusBadge status={campaign.status} sending={sending} />
      </Table.Td>
      <Table.Td>
        <Text size="sm" lineClamp={2}>
          {segmentName}
        </Text>
      </Table.Td>
      <Table.Td>
        <Text size="sm">{campaign.channels.join(' → ')}</Text>
      </Table.Td>
      <Table.Td ta="right" data-testid="campaign-sent" data-value={sent ?? ''}>
        {sentText}
      </Table.Td>
      <Table.Td>
        <Text size="sm">{formatDateTime(campaign.created_at, i18n.language)}</Text>
      </Table.Td>
    </Table.Tr>
  );
}

export default function CampaignListPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const allowed = can('messaging:read');
  const campaigns = useApi<Campaign[]>(allowed ? '/api/messaging/campaigns' : null);
  const segments = useApi<Segment[]>(allowed && can('segments:read') ? '/api/segments' : null);
  const phone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false });
  const segmentName = (id: string) => segments.data?.find((s) => s.id === id)?.name ?? id;

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={1} size="h2">
          {t('campaigns.title')}
        </Title>
        {can('messaging:send') && (
          <Button component={Link} to="/campaigns/new" data-testid="campaign-new">
            {t('campaigns.new')}
          </Button>
        )}
      </Group>
      {!allowed ? (
        <Empty>{t('common.noPermission')}</Empty>
      ) : (
        <ApiView state={campaigns} isEmpty={(data) => data.length === 0} empty={t('campaigns.none')}>
          {(data) =>
            phone ? (
              <Stack gap="xs" data-testid="campaign-table">
                {data.map((campaign) => (
                  <Row key={campaign.id} campaign={campaign} segmentName={segmentName(campaign.segment_id)} phone />
                ))}
              </Stack>
            ) : (
              <Table.ScrollContainer minWidth={760}>
                <Table highlightOnHover striped verticalSpacing="sm" data-testid="campaign-table">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th scope="col">{t('campaigns.name')}</Table.Th>
                      <Table.Th scope="col">{t('campaigns.statusLabel')}</Table.Th>
                      <Table.Th scope="col">{t('campaigns.segment')}</Table.Th>
                      <Table.Th scope="col">{t('campaigns.channels')}</Table.Th>
                      <Table.Th scope="col" ta="right">
                        {t('campaigns.sent')}
                      </Table.Th>
                      <Table.Th scope="col">{t('campaigns.created')}</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {data.map((campaign) => (
                      <Row key={campaign.id} campaign={campaign} segmentName={segmentName(campaign.segment_id)} phone={false} />
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
