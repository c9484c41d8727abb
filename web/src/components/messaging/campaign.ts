/** Campaign helpers: the A/B split as percentages, Bangkok wall-clock times, server errors by field. */
import type { ArmStats, CampaignStats, Variant } from '../../pages/messaging/types';
import { CONTROL } from '../../pages/messaging/types';

export const BANGKOK = 'Asia/Bangkok';
export const VARIANT_NAME = /^[A-Za-z0-9_-]{1,40}$/;

/** Weights (relative) as shares of 100 with one decimal that add up to exactly 100. */
export function sharesOf(variants: Variant[]): number[] {
  const total = variants.reduce((sum, v) => sum + (v.weight > 0 ? v.weight : 0), 0);
  if (!variants.length) return [];
  if (total <= 0) return evenShares(variants.length);
  const shares = variants.map((v) => Math.round((v.weight / total) * 1000) / 10);
  const rest = Math.round((100 - shares.slice(0, -1).reduce((a, b) => a + b, 0)) * 10) / 10;
  shares[shares.length - 1] = rest;
  return shares;
}

/** n shares as even as one decimal allows, adding up to 100. */
export function evenShares(n: number): number[] {
  if (n <= 0) return [];
  const base = Math.floor(1000 / n) / 10;
  const shares = Array.from({ length: n }, () => base);
  shares[n - 1] = Math.round((100 - base * (n - 1)) * 10) / 10;
  return shares;
}

export function sumShares(shares: (number | '')[]): number {
  return Math.round(shares.reduce<number>((sum, s) => sum + (typeof s === 'number' ? s : 0), 0) * 10) / 10;
}

/** "2026-12-01T09:00" as wall-clock time in Bangkok (UTC+7 all year) for an ISO moment. */
export function toBangkokLocal(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: BANGKOK,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(date);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '00';
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}`;
}

/** The ISO moment with Bangkok's offset for a wall-clock time typed in a datetime-local box. */
export function fromBangkokLocal(local: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(local)) return null;
  return `${local}:00+07:00`;
}

/** A moment in the reader's locale and their browser's time zone, with the zone's name. */
export function formatMomentLong(iso: string, language: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(language.startsWith('th') ? 'th-TH' : 'en-GB', {
    dateStyle: 'full',
    timeStyle: 'short',
    timeZone,
  }).format(date);
}

export type CampaignField =
  | 'name'
  | 'segment'
  | 'channels'
  | 'category'
  | 'variants'
  | `variant.${number}.name`
  | `variant.${number}.template`
  | `variant.${number}.share`
  | 'control'
  | 'schedule'
  | 'attribution'
  | 'conversion'
  | 'general';

/** Which field a server message is about, from the path it starts with. */
export function campaignFieldOf(message: string): CampaignField {
  const first = message.split('; ')[0] ?? message;
  const variant = /^variants[.[](\d+)\]?(?:\.(name|template|weight))?/.exec(first);
  if (variant) {
    const index = Number(variant[1]);
    const part = variant[2] === 'weight' ? 'share' : (variant[2] ?? 'template');
    return `variant.${index}.${part}` as CampaignField;
  }
  if (/^variants\b/.test(first)) return 'variants';
  if (/^name\b/.test(first)) return 'name';
  if (/^segment_id\b|^segment '/.test(first)) return 'segment';
  if (/^channels\b/.test(first)) return 'channels';
  if (/^category\b/.test(first)) return 'category';
  if (/^control_percent\b/.test(first)) return 'control';
  if (/^scheduled_at\b/.test(first)) return 'schedule';
  if (/^attribution_days\b/.test(first)) return 'attribution';
  if (/^conversion_event\b/.test(first)) return 'conversion';
  return 'general';
}

/** Messages of the variants not yet settled: queued or being sent. */
export function pendingOf(stats: CampaignStats | undefined): number {
  if (!stats) return 0;
  return stats.arms
    .filter((arm) => arm.arm !== CONTROL)
    .reduce((sum, arm) => sum + Math.max(0, arm.targeted - arm.sent - arm.suppressed - arm.failed), 0);
}

export function totalOf(stats: CampaignStats | undefined, key: keyof Omit<ArmStats, 'arm'>): number {
  if (!stats) return 0;
  return stats.arms.reduce((sum, arm) => sum + (arm.arm === CONTROL && key === 'sent' ? 0 : Number(arm[key])), 0);
}
