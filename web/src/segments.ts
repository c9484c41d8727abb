/**
 * The visual builder's rows and the segment condition language (src/sampan/segments/conditions.py):
 * a top-level `all`/`any` group of rules, each turned into one JSON node.
 */
import type { Json } from './api';

export type RuleKind = 'trait' | 'computed' | 'event' | 'identity' | 'consent' | 'lifecycle' | 'rfm';
export const RULE_KINDS: RuleKind[] = ['computed', 'event', 'trait', 'identity', 'consent', 'lifecycle', 'rfm'];

export const TRAIT_OPS = [
  'eq',
  'neq',
  'contains',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'not_exists',
  'within_last_days',
  'anniversary_within_days',
  'anniversary_this_month',
] as const;
export const NUMBER_OPS = ['gte', 'gt', 'eq', 'neq', 'lte', 'lt'] as const;
export const TIME_OPS = ['within_last_days', 'not_within_last_days', 'exists', 'not_exists'] as const;
export const COUNT_OPS = ['gte', 'eq', 'lte', 'gt', 'lt'] as const;

/** Computed traits the builder offers, by kind (lifecycle and RFM group have rows of their own). */
export const COMPUTED_FIELDS: Record<string, 'number' | 'time' | 'text'> = {
  order_count: 'number',
  total_spent: 'number',
  event_count: 'number',
  last_order_at: 'time',
  last_seen_at: 'time',
  first_seen_at: 'time',
  rfm_recency: 'number',
  rfm_frequency: 'number',
  rfm_monetary: 'number',
  bought_category: 'text',
  inactivity: 'text',
};
export const INACTIVITY = ['active', '30_days', '60_days', '90_days'];
export const LIFECYCLE_STAGES = ['new_lead', 'first_time_buyer', 'active', 'loyal_vip', 'at_risk', 'churned'];
export const RFM_GROUPS = [
  'Champions',
  'Loyal',
  'Potential Loyalist',
  'New',
  'Promising',
  'Need Attention',
  'About to Sleep',
  'At Risk',
  "Can't Lose Them",
  'Hibernating',
  'Lost',
];
export const IDENTITY_TYPES = [
  'line_user_id',
  'email',
  'phone',
  'user_id',
  'loyalty_id',
  'facebook_psid',
  'pos_customer_id',
  'device_id',
  'anonymous_id',
];
export const CONTACT_CHANNELS = ['line', 'email', 'sms', 'push', 'facebook', 'phone'];
export const EVENT_NAMES = [
  'Order Completed',
  'Product Viewed',
  'Product Added',
  'Product Removed',
  'Checkout Started',
  'Order Refunded',
  'Page Viewed',
];

/** One row of the builder: every field any kind needs, as typed (strings). */
export interface Rule {
  key: number;
  kind: RuleKind;
  /** trait name, computed field, event name, identity type, consent purpose, stage or group */
  name: string;
  op: string;
  value: string;
  /** trait eq/neq: how to read `value` */
  valueType: 'text' | 'number' | 'boolean';
  /** event: did (true) or did not (false) */
  did: boolean;
  /** event: within the last n days (blank: all time) */
  days: string;
  /** consent */
  channel: string;
  granted: boolean;
}

let nextKey = 1;

const DEFAULT_NAME: Record<RuleKind, string> = {
  computed: 'order_count',
  event: 'Order Completed',
  trait: '',
  identity: 'line_user_id',
  consent: 'marketing',
  lifecycle: 'loyal_vip',
  rfm: 'Champions',
};

const DEFAULT_OP: Record<RuleKind, string> = {
  computed: 'gte',
  event: 'gte',
  trait: 'eq',
  identity: '',
  consent: '',
  lifecycle: 'eq',
  rfm: 'eq',
};

export function newRule(kind: RuleKind = 'computed'): Rule {
  return {
    key: nextKey++,
    kind,
    name: DEFAULT_NAME[kind],
    op: DEFAULT_OP[kind],
    value: kind === 'event' ? '1' : '',
    valueType: 'text',
    did: true,
    days: kind === 'event' ? '90' : '',
    channel: kind === 'consent' ? 'line' : '',
    granted: true,
  };
}

/** The operators a computed field takes, in the builder. */
export function computedOps(field: string): readonly string[] {
  const kind = COMPUTED_FIELDS[field] ?? 'number';
  if (kind === 'time') return TIME_OPS;
  if (kind === 'text') return ['eq', 'neq'];
  return NUMBER_OPS;
}

/** Which input a trait or computed operator needs: a value, a number of days, or nothing. */
export function operand(op: string): 'value' | 'days' | 'none' {
  if (op.endsWith('_days')) return 'days';
  if (['exists', 'not_exists', 'anniversary_this_month'].includes(op)) return 'none';
  return 'value';
}

function number(text: string): number | null {
  const trimmed = text.trim().replace(/,/g, '');
  if (!trimmed) return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
}

/** Why a row cannot be sent yet (a translation key), or null. */
export type Problem = 'name' | 'value' | 'number' | 'days' | null;

/** The JSON node of a row, or what is missing. */
export function ruleToNode(rule: Rule): { node: Record<string, Json> } | { problem: Exclude<Problem, null> } {
  const name = rule.name.trim();
  switch (rule.kind) {
    case 'identity':
      return name ? { node: { identity: name } } : { problem: 'name' };
    case 'consent': {
      if (!name) return { problem: 'name' };
      const consent: Record<string, Json> = { purpose: name };
      if (rule.channel) consent.channel = rule.channel;
      if (!rule.granted) consent.granted = false;
      return { node: { consent } };
    }
    case 'lifecycle':
      return { node: { computed: 'lifecycle_stage', op: 'eq', value: name } };
    case 'rfm':
      return { node: { computed: 'rfm_group', op: 'eq', value: name } };
    case 'event': {
      if (!name) return { problem: 'name' };
      const node: Record<string, Json> = { event: name };
      if (!rule.did) node.did = false;
      else if (name !== '*') {
        const count = number(rule.value);
        if (count === null || count < 0) return { problem: 'number' };
        if (!(rule.op === 'gte' && count === 1)) node.count = { op: rule.op, value: count };
      }
      if (rule.days.trim()) {
        const days = number(rule.days);
        if (days === null || days < 0) return { problem: 'days' };
        node.within_days = days;
      }
      return { node };
    }
    case 'computed':
    case 'trait': {
      if (!name) return { problem: 'name' };
      const node: Record<string, Json> = { [rule.kind]: name, op: rule.op };
      const needs = operand(rule.op);
      if (needs === 'days') {
        const days = number(rule.value);
        if (days === null || days < 0) return { problem: 'days' };
        node.days = days;
      } else if (needs === 'value') {
        const kind = rule.kind === 'computed' ? COMPUTED_FIELDS[name] : null;
        const numeric =
          kind === 'number' ||
          (rule.kind === 'trait' && ['gt', 'gte', 'lt', 'lte'].includes(rule.op) && number(rule.value) !== null) ||
          (rule.kind === 'trait' && ['eq', 'neq'].includes(rule.op) && rule.valueType === 'number');
        if (numeric) {
          const value = number(rule.value);
          if (value === null) return { problem: 'number' };
          node.value = value;
        } else if (rule.kind === 'trait' && ['eq', 'neq'].includes(rule.op) && rule.valueType === 'boolean') {
          node.value = rule.value !== 'false';
        } else {
          if (!rule.value.trim()) return { problem: 'value' };
          node.value = rule.value.trim();
        }
      }
      return { node };
    }
  }
}

export type Match = 'all' | 'any';

/** The whole condition, or the problems of each row (by key). */
export function buildCondition(
  match: Match,
  rules: Rule[],
): { condition: Record<string, Json> | null; problems: Map<number, Exclude<Problem, null>> } {
  const problems = new Map<number, Exclude<Problem, null>>();
  const nodes: Record<string, Json>[] = [];
  for (const rule of rules) {
    const result = ruleToNode(rule);
    if ('problem' in result) problems.set(rule.key, result.problem);
    else nodes.push(result.node);
  }
  if (problems.size || nodes.length === 0) return { condition: null, problems };
  return { condition: { [match]: nodes }, problems };
}

/** The row a server error names, from its path: `condition.all[2].op: ...` → 2. */
export function failingIndex(message: string): number | null {
  const found = /^condition\.(?:all|any)\[(\d+)\]/.exec(message);
  return found ? Number(found[1]) : null;
}
