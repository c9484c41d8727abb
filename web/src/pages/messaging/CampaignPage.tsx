import { Alert, Anchor, Group, Stack, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useAuth } from '../../auth';
import { pendingOf } from '../../components/messaging/campaign';
import { CampaignForm } from '../../components/messaging/CampaignForm';
import { CampaignResults, CampaignStatusBadge } from '../../components/messaging/CampaignResults';
import { ApiView, Empty } from '../../components/states';
import { formatDateTime } from '../../format';
import { useApi } from '../../useApi';
import type { Campaign, CampaignStats } from './types';

// While messages wait to be sent, the results are read again every 5 seconds.
const POLL_MS = 5_000;

function Header({ title, status, sending }: { title: string; status?: string; sending?: boolean }) {
  const { t } = useTranslation();
  return (
    <Group justify="space-between" wrap="wrap" gap="xs">
      <Group gap="sm" wrap="wrap" style={{ minWidth: 0 }}>
        <Title order={1} size="h2" style={{ overflowWrap: 'anywhere' }} data-testid="campaign-title">
          {title}
        </Title>
        {status && <CampaignStatusBadge status={status} sending={sending} />}
      </Group>
      <Anchor component={Link} to="/campaigns" size="sm">
        {t('campaigns.backToList')}
      </Anchor>
    </Group>
  );
}

export function CampaignNewPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  return (
    <Stack gap="md">
      <Header title={t('campaigns.newTitle')} />
      {can('messaging:send') ? <CampaignForm initial={null} /> : <Empty>{t('common.noPermission')}</Empty>}
    </Stack>
  );
}

export default function CampaignPage() {
  const { id = '' } = useParams();
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const allowed = can('messaging:read');
  const campaign = useApi<Campaign>(allowed ? `/api/messaging/campaigns/${encodeURIComponent(id)}` : null);
  const launched = !!campaign.data && (campaign.data.launched_at !== null || campaign.data.status === 'sent' || campaign.data.status === 'sending');
  const [polling, setPolling] = useState(true);
  const stats = useApi<CampaignStats>(
    launched ? `/api/messaging/campaigns/${encodeURIComponent(id)}/stats` : null,
    launched && polling && campaign.data?.status !== 'cancelled' ? POLL_MS : undefined,
  );
  const pending = pendingOf(stats.data);
  useEffect(() => {
    if (stats.data) setPolling(pending > 0);
  }, [stats.data, pending]);

  if (!allowed) {
    return (
      <Stack gap="md">
        <Header title={t('campaigns.title')} />
        <Empty>{t('common.noPermission')}</Empty>
      </Stack>
    );
  }
  return (
    <ApiView state={campaign}>
      {(data) => (
        <Stack gap="md">
          <Header title={data.name} status={data.status} sending={pending > 0} />
          {data.launched_at && (
            <Text size="sm" c="dimmed">
              {t('campaigns.launchedOn', { time: formatDateTime(data.launched_at, i18n.language) })}
            </Text>
          )}
          {launched ? (
            <CampaignResults campaign={data} stats={stats} onChanged={campaign.reload} />
          ) : data.status === 'cancelled' ? (
            <Alert color="gray" data-testid="campaign-cancelled">
              {t('campaigns.cancelledUnsent')}
            </Alert>
          ) : (
            <CampaignForm key={`${data.id}:${data.status}:${data.scheduled_at ?? ''}`} initial={data} onChanged={campaign.reload} />
          )}
        </Stack>
      )}
    </ApiView>
  );
}
