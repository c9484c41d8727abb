import type { Decimal } from './api';

const money = new Map<string, Intl.NumberFormat>();

/** Format an amount (a number or the API's decimal string) as money, e.g. ฿2,470.00. */
export function formatMoney(amount: Decimal | null | undefined, currency = 'THB'): string {
  if (amount === null || amount === undefined || amount === '') return '–';
  const value = typeof amount === 'number' ? amount : Number(amount);
  if (!Number.isFinite(value)) return String(amount);
  let format = money.get(currency);
  if (!format) {
    try {
      format = new Intl.NumberFormat('th-TH', { style: 'currency', currency });
    } catch {
      format = new Intl.NumberFormat('th-TH', { minimumFractionDigits: 2 });
    }
    money.set(currency, format);
  }
  return format.format(value);
}

/** Money in whole units for big figures on a dashboard, e.g. ฿1,234,568. */
export function formatMoneyWhole(amount: Decimal, currency = 'THB'): string {
  const value = typeof amount === 'number' ? amount : Number(amount);
  if (!Number.isFinite(value)) return String(amount);
  try {
    return new Intl.NumberFormat('th-TH', {
      style: 'currency',
      currency,
      minimumFractionDigits: 0,
      maximumFractionDigits: Math.abs(value) >= 1000 ? 0 : 2,
    }).format(value);
  } catch {
    return formatMoney(amount, currency);
  }
}

export function formatPercent(share: number, language: string): string {
  return new Intl.NumberFormat(locale(language), { style: 'percent', maximumFractionDigits: 1 }).format(share);
}

function locale(language: string): string {
  return language.startsWith('th') ? 'th-TH' : 'en-GB';
}

export function formatNumber(value: number, language: string): string {
  return new Intl.NumberFormat(locale(language)).format(value);
}

/** A moment in the reader's language: Thai dates use the Buddhist calendar. */
export function formatDateTime(value: string | null | undefined, language: string): string {
  if (!value) return '–';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return new Intl.DateTimeFormat(locale(language), {
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(date);
}

export function formatDate(value: string | null | undefined, language: string): string {
  if (!value) return '–';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return new Intl.DateTimeFormat(locale(language), { dateStyle: 'medium' }).format(date);
}

/** Whether a string looks like an ISO timestamp the API wrote. */
export function isIsoMoment(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value);
}
