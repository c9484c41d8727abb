/** The validator's messages (docs/journeys.md#validation) in the reader's language. */
import type { TFunction } from 'i18next';
import type { PlacedProblem } from './graph';

const PATTERNS: [RegExp, string][] = [
  [/^String should have at least 1 character/, 'required'],
  [/^Field required$/, 'required'],
  [/^List should have at least 1 item/, 'chooseOne'],
  [/^no template named '(.+)'$/, 'noTemplate'],
  [/^no channel named '(.+)'$/, 'noChannel'],
  [/^no segment has the id '(.+)'$/, 'noSegment'],
  [/^no node has the id '(.+)'$/, 'noNode'],
  [/^'(.+)' cannot be reached from the start$/, 'unreachable'],
  [/^leads back to '(.+)': a journey cannot loop$/, 'loop'],
  [/is not a duration/, 'duration'],
  [/must be more than 0 and at most 366 days/, 'durationRange'],
  [/is not a time of day/, 'timeOfDay'],
  [/is reserved for the run's own steps/, 'reserved'],
  [/is used by nodes\[\d+\] too/, 'duplicateId'],
  [/^a coupon takes either percent or amount$/, 'couponEither'],
  [/^path names must differ$/, 'pathNames'],
  [/^at least one weight must be above 0$/, 'weights'],
  [/^is required with policy 'after' and only with it$/, 'reentryDays'],
  [/^a date entry takes either trait or computed$/, 'dateEither'],
  [/^is required with computed$/, 'daysAfter'],
  [/^is only for computed; a trait takes days_before$/, 'daysAfterOnly'],
  [/^is only for every: week$/, 'weekdayOnly'],
  [/^is only for every: month$/, 'dayOnly'],
  [/^must name a property$/, 'entryKey'],
  [/^Input should be greater than( or equal to)? (-?[\d.]+)$/, 'min'],
  [/^Input should be less than( or equal to)? (-?[\d.]+)$/, 'max'],
  [/^Input should be a valid (number|integer)/, 'number'],
];

/** The problem in words for a person; the server's own words when it is not one we know. */
export function problemText(problem: { path: string; message: string }, t: TFunction): string {
  if (problem.path === 'start') return t('journeys.problem.start');
  for (const [pattern, key] of PATTERNS) {
    const found = pattern.exec(problem.message);
    if (found) {
      return t(`journeys.problem.${key}`, {
        name: found[1] ?? '',
        value: found[2] ?? '',
        defaultValue: problem.message,
      });
    }
  }
  return problem.message;
}

/** The problems on one field of a node, joined for an input's `error`. */
export function fieldError(problems: PlacedProblem[], field: string, t: TFunction): string | undefined {
  const found = problems.filter((p) => p.field === field || (p.field ?? '').startsWith(`${field}.`) || (p.field ?? '').startsWith(`${field}[`));
  return found.length ? found.map((p) => problemText(p, t)).join('; ') : undefined;
}
