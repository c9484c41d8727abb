/**
 * The console's only way to the Sampan API: same-origin fetch with the session cookie,
 * the CSRF token on every write, 401 → back to log-in, and `{"detail": ...}` errors thrown
 * as ApiError with the server's message.
 */

const CSRF_KEY = 'sampan.csrf';
const SESSION_HINT_KEY = 'sampan.session';
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let csrfToken: string | null = readStoredToken();
let onUnauthorized: (() => void) | null = null;

function readStoredToken(): string | null {
  try {
    return window.sessionStorage.getItem(CSRF_KEY);
  } catch {
    return null;
  }
}

/** Keep the login answer's csrf_token in memory and in this tab's sessionStorage. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
  try {
    if (token) window.sessionStorage.setItem(CSRF_KEY, token);
    else window.sessionStorage.removeItem(CSRF_KEY);
  } catch {
    // Storage may be unavailable (private mode); the in-memory token still works.
  }
}

/**
 * Whether this browser may hold a console session: set at log-in, cleared at log-out and on
 * a 401. Without it the console skips asking /api/auth/me, so a first visit goes straight
 * to the log-in page instead of making a request that must fail.
 */
export function mayHaveSession(): boolean {
  try {
    return window.localStorage.getItem(SESSION_HINT_KEY) === '1' || csrfToken !== null;
  } catch {
    return true;
  }
}

export function setSessionHint(present: boolean): void {
  try {
    if (present) window.localStorage.setItem(SESSION_HINT_KEY, '1');
    else window.localStorage.removeItem(SESSION_HINT_KEY);
  } catch {
    // without storage the console simply asks /api/auth/me every time
  }
}

export function hasCsrfToken(): boolean {
  return csrfToken !== null;
}

/** Called on any 401 outside the log-in itself: the session is gone. */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

/** An API answer that was not 2xx: `status` and the server's `detail`. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;

  constructor(status: number, message: string, body: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

/** Raised before sending a write when this tab holds no CSRF token (log in again). */
export class MissingCsrfError extends Error {
  constructor() {
    super('missing CSRF token');
    this.name = 'MissingCsrfError';
  }
}

function detailOf(body: unknown, fallback: string): string {
  if (body && typeof body === 'object' && 'detail' in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === 'string') return detail;
    // FastAPI's validation errors: a list of {loc, msg}.
    if (Array.isArray(detail)) {
      const messages = detail
        .map((item: unknown) => {
          if (item && typeof item === 'object' && 'msg' in item) {
            const { msg, loc } = item as { msg: unknown; loc?: unknown };
            const where = Array.isArray(loc) ? loc.filter((p) => p !== 'body').join('.') : '';
            return where ? `${where}: ${String(msg)}` : String(msg);
          }
          return String(item);
        })
        .filter(Boolean);
      if (messages.length) return messages.join('; ');
    }
  }
  return fallback;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  /** Do not treat a 401 as the end of the session (log-in and the first /me). */
  quietUnauthorized?: boolean;
}

/** Send a request the console's way and return the 2xx response; anything else is thrown. */
async function send(path: string, options: RequestOptions, accept: string): Promise<Response> {
  const method = (options.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = { Accept: accept };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (WRITES.has(method) && path !== '/api/auth/login') {
    if (!csrfToken) throw new MissingCsrfError();
    headers['X-CSRF-Token'] = csrfToken;
  }
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  if (response.ok) return response;
  const text = await response.text();
  let body: unknown = text || null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: kept as text
  }
  if (response.status === 401 && !options.quietUnauthorized) {
    setCsrfToken(null);
    setSessionHint(false);
    onUnauthorized?.();
  }
  throw new ApiError(response.status, detailOf(body, `${response.status} ${response.statusText}`.trim()), body);
}

export async function apiFetch<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options, 'application/json');
  const text = await response.text();
  if (!text) return null as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as T;
  }
}

/** A file answer (an export's ZIP): its bytes and the name the server gives it. */
export async function apiFetchFile(
  path: string,
  options: RequestOptions = {},
): Promise<{ blob: Blob; filename: string | null }> {
  const response = await send(path, options, 'application/zip, application/octet-stream, application/json');
  const disposition = response.headers.get('Content-Disposition') ?? '';
  return { blob: await response.blob(), filename: /filename="([^"]+)"/.exec(disposition)?.[1] ?? null };
}

/** Build a path with a query string, leaving out empty values. */
export function withQuery(
  path: string,
  params: Record<string, string | number | null | undefined>,
): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

// -- shapes of the answers the console reads ------------------------------------------------

export interface PrincipalInfo {
  kind: string;
  id: string;
  name: string;
  role: string | null;
  permissions: string[];
}

export interface LoginAnswer {
  user: { id: string; email: string; name: string; role: string };
  csrf_token: string;
  expires_at: string;
}

export interface Identifier {
  type: string;
  value: string;
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface ProfileSummary {
  id: string;
  display_name: string | null;
  traits: Record<string, Json>;
  computed: Record<string, Json>;
}

export interface SearchPage {
  items: ProfileSummary[];
  total: number;
}

export interface Note {
  id: number;
  author: string;
  body: string;
  created_at: string;
}

export interface Merge {
  id: number;
  survivor_id: string;
  merged_id: string;
  event_seq: number | null;
  merged_at: string;
  undone_at: string | null;
  moved: Identifier[];
  trigger: Identifier[];
}

export interface Profile360 {
  id: string;
  display_name: string | null;
  identities: Identifier[];
  traits: Record<string, Json>;
  custom_attributes: Record<string, Json>;
  computed: Record<string, Json>;
  notes: Note[];
  merges: Merge[];
  created_at: string;
  updated_at: string;
}

export interface TimelineItem {
  seq: number;
  type: string;
  name: string | null;
  channel: string;
  timestamp: string;
  received_at: string;
  source_id: string;
  message: { properties?: Record<string, Json>; traits?: Record<string, Json> } & Record<
    string,
    Json | undefined
  >;
}

export interface TimelinePage {
  items: TimelineItem[];
  next_cursor: string | null;
}

export interface ConsentRecord {
  id: number;
  purpose: string;
  channel: string | null;
  status: string;
  lawful_basis: string;
  notice_version: string | null;
  source: string;
  capture_channel: string | null;
  recorded_by: string;
  recorded_at: string;
  expires_at: string | null;
}

export interface ConsentSlot {
  purpose: string;
  channel: string | null;
  status: 'granted' | 'withdrawn' | 'expired' | 'none';
  requires_consent: boolean;
  record: ConsentRecord | null;
}

export interface ConsentState {
  profile_id: string;
  blocks: string[];
  current: ConsentSlot[];
  history: ConsentRecord[];
}

export interface ConsentPurpose {
  name: string;
  title_th: string;
  title_en: string;
  per_channel: boolean;
  requires_consent: boolean;
}

/** Money comes as a decimal string ("2470.00"). */
export type Decimal = string | number;

export interface CartItem {
  sku: string;
  product_id: string;
  name: string;
  quantity: number;
  unit_price: Decimal;
  line_total: Decimal;
  channel: string;
  held: number;
  available: number;
}

export interface Cart {
  id: string;
  profile_id: string | null;
  status: string;
  channel: string;
  location_id: string | null;
  items: CartItem[];
  total: Decimal;
  currency: string;
  updated_at: string;
}

export interface OrderLine {
  line_no: number;
  sku: string;
  name: string;
  quantity: number;
  unit_price: Decimal;
  location_id: string | null;
  status: string;
}

export interface Order {
  id: string;
  profile_id: string | null;
  channel: string;
  status: string;
  payment_status: string;
  method: string;
  pickup_location_id: string | null;
  total: Decimal;
  currency: string;
  lines: OrderLine[];
  created_at: string;
}

export interface CounterView {
  profile_id: string;
  display_name: string | null;
  identifiers: Identifier[];
  cart: Cart | null;
  orders: Order[];
}

export interface Location {
  id: string;
  name: string;
  kind: string;
  address: string;
  active: boolean;
}

export interface Journey {
  id: string;
  name: string;
  status: 'draft' | 'live' | 'paused' | 'archived';
}

export type FunnelStage = 'awareness' | 'consideration' | 'purchase' | 'retention' | 'advocacy';

/** GET /api/analytics/overview: the home dashboard's figures. */
export interface Overview {
  people: number;
  identified: number;
  /** 0–1 */
  identified_share: number;
  events_today: number;
  live_journeys: number;
  journeys: number;
  orders: number;
  /** baht, a decimal string */
  revenue: Decimal;
  currency: string;
  channels_today: { channel: string; events: number }[];
  funnel: { stage: FunnelStage; people: number }[];
  today_from: string;
  at: string;
}

export interface Segment {
  id: string;
  /** The ready-made segment's key; null for segments made by users. */
  key: string | null;
  name: string;
  description: string;
  condition: Record<string, Json>;
  version: number;
  time_based: boolean;
  size: number;
  created_at: string;
  updated_at: string;
}

/** A person in a preview or a member list; `display_name` is masked without pii:read. */
export interface SegmentMember {
  profile_id: string;
  display_name: string | null;
  since: string | null;
}

/** POST /api/segments/preview */
export interface SegmentPreview {
  count: number;
  sample: SegmentMember[];
}

export interface SegmentMemberPage {
  items: SegmentMember[];
  total: number;
  next_cursor: string | null;
}

export interface SegmentSizePoint {
  at: string;
  size: number;
}
