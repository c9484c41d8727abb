import { Anchor, Badge, Button, Code, Group, Paper, SegmentedControl, Stack, Table, Text, Title } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { ChannelForm } from '../../components/settings/ChannelForm';
import { ApiView, Panel } from '../../components/states';
import { formatDateTime } from '../../format';
import { useApi } from '../../useApi';
import { CHANNEL_KINDS, type ChannelKind, type ChannelOut } from './types';

function KindBadge({ kind }: { kind: string }) {
  const { t } = useTranslation();
  return (
    <Badge variant="light" tt="none" color="indigo">
      {t(`settings.channelKind.${kind}`, { defaultValue: kind })}
    </Badge>
  );
}

function EnabledBadge({ enabled }: { enabled: boolean }) {
  const { t } = useTranslation();
  return (
    <Badge variant="dot" color={enabled ? 'teal' : 'gray'} tt="none">
      {enabled ? t('settings.channels.on') : t('settings.channels.off')}
    </Badge>
  );
}

/** `/settings/channels`: the provider accounts messages go out through. */
export function ChannelsPage() {
  const { t, i18n } = useTranslation();
  const channels = useApi<ChannelOut[]>('/api/messaging/channels');
  const phone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false });
  const link = (channel: ChannelOut) => `/settings/channels/${encodeURIComponent(channel.name)}`;
  return (
    <Panel
      title={t('settings.channels.title')}
      testId="channels-panel"
      actions={
        <Button component={Link} to="/settings/channels/new" size="compact-sm" data-testid="channel-new">
          {t('settings.channels.addChannel')}
        </Button>
      }
    >
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          {t('settings.channels.intro')}
        </Text>
        <ApiView state={channels} isEmpty={(data) => data.length === 0} empty={t('settings.channels.none')}>
          {(data) =>
            phone ? (
              <Stack gap="xs">
                {data.map((channel) => (
                  <Paper key={channel.id} withBorder p="sm" data-testid="channel-row" data-name={channel.name} data-kind={channel.kind}>
                    <Group justify="space-between" wrap="nowrap">
                      <Anchor component={Link} to={link(channel)} fw={600} data-testid="channel-link">
                        {channel.name}
                      </Anchor>
                      <EnabledBadge enabled={channel.enabled} />
                    </Group>
                    <Group gap="xs" mt={4}>
                      <KindBadge kind={channel.kind} />
                      <Text size="xs" c="dimmed">
                        {t('settings.channels.updatedAt', { time: formatDateTime(channel.updated_at, i18n.language) })}
                      </Text>
                    </Group>
                  </Paper>
                ))}
              </Stack>
            ) : (
              <Table.ScrollContainer minWidth={640}>
                <Table verticalSpacing="xs" highlightOnHover>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th scope="col">{t('settings.channels.name')}</Table.Th>
                      <Table.Th scope="col">{t('settings.channels.kind')}</Table.Th>
                      <Table.Th scope="col">{t('settings.channels.status')}</Table.Th>
                      <Table.Th scope="col">{t('settings.channels.rate')}</Table.Th>
                      <Table.Th scope="col">{t('settings.channels.updated')}</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {data.map((channel) => (
                      <Table.Tr key={channel.id} data-testid="channel-row" data-name={channel.name} data-kind={channel.kind}>
                        <Table.Td>
                          <Anchor component={Link} to={link(channel)} fw={600} data-testid="channel-link">
                            {channel.name}
                          </Anchor>
                        </Table.Td>
                        <Table.Td>
                          <KindBadge kind={channel.kind} />
                        </Table.Td>
                        <Table.Td>
                          <EnabledBadge enabled={channel.enabled} />
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">
                            {channel.rate_per_second === null
                              ? t('settings.channels.noLimit')
                              : t('settings.channels.perSecond', { rate: channel.rate_per_second })}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{formatDateTime(channel.updated_at, i18n.language)}</Text>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )
          }
        </ApiView>
        <Text size="xs" c="dimmed">
          {t('settings.channels.noDelete')}
        </Text>
      </Stack>
    </Panel>
  );
}

function Back() {
  const { t } = useTranslation();
  return (
    <Anchor component={Link} to="/settings/channels" size="sm">
      {t('settings.channels.back')}
    </Anchor>
  );
}

/** `/settings/channels/new`: pick the kind, then its form. */
export function ChannelNewPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const phone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false });
  const [kind, setKind] = useState<ChannelKind>('email');
  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={2} size="h3">
          {t('settings.channels.newTitle')}
        </Title>
        <Back />
      </Group>
      <Panel title={t('settings.channels.kind')}>
        <Stack gap="md">
          <SegmentedControl
            value={kind}
            onChange={(value) => setKind(value as ChannelKind)}
            data={CHANNEL_KINDS.map((k) => ({ value: k, label: t(`settings.channelKind.${k}`) }))}
            fullWidth
            orientation={phone ? 'vertical' : 'horizontal'}
            aria-label={t('settings.channels.kind')}
            data-testid="channel-kind"
          />
          <Text size="sm" c="dimmed">
            {t(`settings.channels.kindHint.${kind}`)}
          </Text>
          <ChannelForm
            key={kind}
            kind={kind}
            onSaved={(saved) => navigate(`/settings/channels/${encodeURIComponent(saved.name)}`, { replace: true })}
          />
        </Stack>
      </Panel>
    </Stack>
  );
}

/** `/settings/channels/:name`: change one channel. */
export function ChannelEditPage() {
  const { t, i18n } = useTranslation();
  const { name = '' } = useParams();
  const channels = useApi<ChannelOut[]>('/api/messaging/channels');
  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={2} size="h3" style={{ overflowWrap: 'anywhere' }}>
          {t('settings.channels.editTitle', { name })}
        </Title>
        <Back />
      </Group>
      <ApiView state={channels}>
        {(data) => {
          const channel = data.find((c) => c.name === name);
          if (!channel) {
            return (
              <Text size="sm" data-testid="not-found">
                {t('settings.channels.notFound', { name })}
              </Text>
            );
          }
          return (
            <Panel
              title={
                <Group gap="xs">
                  <Code fz="md">{channel.name}</Code>
                  <KindBadge kind={channel.kind} />
                  <EnabledBadge enabled={channel.enabled} />
                </Group>
              }
              testId="channel-edit"
            >
              <Stack gap="md">
                <Text size="xs" c="dimmed">
                  {t('settings.channels.updatedAt', { time: formatDateTime(channel.updated_at, i18n.language) })}
                </Text>
                <ChannelForm
                  key={channel.id}
                  kind={channel.kind}
                  channel={channel}
                  onSaved={channels.reload}
                />
              </Stack>
            </Panel>
          );
        }}
      </ApiView>
    </Stack>
  );
}
