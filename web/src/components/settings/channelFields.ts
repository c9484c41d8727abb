/**
 * The configuration fields of each channel kind, as src/sampan/messaging/channels/*.py
 * define them (their `Config` models). Only these are edited; any other stored field is
 * sent back unchanged.
 */
import type { ChannelKind } from '../../pages/settings/types';

export type FieldType = 'text' | 'number' | 'secret' | 'select' | 'switch' | 'json' | 'longsecret';

export interface FieldSpec {
  /** Path in `config`, dotted for the SMS gateway's `auth` object. */
  path: string;
  type: FieldType;
  required?: boolean;
  options?: string[];
  /** Shown under "More options". */
  advanced?: boolean;
  /** What a new channel starts with (the server's default). */
  initial?: string | boolean;
  /** For SMS auth fields: the auth type they belong to. */
  authType?: 'bearer' | 'basic' | 'header';
  placeholder?: string;
}

export const AUTH_TYPES = ['none', 'bearer', 'basic', 'header'] as const;

export const CHANNEL_FIELDS: Record<ChannelKind, FieldSpec[]> = {
  email: [
    { path: 'host', type: 'text', required: true, placeholder: 'smtp.example.com' },
    { path: 'port', type: 'number', initial: '587' },
    { path: 'security', type: 'select', options: ['starttls', 'ssl', 'none'], initial: 'starttls' },
    { path: 'username', type: 'text' },
    { path: 'password', type: 'secret' },
    { path: 'from_address', type: 'text', required: true, placeholder: 'news@mail.shop.example' },
    { path: 'from_name', type: 'text' },
    { path: 'reply_to', type: 'text' },
    { path: 'timeout_seconds', type: 'number', advanced: true, initial: '30' },
    { path: 'verify_tls', type: 'switch', advanced: true, initial: true },
    { path: 'helo_name', type: 'text', advanced: true },
    { path: 'max_connections', type: 'number', advanced: true, initial: '4' },
  ],
  line: [
    { path: 'channel_access_token', type: 'secret', required: true },
    { path: 'channel_secret', type: 'secret', required: true },
    { path: 'api_base', type: 'text', advanced: true, initial: 'https://api.line.me' },
    { path: 'timeout_seconds', type: 'number', advanced: true, initial: '10' },
    { path: 'max_connections', type: 'number', advanced: true, initial: '10' },
  ],
  sms: [
    { path: 'url', type: 'text', required: true, placeholder: 'https://api.sms-gateway.example.co.th/v2/sms' },
    { path: 'method', type: 'select', options: ['POST', 'PUT', 'GET'], initial: 'POST' },
    { path: 'auth.type', type: 'select', options: [...AUTH_TYPES], initial: 'none' },
    { path: 'auth.token', type: 'secret', required: true, authType: 'bearer' },
    { path: 'auth.username', type: 'text', required: true, authType: 'basic' },
    { path: 'auth.password', type: 'secret', required: true, authType: 'basic' },
    { path: 'auth.name', type: 'text', required: true, authType: 'header', placeholder: 'X-API-Key' },
    { path: 'auth.value', type: 'secret', required: true, authType: 'header' },
    { path: 'sender', type: 'text', placeholder: 'SHOPTH' },
    { path: 'body_format', type: 'select', options: ['json', 'form'], initial: 'json' },
    { path: 'to_format', type: 'select', options: ['e164_digits', 'e164', 'national'], initial: 'e164_digits' },
    {
      path: 'body_template',
      type: 'json',
      advanced: true,
      initial: '{\n  "msisdn": "{to}",\n  "message": "{text}",\n  "sender": "{sender}"\n}',
    },
    { path: 'message_id_path', type: 'text', advanced: true, initial: 'id' },
    { path: 'max_parts', type: 'number', advanced: true, initial: '6' },
    { path: 'timeout_seconds', type: 'number', advanced: true, initial: '10' },
  ],
  facebook: [
    { path: 'page_access_token', type: 'secret', required: true },
    { path: 'app_secret', type: 'secret', required: true },
    { path: 'verify_token', type: 'secret', required: true },
    {
      path: 'transactional_tag',
      type: 'select',
      options: ['POST_PURCHASE_UPDATE', 'CONFIRMED_EVENT_UPDATE', 'ACCOUNT_UPDATE', 'HUMAN_AGENT'],
      initial: 'POST_PURCHASE_UPDATE',
    },
    { path: 'api_version', type: 'text', advanced: true, initial: 'v26.0' },
    { path: 'graph_base', type: 'text', advanced: true, initial: 'https://graph.facebook.com' },
    { path: 'timeout_seconds', type: 'number', advanced: true, initial: '10' },
  ],
  push: [
    { path: 'vapid_private_key', type: 'longsecret', required: true },
    { path: 'vapid_public_key', type: 'text', required: true },
    { path: 'vapid_subject', type: 'text', required: true, placeholder: 'mailto:it@shop.example' },
    { path: 'ttl_seconds', type: 'number', initial: '86400' },
    { path: 'urgency', type: 'select', options: ['very-low', 'low', 'normal', 'high'], initial: 'normal' },
    { path: 'timeout_seconds', type: 'number', advanced: true, initial: '10' },
    { path: 'allow_http_endpoints', type: 'switch', advanced: true, initial: false },
  ],
  webhook: [
    { path: 'url', type: 'text', required: true, placeholder: 'https://crm.shop.example/hooks/sampan' },
    { path: 'secret', type: 'secret', required: true },
    { path: 'headers', type: 'json', placeholder: '{"X-Tenant": "shop-th"}' },
    { path: 'timeout_seconds', type: 'number', advanced: true, initial: '10' },
  ],
};

export function getPath(config: Record<string, unknown>, path: string): unknown {
  let value: unknown = config;
  for (const part of path.split('.')) {
    if (!value || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The i18n key of a field: dots become underscores (auth.token → auth_token). */
export function fieldKey(path: string): string {
  return path.replace(/\./g, '_');
}
