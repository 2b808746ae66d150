import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { easterSunday, frenchPublicHolidays, shiftDate } from './holidays.js';
import { isoWeekday } from './calendar.js';

/** Published dates (Légifrance / service-public.fr calendars), not computed here. */
const KNOWN: Record<number, { easter: string; easterMonday: string; ascension: string; whitMonday: string }> = {
  2024: { easter: '2024-03-31', easterMonday: '2024-04-01', ascension: '2024-05-09', whitMonday: '2024-05-20' },
  2025: { easter: '2025-04-20', easterMonday: '2025-04-21', ascension: '2025-05-29', whitMonday: '2025-06-09' },
  2026: { easter: '2026-04-05', easterMonday: '2026-04-06', ascension: '2026-05-14', whitMonday: '2026-05-25' },
  2027: { easter: '2027-03-28', easterMonday: '2027-03-29', ascension: '2027-05-06', whitMonday: '2027-05-17' },
};

describe('easterSunday', () => {
  it.each(Object.entries(KNOWN))('%s', (year, k) => {
    expect(easterSunday(Number(year))).toBe(k.easter);
  });

  it('matches the extreme and classic dates of the Gregorian computus', () => {
    expect(easterSunday(1818)).toBe('1818-03-22'); // earliest possible
    expect(easterSunday(1943)).toBe('1943-04-25'); // latest possible
    expect(easterSunday(2000)).toBe('2000-04-23');
    expect(easterSunday(2038)).toBe('2038-04-25');
  });

  it('is always a Sunday between 22 March and 25 April', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1583, max: 9999 }), (year) => {
        const d = easterSunday(year);
        expect(isoWeekday(d)).toBe(7);
        expect(d.slice(5) >= '03-22' && d.slice(5) <= '04-25').toBe(true);
      }),
    );
  });

  it('refuses a year outside the Gregorian calendar', () => {
    expect(() => easterSunday(1500)).toThrow(RangeError);
    expect(() => easterSunday(2026.5)).toThrow(RangeError);
  });
});

describe('frenchPublicHolidays', () => {
  it.each(Object.entries(KNOWN))('%s: the 11 holidays, movable ones included', (year, k) => {
    const list = frenchPublicHolidays(Number(year));
    expect(list).toHaveLength(11);
    const byName = Object.fromEntries(list.map((h) => [h.name, h.date]));
    expect(byName['Lundi de Pâques']).toBe(k.easterMonday);
    expect(byName['Ascension']).toBe(k.ascension);
    expect(byName['Lundi de Pentecôte']).toBe(k.whitMonday);
    for (const md of ['01-01', '05-01', '05-08', '07-14', '08-15', '11-01', '11-11', '12-25']) {
      expect(list.map((h) => h.date)).toContain(`${year}-${md}`);
    }
    expect(list.map((h) => h.date)).toEqual([...list.map((h) => h.date)].sort());
  });

  it('Alsace-Moselle adds Good Friday and 26 December', () => {
    const fr = frenchPublicHolidays(2026, 'FR');
    const moselle = frenchPublicHolidays(2026, 'FR-57');
    expect(moselle).toHaveLength(13);
    const extra = moselle.filter((h) => !fr.some((f) => f.date === h.date && f.name === h.name));
    expect(extra).toEqual([
      { date: '2026-04-03', name: 'Vendredi saint' },
      { date: '2026-12-26', name: 'Saint-Étienne' },
    ]);
    expect(frenchPublicHolidays(2026, 'FR-67')).toEqual(moselle);
  });

  it('keeps both when two fall on one day (Ascension on 1 May 2008)', () => {
    const on = frenchPublicHolidays(2008).filter((h) => h.date === '2008-05-01');
    expect(on.map((h) => h.name).sort()).toEqual(['Ascension', 'Fête du Travail']);
  });
});

describe('shiftDate', () => {
  it('crosses months, years and leap days', () => {
    expect(shiftDate('2024-02-28', 1)).toBe('2024-02-29');
    expect(shiftDate('2025-02-28', 1)).toBe('2025-03-01');
    expect(shiftDate('2026-12-31', 1)).toBe('2027-01-01');
    expect(shiftDate('2026-04-05', -2)).toBe('2026-04-03');
  });
});
