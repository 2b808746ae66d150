import { DateTime } from 'luxon';
import { z } from 'zod';
import { addDays } from '../../core/astro.js';
import { LucioleError } from '../../core/errors.js';

/**
 * Report periods, pure. A night belongs to the local date of its dusk, so every period is a run of
 * night dates: a night, an ISO week (Monday to Sunday nights), a calendar month, a calendar year.
 */

export const PERIOD_KINDS = ['night', 'week', 'month', 'year'] as const;
export const periodKindSchema = z.enum(PERIOD_KINDS);
export type PeriodKind = z.infer<typeof periodKindSchema>;

export interface PeriodSpan {
  kind: PeriodKind;
  /** First and last night, inclusive, YYYY-MM-DD. */
  first: string;
  last: string;
}

/** The most nights one report covers (three years). */
export const MAX_REPORT_NIGHTS = 1100;

const day = (date: string): DateTime => DateTime.fromISO(date, { zone: 'UTC' });

export function periodStart(kind: PeriodKind, date: string): string {
  const d = day(date);
  if (kind === 'night') return date;
  if (kind === 'week') return d.startOf('week').toISODate()!;
  return d.startOf(kind).toISODate()!;
}

export function periodEnd(kind: PeriodKind, date: string): string {
  const d = day(date);
  if (kind === 'night') return date;
  if (kind === 'week') return d.endOf('week').toISODate()!;
  return d.endOf(kind).toISODate()!;
}

/**
 * The nights of a report: from the start of the period holding `from` to the end of the one holding
 * `to` (default: `from`'s), cut at `latest` (the newest night begun: none of the future). `from`
 * defaults to `latest`.
 */
export function resolvePeriod(kind: PeriodKind, latest: string, from?: string, to?: string): PeriodSpan {
  const first = periodStart(kind, from ?? latest);
  let last = periodEnd(kind, to ?? from ?? latest);
  if (to !== undefined && to < (from ?? latest)) throw new LucioleError('LUCIOLE_ERR_VALIDATION', 'to must not be before from', 'to');
  if (last > latest) last = latest;
  if (first > last) throw new LucioleError('LUCIOLE_ERR_VALIDATION', `no night of this period has begun yet (latest: ${latest})`, 'from');
  if (nightCount(first, last) > MAX_REPORT_NIGHTS) {
    throw new LucioleError('LUCIOLE_ERR_VALIDATION', `a report covers at most ${MAX_REPORT_NIGHTS} nights`, 'to');
  }
  return { kind, first, last };
}

export function nightCount(first: string, last: string): number {
  return Math.round(day(last).diff(day(first), 'days').days) + 1;
}

export function nightDates(first: string, last: string): string[] {
  const out: string[] = [];
  for (let d = first; d <= last; d = addDays(d, 1)) out.push(d);
  return out;
}

/** The same nights a year before (29 February → 28 February). */
export function yearBefore(span: PeriodSpan): PeriodSpan {
  return {
    kind: span.kind,
    first: day(span.first).minus({ years: 1 }).toISODate()!,
    last: day(span.last).minus({ years: 1 }).toISODate()!,
  };
}
