import type { CalendarRule, CalendarWhen, HolidayRegion } from '../protocol/index.js';
import { frenchPublicHolidays } from './holidays.js';

/**
 * The policy calendar: which profile a lamp follows on a given night. Pure; the gateway applies
 * it itself, offline, and the controller uses the same code for compliance checks and what-if.
 *
 * A night is tested on its date (core/astro `Night.date`, the local date of its dusk): the
 * night of 14 July is the evening of the 14th and the small hours of the 15th.
 *
 * Rules are tried in order for each lamp. A rule applies to a lamp when its `when` matches the
 * night's date and its `profiles` map has the lamp's own (default) profile as a key; the lamp
 * then follows the mapped profile. The first such rule wins; none: the lamp's own profile. A
 * mapped profile is not mapped again (no chains).
 */

export interface CompiledCalendar {
  /** The profile a lamp whose own profile is `profile` follows on the night of `date`. */
  profileFor(profile: string, date: string): string;
  /** Index of the rule that decides `profile` on `date`, or -1 (own profile). */
  ruleFor(profile: string, date: string): number;
}

type Matcher = (date: string) => boolean;

const monthDay = (date: string): number => Number(date.slice(5, 7)) * 100 + Number(date.slice(8, 10));
const isRecurring = (d: string): boolean => d.startsWith('--');

/** ISO weekday of a `YYYY-MM-DD` date: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
  const day = new Date(Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)))).getUTCDay();
  return day === 0 ? 7 : day;
}

/** Holiday dates per region and year, shared by every calendar (a gateway asks once a night). */
const holidayCache = new Map<string, Set<string>>();

function isHoliday(region: HolidayRegion, date: string): boolean {
  const key = `${region}:${date.slice(0, 4)}`;
  let set = holidayCache.get(key);
  if (!set) {
    set = new Set(frenchPublicHolidays(Number(date.slice(0, 4)), region).map((h) => h.date));
    if (holidayCache.size > 256) holidayCache.clear();
    holidayCache.set(key, set);
  }
  return set.has(date);
}

/** Turns a (schema-validated) `when` into a test on `YYYY-MM-DD` dates. */
export function compileWhen(when: CalendarWhen): Matcher {
  if (when.weekdays) {
    const days = new Set(when.weekdays);
    return (date) => days.has(isoWeekday(date));
  }
  if (when.dates) {
    const full = new Set(when.dates.filter((d) => !isRecurring(d)));
    const recurring = new Set(when.dates.filter(isRecurring).map((d) => monthDay(`0000${d.slice(1)}`)));
    return (date) => full.has(date) || recurring.has(monthDay(date));
  }
  if (when.from !== undefined && when.to !== undefined) {
    const { from, to } = when;
    if (!isRecurring(from)) return (date) => from <= date && date <= to;
    const f = monthDay(`0000${from.slice(1)}`);
    const t = monthDay(`0000${to.slice(1)}`);
    // --12-15 to --01-05 wraps the year end.
    return f <= t
      ? (date) => {
          const md = monthDay(date);
          return f <= md && md <= t;
        }
      : (date) => {
          const md = monthDay(date);
          return md >= f || md <= t;
        };
  }
  if (when.holidays) {
    const region = when.holidays;
    return (date) => isHoliday(region, date);
  }
  // The schema refuses a `when` with no condition; should one get here, it matches nothing.
  return () => false;
}

/** `matches(when, date)`: does a rule's condition hold on the night of `date`? */
export function matchesDate(when: CalendarWhen, date: string): boolean {
  return compileWhen(when)(date);
}

export function compileCalendar(rules: readonly CalendarRule[] | undefined): CompiledCalendar {
  const compiled = (rules ?? []).map((r) => ({ matches: compileWhen(r.when), profiles: r.profiles }));
  const ruleFor = (profile: string, date: string): number => {
    for (let i = 0; i < compiled.length; i++) {
      const r = compiled[i]!;
      if (Object.hasOwn(r.profiles, profile) && r.matches(date)) return i;
    }
    return -1;
  };
  return {
    ruleFor,
    profileFor(profile, date) {
      const i = ruleFor(profile, date);
      return i < 0 ? profile : compiled[i]!.profiles[profile]!;
    },
  };
}

/**
 * The calendar as one cabinet needs it: rules cut down to the profiles its lamps use, and the
 * replacement profiles its policy must then carry (policySchema refuses a calendar naming a
 * profile the policy lacks). For the policy compiler.
 */
export function restrictCalendar(
  rules: readonly CalendarRule[] | undefined,
  usedProfiles: Iterable<string>,
): { calendar: CalendarRule[]; extraProfiles: string[] } {
  const used = new Set(usedProfiles);
  const extra = new Set<string>();
  const calendar: CalendarRule[] = [];
  for (const rule of rules ?? []) {
    const kept = Object.entries(rule.profiles).filter(([from]) => used.has(from));
    if (kept.length === 0) continue;
    for (const [, to] of kept) if (!used.has(to)) extra.add(to);
    calendar.push({ ...rule, profiles: Object.fromEntries(kept) });
  }
  return { calendar, extraProfiles: [...extra].sort() };
}
