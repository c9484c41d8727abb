import { Alert, Group, Loader, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { Channel, PreviewAnswer } from '../../pages/messaging/types';
import { EmailPreview, JsonPreview, MONO_FONT, LinePreview, MessengerPreview, PushPreview, SmsPreview } from './previews';

export type PreviewState =
  | { status: 'idle' }
  | { status: 'loading'; key: string }
  | { status: 'done'; key: string; data: PreviewAnswer }
  | { status: 'error'; key: string; error: Error };

function channelFor(channels: Channel[] | undefined, kind: string): Channel | undefined {
  const ofKind = (channels ?? []).filter((c) => c.kind === kind);
  return ofKind.find((c) => c.enabled) ?? ofKind[0];
}

/** The sender line of an e-mail from the channel's from_name and from_address. */
function emailSender(channel: Channel | undefined): string {
  if (!channel) return '–';
  const address = typeof channel.config.from_address === 'string' ? channel.config.from_address : '';
  const name = typeof channel.config.from_name === 'string' ? channel.config.from_name : '';
  return name ? `${name} <${address}>` : address || channel.name;
}

/** The rendered message for one kind, or why there is none. */
export function TemplatePreview({
  kind,
  state,
  current,
  pending,
  blocked,
  channels,
  requestedLanguage,
  last,
}: {
  kind: string;
  state: PreviewState;
  /** the last good answer, kept on screen (faded) while a newer one is on its way */
  last: PreviewAnswer | null;
  /** whether `state` answers what is on screen now */
  current: boolean;
  pending: boolean;
  /** a reason no preview is asked for (nothing written, broken JSON, no person) */
  blocked: string | null;
  channels: Channel[] | undefined;
  requestedLanguage: string;
}) {
  const { t } = useTranslation();
  const channel = channelFor(channels, kind);
  if (blocked) {
    return (
      <Text size="sm" c="dimmed" data-testid="preview-blocked">
        {blocked}
      </Text>
    );
  }
  const header = (
    <Group gap="xs" mih={20}>
      {pending && (
        <>
          <Loader size="xs" />
          <Text size="xs" c="dimmed" data-testid="preview-loading">
            {t('templates.preview.updating')}
          </Text>
        </>
      )}
    </Group>
  );
  if (current && state.status === 'error') {
    return (
      <Stack gap="xs">
        {header}
        <Alert color="red" title={t('templates.preview.error')} role="alert" data-testid="preview-error">
          <Text size="sm" ff={MONO_FONT} style={{ overflowWrap: 'anywhere', whiteSpace: 'pre-wrap' }}>
            {state.error.message}
          </Text>
          <Text size="xs" c="dimmed" mt={6}>
            {t('templates.preview.errorHint')}
          </Text>
        </Alert>
      </Stack>
    );
  }
  // Until the answer for what is on screen arrives, the last good one stays, faded.
  const data = current && state.status === 'done' ? state.data : last;
  if (!data || data.kind !== kind) {
    return header;
  }
  const fresh = current && state.status === 'done';
  let body;
  switch (data.kind) {
    case 'line':
      body = <LinePreview content={data.content} title={channel?.name ?? 'LINE Official Account'} />;
      break;
    case 'sms':
      body = (
        <SmsPreview
          answer={data}
          sender={channel && typeof channel.config.sender === 'string' ? channel.config.sender : channel?.name ?? 'SMS'}
        />
      );
      break;
    case 'email':
      body = <EmailPreview content={data.content} sender={emailSender(channel)} />;
      break;
    case 'facebook':
      body = <MessengerPreview content={data.content} title={channel?.name ?? 'Messenger'} />;
      break;
    case 'push':
      body = <PushPreview content={data.content} />;
      break;
    default:
      body = <JsonPreview content={data.content} />;
  }
  return (
    <Stack gap="xs">
      {header}
      {data.language !== requestedLanguage && (
        <Text size="xs" c="orange.8">
          {t('templates.preview.languageFallback', { language: t(`templates.language.${data.language}`) })}
        </Text>
      )}
      <div
        style={{ opacity: fresh ? 1 : 0.55, transition: 'opacity 120ms' }}
        data-testid="preview-content"
        data-current={fresh ? 'true' : 'false'}
        data-kind={data.kind}
      >
        {body}
      </div>
    </Stack>
  );
}
