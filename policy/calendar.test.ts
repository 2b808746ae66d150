import { describe, it, expect } from 'vitest';
import { calendarRuleSchema, calendarWhenSchema, policySchema } from '../protocol/index.js';
import type { CalendarRule } from '../protocol/index.js';
import { compileCalendar, isoWeekday, matchesDate, restrictCalendar } from './calendar.js';

const when = (w: unknown) => calendarWhenSchema.parse(w);

describe('calendar conditions', () => {
  it('weekdays are ISO: 1 = Monday, 7 = Sunday', () => {
    expect(isoWeekday('2026-01-05')).toBe(1);
    expect(isoWeekday('2026-01-11')).toBe(7);
    const weekend = when({ weekdays: [5, 6] });
    expect(matchesDate(weekend, '2026-01-09')).toBe(true); // Friday night
    expect(matchesDate(weekend, '2026-01-10')).toBe(true);
    expect(matchesDate(weekend, '2026-01-11')).toBe(false);
  });

  it('dates: recurring --MM-DD every year, full dates once', () => {
    const w = when({ dates: ['--12-08', '2026-07-13'] });
    expect(matchesDate(w, '2026-12-08')).toBe(true);
    expect(matchesDate(w, '2031-12-08')).toBe(true);
    expect(matchesDate(w, '2026-07-13')).toBe(true);
    expect(matchesDate(w, '2027-07-13')).toBe(false);
    expect(matchesDate(w, '2026-12-09')).toBe(false);
  });

  it('ranges are inclusive; --MM-DD ranges may wrap the year end', () => {
    const summer = when({ from: '2026-07-01', to: '2026-08-31' });
    expect(matchesDate(summer, '2026-07-01')).toBe(true);
    expect(matchesDate(summer, '2026-08-31')).toBe(true);
    expect(matchesDate(summer, '2026-09-01')).toBe(false);
    expect(matchesDate(summer, '2027-07-15')).toBe(false);
    const fetes = when({ from: '--12-15', to: '--01-05' });
    for (const d of ['2026-12-15', '2026-12-31', '2027-01-01', '2027-01-05']) expect(matchesDate(fetes, d), d).toBe(true);
    for (const d of ['2026-12-14', '2027-01-06', '2026-07-01']) expect(matchesDate(fetes, d), d).toBe(false);
  });

  it('holidays: the French public holidays of the date’s year, Alsace-Moselle on request', () => {
    const fr = when({ holidays: 'FR' });
    expect(matchesDate(fr, '2026-05-25')).toBe(true); // Lundi de Pentecôte
    expect(matchesDate(fr, '2027-03-29')).toBe(true); // Lundi de Pâques
    expect(matchesDate(fr, '2026-12-26')).toBe(false);
    expect(matchesDate(when({ holidays: 'FR-57' }), '2026-12-26')).toBe(true);
    expect(matchesDate(when({ holidays: 'FR-57' }), '2026-04-03')).toBe(true);
  });

  it('refuses malformed conditions, naming the field', () => {
    const bad: Array<[unknown, string]> = [
      [{}, ''],
      [{ weekdays: [1], dates: ['--12-08'] }, ''],
      [{ weekdays: [0] }, 'weekdays.0'],
      [{ dates: ['--02-30'] }, 'dates.0'],
      [{ dates: ['2025-02-29'] }, 'dates.0'],
      [{ dates: ['12-08'] }, 'dates.0'],
      [{ from: '--12-01' }, 'to'],
      [{ from: '--12-01', to: '2026-12-31' }, 'to'],
      [{ from: '2026-12-31', to: '2026-12-01' }, 'to'],
      [{ holidays: 'DE' }, 'holidays'],
    ];
    for (const [w, path] of bad) {
      const r = calendarWhenSchema.safeParse(w);
      expect(r.success, JSON.stringify(w)).toBe(false);
      expect(r.error!.issues[0]!.path.join('.'), JSON.stringify(w)).toBe(path);
    }
    expect(calendarWhenSchema.safeParse({ dates: ['--02-29', '2024-02-29'] }).success).toBe(true);
    expect(calendarRuleSchema.safeParse({ when: { weekdays: [1] }, profiles: {} }).success).toBe(false);
  });
});

describe('compileCalendar', () => {
  const rules: CalendarRule[] = [
    { name: 'Fête nationale', when: when({ dates: ['--07-14'] }), profiles: { residential: 'festive' } },
    { name: 'Jours fériés', when: when({ holidays: 'FR' }), profiles: { residential: 'holiday', park: 'park-late' } },
    { name: 'Week-end', when: when({ weekdays: [5, 6] }), profiles: { park: 'park-late' } },
  ];
  const cal = compileCalendar(rules);

  it('the first rule matching the date and naming the lamp’s profile wins', () => {
    // 14 July 2026 is a Tuesday and a public holiday: the first rule wins for residential.
    expect(cal.profileFor('residential', '2026-07-14')).toBe('festive');
    expect(cal.ruleFor('residential', '2026-07-14')).toBe(0);
    // ... and the park, not named by rule 0, gets the holiday rule.
    expect(cal.profileFor('park', '2026-07-14')).toBe('park-late');
    expect(cal.ruleFor('park', '2026-07-14')).toBe(1);
  });

  it('a rule that does not name the profile is skipped; no match keeps the own profile', () => {
    expect(cal.profileFor('residential', '2026-01-09')).toBe('residential'); // a Friday
    expect(cal.profileFor('park', '2026-01-09')).toBe('park-late');
    expect(cal.profileFor('road', '2026-07-14')).toBe('road');
    expect(compileCalendar(undefined).profileFor('road', '2026-07-14')).toBe('road');
  });

  it('does not chain: a replacement profile is not mapped again', () => {
    const c = compileCalendar([
      { when: when({ weekdays: [1, 2, 3, 4, 5, 6, 7] }), profiles: { a: 'b' } },
      { when: when({ weekdays: [1, 2, 3, 4, 5, 6, 7] }), profiles: { b: 'c' } },
    ]);
    expect(c.profileFor('a', '2026-03-03')).toBe('b');
  });

  it('restrictCalendar keeps what a cabinet’s profiles need, and names the profiles to add', () => {
    const { calendar, extraProfiles } = restrictCalendar(rules, ['park', 'road']);
    expect(calendar.map((r) => r.name)).toEqual(['Jours fériés', 'Week-end']);
    expect(calendar[0]!.profiles).toEqual({ park: 'park-late' });
    expect(extraProfiles).toEqual(['park-late']);
  });
});

describe('policySchema calendar', () => {
  const base = {
    v: 1,
    id: 'p',
    version: 1,
    issuedAt: 1,
    site: { lat: 45.76, lon: 4.83, timezone: 'Europe/Paris' },
    failsafeLevel: 100,
    profiles: { a: { schedule: [] }, b: { schedule: [] } },
    lamps: { L1: { profile: 'a' } },
  };

  it('accepts a calendar over existing profiles', () => {
    const p = policySchema.parse({ ...base, calendar: [{ when: { holidays: 'FR' }, profiles: { a: 'b' } }] });
    expect(p.calendar).toHaveLength(1);
  });

  it('refuses a calendar naming a profile the policy lacks, on either side', () => {
    for (const profiles of [{ a: 'zz' }, { zz: 'a' }]) {
      const r = policySchema.safeParse({ ...base, calendar: [{ when: { holidays: 'FR' }, profiles }] });
      expect(r.success).toBe(false);
      expect(r.error!.issues[0]!.path.slice(0, 3)).toEqual(['calendar', 0, 'profiles']);
      expect(r.error!.issues[0]!.message).toContain('zz');
    }
  });
});
