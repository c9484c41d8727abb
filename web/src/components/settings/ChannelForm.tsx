import {
  Alert,
  Button,
  Collapse,
  Group,
  JsonInput,
  NumberInput,
  PasswordInput,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import { useMemo, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { apiFetch } from '../../api';
import { SECRET_MASK, type ChannelKind, type ChannelOut } from '../../pages/settings/types';
import { ErrorNotice } from '../states';
import { CHANNEL_FIELDS, fieldKey, getPath, type FieldSpec } from './channelFields';
import { CopyValue } from './common';
import { NO_ERRORS, placeErrors, type PlacedErrors } from './errors';

type Values = Record<string, string | boolean>;

function initialValues(kind: ChannelKind, channel?: ChannelOut): Values {
  const values: Values = {};
  for (const field of CHANNEL_FIELDS[kind]) {
    if (!channel) {
      values[field.path] = field.initial ?? (field.type === 'switch' ? false : '');
      continue;
    }
    const stored = getPath(channel.config, field.path);
    if (field.path === 'auth.type') {
      values[field.path] = typeof stored === 'string' ? stored : 'none';
    } else if (field.type === 'secret' || field.type === 'longsecret') {
      values[field.path] = '';
    } else if (field.type === 'switch') {
      values[field.path] = typeof stored === 'boolean' ? stored : (field.initial ?? false);
    } else if (field.type === 'json') {
      values[field.path] =
        stored && typeof stored === 'object' && Object.keys(stored).length ? JSON.stringify(stored, null, 2) : '';
    } else {
      values[field.path] = stored === null || stored === undefined ? '' : String(stored);
    }
  }
  return values;
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{1,59}$/;

/**
 * Add or change a channel. Secret fields are write-only: left empty, the stored secret is
 * kept (the server's mask is sent back); the server's refusals land on the fields they name.
 */
export function ChannelForm({
  kind,
  channel,
  onSaved,
  extra,
}: {
  kind: ChannelKind;
  channel?: ChannelOut;
  onSaved: (saved: ChannelOut) => void;
  extra?: ReactNode;
}) {
  const { t } = useTranslation();
  const fields = CHANNEL_FIELDS[kind];
  const [values, setValues] = useState<Values>(() => initialValues(kind, channel));
  const [name, setName] = useState(channel?.name ?? '');
  const [enabled, setEnabled] = useState(channel?.enabled ?? true);
  const [rate, setRate] = useState<string | number>(channel?.rate_per_second ?? '');
  const [advanced, setAdvanced] = useState(false);
  const [errors, setErrors] = useState<PlacedErrors>(NO_ERRORS);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const origin = window.location.origin;

  const authType = String(values['auth.type'] ?? 'none');
  const visible = (field: FieldSpec) => !field.authType || field.authType === authType;
  const storedAuthType = channel ? getPath(channel.config, 'auth.type') : undefined;
  const isSet = (field: FieldSpec) => {
    if (!channel || getPath(channel.config, field.path) !== SECRET_MASK) return false;
    return !field.authType || storedAuthType === authType;
  };
  const set = (path: string, value: string | boolean) => {
    setSaved(false);
    setValues((previous) => ({ ...previous, [path]: value }));
  };

  /** The config to send, or the fields the reader must fill first. */
  function build(): { config: Record<string, unknown> | null; problems: Record<string, string> } {
    const problems: Record<string, string> = {};
    const config: Record<string, unknown> = channel ? structuredClone(channel.config) : {};
    let auth: Record<string, unknown> | null = null;
    if (kind === 'sms') {
      delete config.auth;
      if (authType !== 'none') auth = { type: authType };
    }
    for (const field of fields) {
      if (field.path === 'auth.type' || !visible(field)) continue;
      const target = field.path.startsWith('auth.') ? auth : config;
      if (!target) continue;
      const key = field.path.split('.').pop() ?? field.path;
      const raw = values[field.path];
      if (field.type === 'switch') {
        target[key] = raw === true;
        continue;
      }
      const text = typeof raw === 'string' ? raw.trim() : '';
      if (field.type === 'secret' || field.type === 'longsecret') {
        if (text) target[key] = text;
        else if (isSet(field)) target[key] = SECRET_MASK;
        else {
          delete target[key];
          if (field.required) problems[field.path] = t('settings.channels.required');
        }
        continue;
      }
      if (!text) {
        delete target[key];
        if (field.required) problems[field.path] = t('settings.channels.required');
        continue;
      }
      if (field.type === 'number') {
        const number = Number(text);
        if (!Number.isFinite(number)) problems[field.path] = t('settings.channels.notNumber');
        else target[key] = number;
      } else if (field.type === 'json') {
        try {
          const parsed: unknown = JSON.parse(text);
          if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
            problems[field.path] = t('settings.channels.notObject');
          } else target[key] = parsed;
        } catch (error) {
          problems[field.path] = error instanceof Error ? error.message : String(error);
        }
      } else {
        target[key] = text;
      }
    }
    if (auth) config.auth = auth;
    if (!channel && !NAME_PATTERN.test(name)) problems.name = t('settings.channels.namePattern');
    const rateNumber = rate === '' ? null : Number(rate);
    if (rateNumber !== null && !(rateNumber > 0)) problems.rate = t('settings.channels.ratePositive');
    return { config: Object.keys(problems).length ? null : config, problems };
  }

  const matchError = useMemo(() => {
    const paths = fields.map((f) => f.path);
    return (message: string, loc: string[] | null): string | null => {
      if (loc && loc.length) {
        if (loc[0] === 'name') return 'name';
        if (loc[0] === 'rate_per_second') return 'rate';
        if (loc[0] === 'config' && loc.length > 1) {
          const path = loc.slice(1).join('.');
          if (paths.includes(path)) return path;
        }
        return null;
      }
      const named = /^config\.([\w.]+|\(root\)):/.exec(message);
      if (named?.[1]) {
        const path = named[1];
        if (paths.includes(path)) return path;
        if (path === 'auth' && paths.includes('auth.type')) return 'auth.type';
        // A rule across fields ("username and password must be given together: password is
        // missing"): the field it ends by naming.
        const missing = /(\w+) is missing/.exec(message)?.[1];
        if (missing && paths.includes(missing)) return missing;
        const prefix = paths.find((p) => p.startsWith(`${path}.`));
        if (prefix) return prefix;
      }
      if (/a channel named/.test(message)) return 'name';
      return null;
    };
  }, [fields]);

  /** The server's words without the field name that the placement already says. */
  const shown = (message: string | undefined) =>
    message?.replace(/^config\.[\w.()]+:\s*/, '').replace(/^Value error,\s*/, '');

  async function submit(event: FormEvent) {
    event.preventDefault();
    const { config, problems } = build();
    if (!config) {
      setErrors({ fields: problems, general: null });
      return;
    }
    setSaving(true);
    setErrors(NO_ERRORS);
    setSaved(false);
    const body = {
      name: channel?.name ?? name,
      kind,
      config,
      enabled,
      rate_per_second: rate === '' ? null : Number(rate),
    };
    try {
      const result = channel
        ? await apiFetch<ChannelOut>(`/api/messaging/channels/${encodeURIComponent(channel.name)}`, {
            method: 'PUT',
            body,
          })
        : await apiFetch<ChannelOut>('/api/messaging/channels', { method: 'POST', body });
      setValues(initialValues(kind, result));
      setSaved(true);
      onSaved(result);
    } catch (error) {
      setErrors(placeErrors(error, matchError));
    } finally {
      setSaving(false);
    }
  }

  const label = (field: FieldSpec) => t(`settings.channels.field.${fieldKey(field.path)}`, { defaultValue: field.path });
  const hint = (field: FieldSpec) => {
    const text = t(`settings.channels.hint.${fieldKey(field.path)}`, { defaultValue: '' });
    return text || undefined;
  };

  function input(field: FieldSpec) {
    const testId = `channel-field-${fieldKey(field.path)}`;
    const error = shown(errors.fields[field.path]);
    const value = values[field.path];
    const common = {
      label: label(field),
      description: hint(field),
      error,
      'data-testid': testId,
    };
    switch (field.type) {
      case 'switch':
        return (
          <Switch
            key={field.path}
            {...common}
            checked={value === true}
            onChange={(event) => set(field.path, event.currentTarget.checked)}
          />
        );
      case 'select':
        return (
          <Select
            key={field.path}
            {...common}
            value={String(value)}
            onChange={(next) => next !== null && set(field.path, next)}
            data={(field.options ?? []).map((option) => ({
              value: option,
              label: t(`settings.channels.option.${option}`, { defaultValue: option }),
            }))}
            allowDeselect={false}
          />
        );
      case 'number':
        return (
          <NumberInput
            key={field.path}
            {...common}
            value={String(value)}
            onChange={(next) => set(field.path, String(next))}
            required={field.required}
            min={0}
            allowNegative={false}
          />
        );
      case 'json':
        return (
          <JsonInput
            key={field.path}
            {...common}
            value={String(value)}
            onChange={(next) => set(field.path, next)}
            placeholder={field.placeholder}
            autosize
            minRows={3}
            formatOnBlur
            spellCheck={false}
          />
        );
      case 'secret':
      case 'longsecret': {
        const already = isSet(field);
        const props = {
          ...common,
          description: already ? t('settings.channels.secretKeep') : hint(field),
          placeholder: already ? t('settings.channels.secretSet') : t('settings.channels.secretNotSet'),
          required: field.required && !already,
          autoComplete: 'new-password',
          spellCheck: false,
          'data-set': already ? 'true' : 'false',
        };
        return field.type === 'longsecret' ? (
          <Textarea key={field.path} {...props} value={String(value)} onChange={(event) => set(field.path, event.currentTarget.value)} autosize minRows={2} />
        ) : (
          <PasswordInput key={field.path} {...props} value={String(value)} onChange={(event) => set(field.path, event.currentTarget.value)} />
        );
      }
      default:
        return (
          <TextInput
            key={field.path}
            {...common}
            value={String(value)}
            onChange={(event) => set(field.path, event.currentTarget.value)}
            placeholder={field.placeholder}
            required={field.required}
            spellCheck={false}
          />
        );
    }
  }

  const main = fields.filter((f) => !f.advanced && visible(f));
  const more = fields.filter((f) => f.advanced && visible(f));
  const webhookName = channel?.name ?? (NAME_PATTERN.test(name) ? name : '{name}');
  const webhook = kind === 'line' || kind === 'facebook' ? `${origin}/webhooks/${kind}/${webhookName}` : null;

  return (
    <form onSubmit={submit} data-testid="channel-form" data-kind={kind} noValidate>
      <Stack gap="md">
        {!channel && (
          <TextInput
            label={t('settings.channels.name')}
            description={t('settings.channels.nameHint')}
            value={name}
            onChange={(event) => {
              setSaved(false);
              setName(event.currentTarget.value.toLowerCase());
            }}
            error={errors.fields.name}
            required
            maxLength={60}
            spellCheck={false}
            data-testid="channel-name"
          />
        )}
        {webhook && (
          <Stack gap={4} data-testid="channel-webhook">
            <Text size="sm" fw={600}>
              {t(`settings.channels.webhook.${kind}`)}
            </Text>
            <CopyValue value={webhook} label={t('settings.channels.webhookUrl')} testId="channel-webhook-url" />
            <Text size="xs" c="dimmed">
              {t('settings.channels.webhookHint')}
            </Text>
            {channel?.webhook_url && channel.webhook_url !== webhook && (
              <Text size="xs" c="dimmed">
                {t('settings.channels.webhookPublic', { url: channel.webhook_url })}
              </Text>
            )}
          </Stack>
        )}
        {extra}
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md" verticalSpacing="sm">
          {main.map((field) => input(field))}
        </SimpleGrid>
        {more.length > 0 && (
          <Stack gap="xs">
            <Group>
              <Button
                variant="subtle"
                size="compact-sm"
                onClick={() => setAdvanced((v) => !v)}
                aria-expanded={advanced}
                data-testid="channel-advanced"
              >
                {advanced ? t('settings.channels.lessOptions') : t('settings.channels.moreOptions')}
              </Button>
            </Group>
            <Collapse in={advanced || more.some((f) => errors.fields[f.path])}>
              <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md" verticalSpacing="sm">
                {more.map((field) => input(field))}
              </SimpleGrid>
            </Collapse>
          </Stack>
        )}
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md" verticalSpacing="sm">
          <NumberInput
            label={t('settings.channels.rate')}
            description={t('settings.channels.rateHint')}
            value={rate}
            onChange={(next) => {
              setSaved(false);
              setRate(next);
            }}
            error={errors.fields.rate}
            min={0}
            allowNegative={false}
            data-testid="channel-rate"
          />
          <Switch
            label={t('settings.channels.enabled')}
            description={t('settings.channels.enabledHint')}
            checked={enabled}
            onChange={(event) => {
              setSaved(false);
              setEnabled(event.currentTarget.checked);
            }}
            mt={{ base: 0, sm: 'md' }}
            data-testid="channel-enabled"
          />
        </SimpleGrid>
        {errors.general && <ErrorNotice error={errors.general} />}
        {Object.keys(errors.fields).length > 0 && !errors.general && (
          <Alert color="red" role="alert" data-testid="channel-errors">
            {t('settings.channels.fixFields')}
          </Alert>
        )}
        {saved && (
          <Alert color="teal" role="status" data-testid="channel-saved">
            {t('settings.channels.saved')}
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={saving} data-testid="channel-save">
            {channel ? t('settings.channels.save') : t('settings.channels.add')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
