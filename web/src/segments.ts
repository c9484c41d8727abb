/**
 * The visual builder's tree and the segment condition language (src/sampan/segments/conditions.py):
 * groups (all / any, optionally negated) of rules and further groups, each turned into one JSON
 * node, and back: `treeFromCondition` reads a saved condition into the builder when it can.
 */
import type { Json } from './api';

export type RuleKind = 'trait' | 'computed' | 'event' | 'identity' | 'consent' | 'lifecycle' | 'rfm' | 'segment';
export const RULE_KINDS: RuleKind[] = ['computed', 'event', 'trait', 'identity', 'consent', 'lifecycle', 'rfm', 'segment'];

export const TRAIT_OPS = [
  'eq',
  'neq',
  'in',
  'not_in',
  'contains',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'not_exists',
  'within_last_days',
  'not_within_last_days',
  'anniversary_within_days',
  'anniversary_this_month',
] as const;
export const NUMBER_OPS = ['gte', 'gt', 'eq', 'neq', 'lte', 'lt', 'exists', 'not_exists'] as const;
export const TIME_OPS = ['within_last_days', 'not_within_last_days', 'exists', 'not_exists'] as const;
export const TEXT_OPS = ['eq', 'neq', 'in', 'not_in'] as const;
export const COUNT_OPS = ['gte', 'eq', 'lte', 'gt', 'lt'] as const;
export const PROPERTY_OPS = ['eq', 'neq', 'in', 'contains', 'gt', 'gte', 'lt', 'lte', 'exists'] as const;
export const MEASURES = ['count', 'sum', 'avg'] as const;
export type Measure = (typeof MEASURES)[number];

/** What the server's vocabulary says; the builder starts from these until it answers. */
export interface Vocabulary {
  computed: Record<string, 'number' | 'time' | 'text'>;
  lifecycle_stages: string[];
  rfm_groups: string[];
  inactivity: string[];
  identifier_types: string[];
  purposes: Record<string, string[]>;
  events: { name: string; people: number; properties: string[] }[];
}

export const DEFAULT_VOCABULARY: Vocabulary = {
  computed: {
    order_count: 'number',
    total_spent: 'number',
    event_count: 'number',
    last_order_at: 'time',
    last_seen_at: 'time',
    first_seen_at: 'time',
    rfm_recency: 'number',
    rfm_frequency: 'number',
    rfm_monetary: 'number',
    rfm_group: 'text',
    lifecycle_stage: 'text',
    inactivity: 'text',
    bought_category: 'text',
  },
  lifecycle_stages: ['new_lead', 'first_time_buyer', 'active', 'loyal_vip', 'at_risk', 'churned'],
  rfm_groups: [
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
  ],
  inactivity: ['active', '30_days', '60_days', '90_days'],
  identifier_types: ['line_user_id', 'email', 'phone', 'user_id', 'loyalty_id', 'facebook_psid', 'pos_customer_id'],
  purposes: { marketing: ['line', 'email', 'sms', 'push', 'facebook', 'phone'] },
  events: [],
};

/** Computed traits with a row kind of their own (lifecycle, RFM group) are not offered as figures. */
export function figureFields(vocabulary: Vocabulary): string[] {
  return Object.keys(vocabulary.computed).filter((field) => field !== 'lifecycle_stage' && field !== 'rfm_group');
}

export interface PropertyFilter {
  key: number;
  property: string;
  op: string;
  value: string;
}

/** One rule of the builder: every field any kind needs, as typed (strings). */
export interface Rule {
  type: 'rule';
  key: number;
  kind: RuleKind;
  /** trait name, computed field, event name, identity type, consent purpose, stage, group or segment id */
  name: string;
  op: string;
  value: string;
  /** trait eq/neq: how to read `value` */
  valueType: 'text' | 'number' | 'boolean';
  /** event: did (true) or did not (false) */
  did: boolean;
  /** event: within the last n days (blank: all time) */
  days: string;
  /** event: count the events, or sum / average one of their properties */
  measure: Measure;
  measureProperty: string;
  /** event: only events whose properties pass these filters */
  where: PropertyFilter[];
  /** consent */
  channel: string;
  granted: boolean;
}

export type Match = 'all' | 'any';

export interface Group {
  type: 'group';
  key: number;
  match: Match;
  /** `{"not": ...}` around the group: nobody it selects */
  negate: boolean;
  children: Node[];
}

export type Node = Rule | Group;

/** How deep the builder nests groups (the server allows more; JSON mode edits those). */
export const MAX_GROUP_DEPTH = 3;

let nextKey = 1;
export const freshKey = () => nextKey++;

const DEFAULT_NAME: Record<RuleKind, string> = {
  computed: 'order_count',
  event: 'Order Completed',
  trait: '',
  identity: 'line_user_id',
  consent: 'marketing',
  lifecycle: 'loyal_vip',
  rfm: 'Champions',
  segment: '',
};

const DEFAULT_OP: Record<RuleKind, string> = {
  computed: 'gte',
  event: 'gte',
  trait: 'eq',
  identity: '',
  consent: '',
  lifecycle: 'eq',
  rfm: 'eq',
  segment: '',
};

export function newRule(kind: RuleKind = 'computed'): Rule {
  return {
    type: 'rule',
    key: freshKey(),
    kind,
    name: DEFAULT_NAME[kind],
    op: DEFAULT_OP[kind],
    value: kind === 'event' ? '1' : '',
    valueType: 'text',
    did: true,
    days: kind === 'event' ? '90' : '',
    measure: 'count',
    measureProperty: '',
    where: [],
    channel: kind === 'consent' ? 'line' : '',
    granted: true,
  };
}

export function newGroup(match: Match = 'all', children: Node[] = [newRule()]): Group {
  return { type: 'group', key: freshKey(), match, negate: false, children };
}

export function newFilter(): PropertyFilter {
  return { key: freshKey(), property: '', op: 'eq', value: '' };
}

/** The operators a computed field takes, in the builder. */
export function computedOps(field: string, vocabulary: Vocabulary = DEFAULT_VOCABULARY): readonly string[] {
  const kind = vocabulary.computed[field] ?? 'number';
  if (kind === 'time') return TIME_OPS;
  if (kind === 'text') return TEXT_OPS;
  return NUMBER_OPS;
}

/** Which input a trait or computed operator needs: a value, a list, a number of days, or nothing. */
export function operand(op: string): 'value' | 'list' | 'days' | 'none' {
  if (op.endsWith('_days')) return 'days';
  if (op === 'in' || op === 'not_in') return 'list';
  if (['exists', 'not_exists', 'anniversary_this_month'].includes(op)) return 'none';
  return 'value';
}

function number(text: string): number | null {
  const trimmed = text.trim().replace(/,/g, '');
  if (!trimmed) return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
}

/** A typed value: a number when it reads as one, else the text. */
function scalar(text: string): string | number {
  const value = number(text);
  return value === null ? text.trim() : value;
}

/** A comma-separated list, each item typed; empty items dropped. */
function list(text: string, numeric: boolean): (string | number)[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => (numeric ? (number(item) ?? item) : item));
}

/** Why a rule cannot be sent yet (a translation key), or null. */
export type Problem = 'name' | 'value' | 'number' | 'days' | 'property' | 'empty' | null;

type NodeResult = { node: Record<string, Json> } | { problem: Exclude<Problem, null> };

function filterToNode(filter: PropertyFilter): { node: Record<string, Json> } | { problem: Exclude<Problem, null> } {
  const property = filter.property.trim();
  if (!property) return { problem: 'property' };
  const node: Record<string, Json> = { property, op: filter.op };
  if (filter.op === 'exists') return { node };
  if (filter.op === 'in') {
    const values = list(filter.value, true);
    if (!values.length) return { problem: 'value' };
    node.value = values;
  } else if (['gt', 'gte', 'lt', 'lte'].includes(filter.op)) {
    const value = number(filter.value);
    if (value === null) return { problem: 'number' };
    node.value = value;
  } else {
    if (!filter.value.trim()) return { problem: 'value' };
    node.value = filter.op === 'contains' ? filter.value.trim() : scalar(filter.value);
  }
  return { node };
}

/** The JSON node of a rule, or what is missing. */
export function ruleToNode(rule: Rule, vocabulary: Vocabulary = DEFAULT_VOCABULARY): NodeResult {
  const name = rule.name.trim();
  switch (rule.kind) {
    case 'identity':
      return name ? { node: { identity: name } } : { problem: 'name' };
    case 'segment':
      return name ? { node: { segment: name } } : { problem: 'name' };
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
      if (name !== '*' && rule.where.length) {
        const filters: Json[] = [];
        for (const filter of rule.where) {
          const result = filterToNode(filter);
          if ('problem' in result) return result;
          filters.push(result.node);
        }
        node.where = filters;
      }
      if (!rule.did) node.did = false;
      else if (name !== '*') {
        const amount = number(rule.value);
        if (amount === null || (rule.measure === 'count' && amount < 0)) return { problem: 'number' };
        if (rule.measure === 'count') {
          if (!(rule.op === 'gte' && amount === 1)) node.count = { op: rule.op, value: amount };
        } else {
          const property = rule.measureProperty.trim();
          if (!property) return { problem: 'property' };
          node[rule.measure] = { property, op: rule.op, value: amount };
        }
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
      const kind = rule.kind === 'computed' ? vocabulary.computed[name] : null;
      if (needs === 'days') {
        const days = number(rule.value);
        if (days === null || days < 0) return { problem: 'days' };
        node.days = days;
      } else if (needs === 'list') {
        const values = list(rule.value, kind === 'number' || rule.valueType === 'number');
        if (!values.length) return { problem: 'value' };
        node.value = values;
      } else if (needs === 'value') {
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

export interface Built {
  /** the whole condition, or null while any rule is incomplete */
  condition: Record<string, Json> | null;
  /** what each incomplete rule or empty group lacks, by key */
  problems: Map<number, Exclude<Problem, null>>;
  /** the server's path of each node (`condition.all[1].not.any[0]`), by key */
  paths: Map<number, string>;
}

/** The condition of the whole tree, with each node's path for placing the server's errors. */
export function buildCondition(root: Group, vocabulary: Vocabulary = DEFAULT_VOCABULARY): Built {
  const problems = new Map<number, Exclude<Problem, null>>();
  const paths = new Map<number, string>();

  function visit(node: Node, path: string): Record<string, Json> | null {
    paths.set(node.key, path);
    if (node.type === 'rule') {
      const result = ruleToNode(node, vocabulary);
      if ('problem' in result) {
        problems.set(node.key, result.problem);
        return null;
      }
      return result.node;
    }
    if (node.children.length === 0) {
      problems.set(node.key, 'empty');
      return null;
    }
    const inner = node.negate ? `${path}.not.${node.match}` : `${path}.${node.match}`;
    const children = node.children.map((child, index) => visit(child, `${inner}[${index}]`));
    if (children.some((child) => child === null)) return null;
    const group = { [node.match]: children as Json[] };
    return node.negate ? { not: group } : group;
  }

  const condition = visit(root, 'condition');
  return { condition: problems.size ? null : condition, problems, paths };
}

/** The node a server error names: the one with the longest path the message starts with. */
export function failingKey(message: string, paths: Map<number, string>): number | null {
  let best: { key: number; length: number } | null = null;
  for (const [key, path] of paths) {
    const named = message.startsWith(`${path}:`) || message.startsWith(`${path}.`) || message.startsWith(`${path}[`);
    if (named && (!best || path.length > best.length)) best = { key, length: path.length };
  }
  return best?.key ?? null;
}

// -- reading a saved condition back into the builder ---------------------------------------

type Obj = Record<string, Json>;

const isObject = (value: Json | undefined): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const keysWithin = (node: Obj, allowed: string[]) => Object.keys(node).every((key) => allowed.includes(key));

function text(value: Json | undefined): string {
  if (Array.isArray(value)) return value.map((item) => String(item)).join(', ');
  return value === undefined || value === null ? '' : String(value);
}

function ruleFrom(node: Obj, vocabulary: Vocabulary): Rule | null {
  if (typeof node.identity === 'string' && keysWithin(node, ['identity'])) {
    return { ...newRule('identity'), name: node.identity };
  }
  if (typeof node.segment === 'string' && keysWithin(node, ['segment'])) {
    return { ...newRule('segment'), name: node.segment };
  }
  if (isObject(node.consent) && keysWithin(node, ['consent'])) {
    const { purpose, channel, granted } = node.consent;
    if (typeof purpose !== 'string') return null;
    return {
      ...newRule('consent'),
      name: purpose,
      channel: typeof channel === 'string' ? channel : '',
      granted: granted !== false,
    };
  }
  if (typeof node.computed === 'string' && keysWithin(node, ['computed', 'op', 'value', 'days'])) {
    const { computed, op, value } = node;
    if (typeof op !== 'string') return null;
    if ((computed === 'lifecycle_stage' || computed === 'rfm_group') && op === 'eq' && typeof value === 'string') {
      return { ...newRule(computed === 'lifecycle_stage' ? 'lifecycle' : 'rfm'), name: value };
    }
    if (!(computed in vocabulary.computed) || !computedOps(computed, vocabulary).includes(op)) return null;
    const needs = operand(op);
    return { ...newRule('computed'), name: computed, op, value: needs === 'days' ? text(node.days) : text(value) };
  }
  if (typeof node.trait === 'string' && keysWithin(node, ['trait', 'op', 'value', 'days'])) {
    const { trait, op, value } = node;
    if (typeof op !== 'string' || !(TRAIT_OPS as readonly string[]).includes(op)) return null;
    const needs = operand(op);
    const valueType: Rule['valueType'] =
      typeof value === 'boolean'
        ? 'boolean'
        : typeof value === 'number' || (Array.isArray(value) && value.every((v) => typeof v === 'number'))
          ? 'number'
          : 'text';
    return { ...newRule('trait'), name: trait, op, valueType, value: needs === 'days' ? text(node.days) : text(value) };
  }
  if (typeof node.event === 'string' && keysWithin(node, ['event', 'did', 'where', 'count', 'sum', 'avg', 'within_days'])) {
    const rule: Rule = { ...newRule('event'), name: node.event, days: text(node.within_days), value: '1', op: 'gte' };
    if (node.did === false) rule.did = false;
    const measure = MEASURES.find((m) => m in node);
    if (measure) {
      const spec = node[measure];
      if (!isObject(spec) || typeof spec.op !== 'string' || typeof spec.value !== 'number') return null;
      rule.measure = measure;
      rule.op = spec.op;
      rule.value = String(spec.value);
      rule.measureProperty = typeof spec.property === 'string' ? spec.property : '';
    }
    if (node.where !== undefined) {
      if (!Array.isArray(node.where)) return null;
      for (const filter of node.where) {
        if (!isObject(filter) || typeof filter.property !== 'string' || typeof filter.op !== 'string') return null;
        rule.where.push({ key: freshKey(), property: filter.property, op: filter.op, value: text(filter.value) });
      }
    }
    return rule;
  }
  return null;
}

/**
 * The builder's tree of a saved condition, or null when it uses what the builder cannot show
 * (since/until windows, deeper nesting, before/after): edit those as JSON.
 */
export function treeFromCondition(condition: Json, vocabulary: Vocabulary = DEFAULT_VOCABULARY): Group | null {
  function node(raw: Json, depth: number): Node | null {
    if (!isObject(raw)) return null;
    let negate = false;
    let body: Obj = raw;
    if (isObject(raw.not) && keysWithin(raw, ['not'])) {
      const inner = raw.not;
      if (Array.isArray(inner.all) || Array.isArray(inner.any)) {
        negate = true;
        body = inner;
      } else {
        // `not` around a single rule: a negated group of one
        const child = node(inner, depth + 1);
        if (!child || depth + 1 > MAX_GROUP_DEPTH) return null;
        return { type: 'group', key: freshKey(), match: 'all', negate: true, children: [child] };
      }
    }
    const match: Match | null = Array.isArray(body.all) ? 'all' : Array.isArray(body.any) ? 'any' : null;
    if (match) {
      if (!keysWithin(body, [match]) || depth > MAX_GROUP_DEPTH) return null;
      const children: Node[] = [];
      for (const item of body[match] as Json[]) {
        const child = node(item, depth + 1);
        if (!child) return null;
        children.push(child);
      }
      return { type: 'group', key: freshKey(), match, negate, children };
    }
    return ruleFrom(body, vocabulary);
  }
  const root = node(condition, 1);
  if (!root) return null;
  return root.type === 'group' ? root : newGroup('all', [root]);
}
