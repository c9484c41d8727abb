/** How each kind of node looks: colour, icon, and a one-line summary of its settings. */
import type { TFunction } from 'i18next';
import type { ReactNode } from 'react';
import type { Json } from '../../api';
import { Icon } from '../icons';
import type { DefNode, JsonObject, NodeType } from './graph';

const ICONS: Record<NodeType | 'entry', ReactNode> = {
  entry: <path d="M5 3l14 9-14 9z" />,
  wait: (
    <>
      <path d="M6 3h12M6 21h12M7 3c0 5 10 5 10 9s-10 4-10 9M17 3c0 5-10 5-10 9s10 4 10 9" />
    </>
  ),
  wait_until: (
    <>
      <circle cx="12" cy="12" r="9" />
      <path d="M12 7v5l3 2" />
    </>
  ),
  wait_for_event: (
    <>
      <circle cx="12" cy="13" r="8" />
      <path d="M12 9v4l2 2M9 2h6" />
    </>
  ),
  branch: <path d="M6 3v6a4 4 0 0 0 4 4h4a4 4 0 0 1 4 4v4M6 9v12M18 21l-3-3M18 21l3-3" />,
  split: <path d="M12 3v6M12 9l-7 6v6M12 9l7 6v6M12 9v12" />,
  holdout: (
    <>
      <rect x="4" y="4" width="16" height="16" rx="3" />
      <path d="M9 9l6 6M15 9l-6 6" />
    </>
  ),
  send: <path d="M3 11l18-8-8 18-2-8z" />,
  update_profile: (
    <>
      <circle cx="9" cy="8" r="4" />
      <path d="M2 21v-1a6 6 0 0 1 9-5M15 21l1-3 5-5 2 2-5 5z" />
    </>
  ),
  coupon: (
    <>
      <path d="M3 8V5h18v3a3 3 0 0 0 0 6v5H3v-5a3 3 0 0 0 0-6z" />
      <path d="M9 15l6-6M9.5 9.5h.01M14.5 14.5h.01" />
    </>
  ),
  task: (
    <>
      <rect x="4" y="4" width="16" height="17" rx="2" />
      <path d="M9 3h6v3H9zM8 13l3 3 5-6" />
    </>
  ),
  emit: (
    <>
      <circle cx="12" cy="12" r="3" />
      <path d="M6.3 6.3a8 8 0 0 0 0 11.4M17.7 6.3a8 8 0 0 1 0 11.4" />
    </>
  ),
  exit: (
    <>
      <circle cx="12" cy="12" r="9" />
      <rect x="9" y="9" width="6" height="6" rx="1" />
    </>
  ),
};

/** A Mantine colour per kind: waits blue, decisions violet, actions teal, the end grey. */
export const KIND_COLORS: Record<NodeType | 'entry', string> = {
  entry: 'teal',
  wait: 'blue',
  wait_until: 'blue',
  wait_for_event: 'blue',
  branch: 'violet',
  split: 'violet',
  holdout: 'grape',
  send: 'teal',
  update_profile: 'cyan',
  coupon: 'orange',
  task: 'yellow',
  emit: 'cyan',
  exit: 'gray',
};

export function KindIcon({ kind, size = 16 }: { kind: string; size?: number }) {
  return <Icon size={size}>{ICONS[kind as NodeType] ?? ICONS.exit}</Icon>;
}

export function kindColor(kind: string): string {
  return KIND_COLORS[kind as NodeType] ?? 'gray';
}

const UNITS: Record<string, string> = { s: 'seconds', m: 'minutes', h: 'hours', d: 'days', w: 'weeks' };

/** "1d12h" in words: "1 วัน 12 ชั่วโมง"; a text that is not a duration comes back as it is. */
export function formatDuration(text: string, t: TFunction): string {
  const compact = text.replace(/\s/g, '');
  if (!/^(\d+[smhdw])+$/.test(compact)) return text;
  return [...compact.matchAll(/(\d+)([smhdw])/g)]
    .map(([, count, unit]) => t(`journeys.unit.${UNITS[unit as string]}`, { count: Number(count) }))
    .join(' ');
}

function text(value: Json | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A condition of the segment language in a few words. */
export function conditionSummary(condition: Json | undefined): string {
  if (!isObject(condition)) return '';
  for (const group of ['all', 'any'] as const) {
    const items = condition[group];
    if (Array.isArray(items)) return items.map(conditionSummary).filter(Boolean).join(group === 'all' ? ' & ' : ' | ');
  }
  if (condition.not !== undefined) return `not (${conditionSummary(condition.not)})`;
  if (typeof condition.identity === 'string') return `${condition.identity}`;
  if (isObject(condition.consent)) return `consent ${text(condition.consent.purpose)}${condition.consent.channel ? `/${text(condition.consent.channel)}` : ''}`;
  if (typeof condition.event === 'string') return `${condition.event}`;
  if (typeof condition.segment === 'string') return `segment`;
  for (const key of ['computed', 'trait'] as const) {
    if (typeof condition[key] === 'string') {
      const value = condition.value !== undefined ? ` ${text(condition.value)}` : condition.days !== undefined ? ` ${text(condition.days)}d` : '';
      return `${condition[key]} ${text(condition.op)}${value}`;
    }
  }
  return JSON.stringify(condition);
}

/** One line that says what a node does with its settings. */
export function nodeSummary(node: DefNode, t: TFunction, templateNames?: Map<string, string>): string {
  switch (node.type) {
    case 'wait':
      return typeof node.duration === 'string' ? formatDuration(node.duration, t) : '';
    case 'wait_until': {
      const days = Array.isArray(node.weekdays) && node.weekdays.length ? ` (${node.weekdays.map((d) => t(`journeys.weekdayShort.${text(d)}`)).join(' ')})` : '';
      return `${t('journeys.summary.until', { time: text(node.time) })}${days}`;
    }
    case 'wait_for_event':
      return t('journeys.summary.waitFor', {
        event: text(node.event) || '…',
        timeout: typeof node.timeout === 'string' ? formatDuration(node.timeout, t) : '…',
      });
    case 'branch':
      return conditionSummary(node.condition);
    case 'split':
      return Array.isArray(node.paths) ? node.paths.map((p) => (isObject(p) ? `${text(p.name)} ${text(p.weight)}` : '')).join(' · ') : '';
    case 'holdout':
      return t('journeys.summary.holdout', { percent: text(node.percent) });
    case 'send': {
      const template = text(node.template);
      const name = templateNames?.get(template) ?? template;
      const channels = Array.isArray(node.channels) ? node.channels.map(text).join(' → ') : '';
      return [name || t('journeys.summary.noTemplate'), channels].filter(Boolean).join(' · ');
    }
    case 'update_profile':
      return isObject(node.traits) ? Object.entries(node.traits).map(([k, v]) => `${k} = ${text(v)}`).join(', ') : '';
    case 'coupon': {
      const off = node.percent !== undefined && node.percent !== null ? `${text(node.percent)}%` : node.amount !== undefined && node.amount !== null ? `฿${text(node.amount)}` : '';
      return [off, text(node.prefix), node.valid_days !== undefined ? t('journeys.summary.validDays', { count: Number(node.valid_days) }) : '']
        .filter(Boolean)
        .join(' · ');
    }
    case 'task':
      return [text(node.team), text(node.title)].filter(Boolean).join(': ');
    case 'emit':
      return text(node.event);
    default:
      return '';
  }
}

/** What starts a run, in a few words. */
export function entrySummary(entry: Json | undefined, t: TFunction, segmentNames?: Map<string, string>): string {
  if (!isObject(entry)) return '';
  const segment = (id: Json | undefined) => segmentNames?.get(text(id)) ?? text(id);
  switch (entry.type) {
    case 'event':
      return t('journeys.summary.onEvent', { event: text(entry.event) || '…' });
    case 'segment':
      return t('journeys.summary.onSegment', { segment: segment(entry.segment) || '…' });
    case 'date':
      return entry.computed
        ? t('journeys.summary.onComputed', { field: t(`journeys.computed.${text(entry.computed)}`), days: text(entry.days_after), at: text(entry.at) || '09:00' })
        : t('journeys.summary.onDate', { trait: text(entry.trait) || '…', at: text(entry.at) || '09:00' });
    case 'schedule':
      return t('journeys.summary.onSchedule', {
        segment: segment(entry.segment) || '…',
        every: t(`journeys.every.${text(entry.every) || 'day'}`),
        at: text(entry.at) || '09:00',
      });
    default:
      return text(entry.type);
  }
}
