/** Shapes of the API answers the settings screens read (see the server's schemas). */

export type SourceKind = 'web' | 'app' | 'pos' | 'line' | 'facebook' | 'email' | 'callcenter' | 'server';

export const SOURCE_KINDS: SourceKind[] = ['web', 'app', 'pos', 'line', 'facebook', 'email', 'callcenter', 'server'];

/** GET /api/sources (src/sampan/collect/schemas.py SourceInfo): never the write key. */
export interface SourceInfo {
  id: string;
  name: string;
  kind: SourceKind;
  enabled: boolean;
  write_key_prefix: string;
  created_at: string;
}

/** POST /api/sources: the only answer that holds the write key. */
export interface IssuedSource extends SourceInfo {
  write_key: string;
}

/** GET /api/keys (src/sampan/access/schemas.py ApiKeyInfo): never the secret. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  role: string;
  scopes: string[] | null;
  permissions: string[];
  created_at: string;
  created_by: string | null;
  expires_at: string | null;
  revoked_at: string | null;
}

/** POST /api/keys: the only answer that holds the secret. */
export interface IssuedApiKey extends ApiKeyInfo {
  api_key: string;
}

/** GET /api/roles */
export interface RoleInfo {
  name: string;
  description: string;
  permissions: string[];
}

/** GET /api/users: never the password hash. */
export interface UserInfo {
  id: string;
  email: string;
  name: string;
  role: string;
  disabled: boolean;
  locked_until: string | null;
  created_at: string;
  last_login_at: string | null;
}

/** GET /api/audit */
export interface AuditEntry {
  id: number;
  at: string;
  actor_kind: string;
  actor_id: string;
  actor_role: string | null;
  action: string;
  subject_type: string;
  subject_id: string | null;
  detail: Record<string, unknown>;
}

export interface AuditPage {
  items: AuditEntry[];
  next_cursor: string | null;
}

export type ChannelKind = 'line' | 'email' | 'sms' | 'facebook' | 'push' | 'webhook';

export const CHANNEL_KINDS: ChannelKind[] = ['line', 'email', 'sms', 'facebook', 'push', 'webhook'];

/**
 * GET /api/messaging/channels (src/sampan/messaging/schemas.py ChannelOut): secret fields
 * come back as the mask `**********`; sending the mask back keeps the stored value.
 */
export interface ChannelOut {
  id: string;
  name: string;
  kind: ChannelKind;
  config: Record<string, unknown>;
  enabled: boolean;
  rate_per_second: number | null;
  webhook_url: string | null;
  created_at: string;
  updated_at: string;
}

export const SECRET_MASK = '**********';

export type RequestType = 'access' | 'rectification' | 'erasure' | 'restriction' | 'objection';
export type RequestStatus = 'open' | 'in_progress' | 'completed' | 'rejected';

export const REQUEST_TYPES: RequestType[] = ['access', 'erasure', 'rectification', 'restriction', 'objection'];
export const REQUEST_STATUSES: RequestStatus[] = ['open', 'in_progress', 'completed', 'rejected'];

export interface RequestStep {
  at: string;
  actor: string;
  action: string;
  note: string;
}

/** A data-subject request (src/sampan/consent/schemas.py RequestOut). */
export interface PrivacyRequest {
  id: string;
  type: RequestType;
  profile_id: string;
  requester: string;
  verification_note: string;
  details: Record<string, unknown>;
  status: RequestStatus;
  received_at: string;
  due_at: string;
  closed_at: string | null;
  overdue: boolean;
  result: Record<string, unknown>;
  steps: RequestStep[];
}

export interface RequestPage {
  items: PrivacyRequest[];
  total: number;
}

export interface RetentionRule {
  name: string;
  description: string;
  days: number;
}

export interface RetentionRun {
  started_at: string;
  finished_at: string;
  removed: Record<string, number>;
  rules: Record<string, number>;
}

export interface RetentionReport {
  rules: RetentionRule[];
  runs: RetentionRun[];
}
