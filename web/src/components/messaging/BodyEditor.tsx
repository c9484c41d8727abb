import { ActionIcon, Button, Fieldset, Group, Menu, SegmentedControl, Stack, Text, Textarea, TextInput } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { MONO_FONT } from './previews';
import { LINE_SAMPLES, newKey, type BodyDraft, type LineMessageDraft } from './drafts';

const MONO = { input: { fontFamily: MONO_FONT, fontSize: 13 } };
const MAX_LINE_MESSAGES = 5;

interface Props {
  kind: string;
  draft: BodyDraft;
  /** field key → message (client JSON problems and the server's errors) */
  errors: Record<string, string>;
  readOnly: boolean;
  onChange: (draft: BodyDraft) => void;
}

function LineMessages({
  draft,
  errors,
  readOnly,
  onChange,
}: Omit<Props, 'kind' | 'draft' | 'onChange'> & {
  draft: Extract<BodyDraft, { type: 'line' }>;
  onChange: (draft: BodyDraft) => void;
}) {
  const { t } = useTranslation();
  const set = (messages: LineMessageDraft[]) => onChange({ ...draft, messages });
  const update = (key: number, patch: Partial<LineMessageDraft>) =>
    set(draft.messages.map((m) => (m.key === key ? { ...m, ...patch } : m)));
  const add = (message: LineMessageDraft) => set([...draft.messages, message]);

  return (
    <Stack gap="sm">
      {draft.messages.map((message, index) => {
        const error = errors[`messages[${index}]`];
        return (
          <Fieldset
            key={message.key}
            legend={t('templates.editor.lineMessage', { n: index + 1 })}
            p="sm"
            data-testid="line-message"
            style={error ? { borderColor: 'var(--mantine-color-red-6)' } : undefined}
          >
            <Stack gap="xs">
              <Group justify="space-between" wrap="wrap" gap="xs">
                <SegmentedControl
                  size="xs"
                  value={message.mode}
                  disabled={readOnly}
                  aria-label={t('templates.editor.lineMode')}
                  data={[
                    { value: 'text', label: t('templates.editor.modeText') },
                    { value: 'json', label: t('templates.editor.modeJson') },
                  ]}
                  onChange={(mode) => {
                    if (mode === 'json') {
                      update(message.key, { mode: 'json', json: JSON.stringify({ type: 'text', text: message.text }, null, 2) });
                    } else {
                      let text = '';
                      try {
                        const parsed = JSON.parse(message.json) as { text?: unknown };
                        text = typeof parsed.text === 'string' ? parsed.text : '';
                      } catch {
                        text = '';
                      }
                      update(message.key, { mode: 'text', text });
                    }
                  }}
                  data-testid="line-message-mode"
                />
                {!readOnly && draft.messages.length > 1 && (
                  <ActionIcon
                    variant="subtle"
                    color="red"
                    onClick={() => set(draft.messages.filter((m) => m.key !== message.key))}
                    aria-label={t('templates.editor.removeMessage', { n: index + 1 })}
                  >
                    <span aria-hidden="true">✕</span>
                  </ActionIcon>
                )}
              </Group>
              {message.mode === 'text' ? (
                <Textarea
                  label={t('templates.editor.text')}
                  value={message.text}
                  onChange={(event) => update(message.key, { text: event.currentTarget.value })}
                  autosize
                  minRows={3}
                  maxRows={14}
                  readOnly={readOnly}
                  error={error}
                  data-testid="line-text"
                />
              ) : (
                <Textarea
                  label={t('templates.editor.json')}
                  description={t('templates.editor.lineJsonHint')}
                  value={message.json}
                  onChange={(event) => update(message.key, { json: event.currentTarget.value })}
                  autosize
                  minRows={6}
                  maxRows={24}
                  readOnly={readOnly}
                  error={error}
                  styles={MONO}
                  spellCheck={false}
                  data-testid="line-json"
                />
              )}
            </Stack>
          </Fieldset>
        );
      })}
      {!readOnly && draft.messages.length < MAX_LINE_MESSAGES && (
        <Group gap="xs">
          <Button variant="light" size="xs" onClick={() => add({ key: newKey(), mode: 'text', text: '', json: '' })} data-testid="line-add-text">
            {t('templates.editor.addText')}
          </Button>
          <Menu position="bottom-start">
            <Menu.Target>
              <Button variant="light" size="xs" data-testid="line-add-json">
                {t('templates.editor.addRich')}
              </Button>
            </Menu.Target>
            <Menu.Dropdown>
              {(['flex', 'image', 'sticker'] as const).map((type) => (
                <Menu.Item
                  key={type}
                  onClick={() => add({ key: newKey(), mode: 'json', text: '', json: JSON.stringify(LINE_SAMPLES[type], null, 2) })}
                >
                  {t(`templates.editor.lineType.${type}`)}
                </Menu.Item>
              ))}
            </Menu.Dropdown>
          </Menu>
          <Text size="xs" c="dimmed">
            {t('templates.editor.lineLimit', { n: MAX_LINE_MESSAGES })}
          </Text>
        </Group>
      )}
    </Stack>
  );
}

/** The fields of one body: one channel kind in one language. */
export function BodyEditor({ kind, draft, errors, readOnly, onChange }: Props) {
  const { t } = useTranslation();
  switch (draft.type) {
    case 'line':
      return <LineMessages draft={draft} errors={errors} readOnly={readOnly} onChange={onChange} />;
    case 'sms':
      return (
        <Textarea
          label={t('templates.editor.smsText')}
          description={t('templates.editor.smsHint')}
          value={draft.text}
          onChange={(event) => onChange({ ...draft, text: event.currentTarget.value })}
          autosize
          minRows={4}
          maxRows={14}
          readOnly={readOnly}
          error={errors.text}
          data-testid="sms-text"
        />
      );
    case 'email':
      return (
        <Stack gap="sm">
          <TextInput
            label={t('templates.editor.subject')}
            value={draft.subject}
            onChange={(event) => onChange({ ...draft, subject: event.currentTarget.value })}
            readOnly={readOnly}
            error={errors.subject}
            required
            data-testid="email-subject"
          />
          <Textarea
            label={t('templates.editor.emailText')}
            description={t('templates.editor.emailTextHint')}
            value={draft.text}
            onChange={(event) => onChange({ ...draft, text: event.currentTarget.value })}
            autosize
            minRows={4}
            maxRows={16}
            readOnly={readOnly}
            error={errors.text}
            required
            data-testid="email-text"
          />
          <Textarea
            label={t('templates.editor.emailHtml')}
            description={t('templates.editor.emailHtmlHint')}
            value={draft.html}
            onChange={(event) => onChange({ ...draft, html: event.currentTarget.value })}
            autosize
            minRows={5}
            maxRows={20}
            readOnly={readOnly}
            error={errors.html}
            styles={MONO}
            spellCheck={false}
            data-testid="email-html"
          />
        </Stack>
      );
    case 'facebook':
      return (
        <Stack gap="xs">
          <SegmentedControl
            size="xs"
            value={draft.mode}
            disabled={readOnly}
            aria-label={t('templates.editor.lineMode')}
            data={[
              { value: 'text', label: t('templates.editor.modeText') },
              { value: 'json', label: t('templates.editor.modeJson') },
            ]}
            onChange={(mode) =>
              onChange(
                mode === 'json'
                  ? { ...draft, mode: 'json', json: JSON.stringify({ message: { text: draft.text } }, null, 2) }
                  : { ...draft, mode: 'text' },
              )
            }
            style={{ alignSelf: 'flex-start' }}
          />
          {draft.mode === 'text' ? (
            <Textarea
              label={t('templates.editor.text')}
              value={draft.text}
              onChange={(event) => onChange({ ...draft, text: event.currentTarget.value })}
              autosize
              minRows={3}
              readOnly={readOnly}
              error={errors.text ?? errors.message}
              data-testid="facebook-text"
            />
          ) : (
            <Textarea
              label={t('templates.editor.json')}
              description={t('templates.editor.facebookJsonHint')}
              value={draft.json}
              onChange={(event) => onChange({ ...draft, json: event.currentTarget.value })}
              autosize
              minRows={6}
              readOnly={readOnly}
              error={errors.message}
              styles={MONO}
              spellCheck={false}
              data-testid="facebook-json"
            />
          )}
        </Stack>
      );
    case 'push':
      return (
        <Stack gap="sm">
          <TextInput
            label={t('templates.editor.pushTitle')}
            value={draft.title}
            onChange={(event) => onChange({ ...draft, title: event.currentTarget.value })}
            readOnly={readOnly}
            error={errors.title}
            required
            data-testid="push-title"
          />
          <Textarea
            label={t('templates.editor.pushBody')}
            value={draft.body}
            onChange={(event) => onChange({ ...draft, body: event.currentTarget.value })}
            autosize
            minRows={2}
            readOnly={readOnly}
            error={errors.body}
            required
            data-testid="push-body"
          />
          <TextInput
            label={t('templates.editor.pushUrl')}
            value={draft.url}
            onChange={(event) => onChange({ ...draft, url: event.currentTarget.value })}
            readOnly={readOnly}
            error={errors.url}
            placeholder="https://"
          />
          <TextInput
            label={t('templates.editor.pushIcon')}
            value={draft.icon}
            onChange={(event) => onChange({ ...draft, icon: event.currentTarget.value })}
            readOnly={readOnly}
            error={errors.icon}
            placeholder="https://"
          />
        </Stack>
      );
    case 'json':
      return (
        <Textarea
          label={kind === 'webhook' ? t('templates.editor.payload') : t('templates.editor.json')}
          description={kind === 'webhook' ? t('templates.editor.payloadHint') : undefined}
          value={draft.json}
          onChange={(event) => onChange({ ...draft, json: event.currentTarget.value })}
          autosize
          minRows={8}
          readOnly={readOnly}
          error={errors.json}
          styles={MONO}
          spellCheck={false}
          data-testid="json-body"
        />
      );
  }
}
