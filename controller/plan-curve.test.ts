import { describe, expect, it } from 'vitest';
import { localTime, nightForDate } from '../core/astro.js';
import type { TownPlan } from './plan.js';
import { levelCurve } from './plan-curve.js';

const site = { lat: 45.764, lon: 4.8357, timezone: 'Europe/Paris' };
const plan: TownPlan = {
  id: 'p',
  failsafeLevel: 100,
  defaultProfile: 'rue',
  zones: {},
  profiles: {
    rue: { schedule: [{ from: 'dusk', to: '23:00', level: 70 }, { from: '23:00', to: 'dawn', level: 20 }] },
    fete: { schedule: [{ from: 'dusk', to: 'dawn', level: 100 }] },
  },
  calendar: [{ name: 'Fête nationale', when: { dates: ['--07-14'] }, profiles: { rue: 'fete' } }],
};

describe('levelCurve', () => {
  it('samples the engine every 5 minutes from noon to noon, with dusk, dawn and the slots', () => {
    const date = '2026-01-15';
    const c = levelCurve({ plan, profile: 'rue', date, site });
    const night = nightForDate(site, date);
    expect(c).toMatchObject({ date, profile: 'rue', effectiveProfile: 'rue', calendarRule: null, dusk: night.dusk, dawn: night.dawn });
    expect(c.points).toHaveLength(24 * 12 + 1);
    const at = (t: number) => c.points.filter((p) => p.t <= t).at(-1)!.level;
    expect(at(localTime(date, 15, 0, site.timezone))).toBe(0);
    expect(at(localTime(date, 20, 0, site.timezone))).toBe(70);
    expect(at(localTime('2026-01-16', 2, 0, site.timezone))).toBe(20);
    expect(at(localTime('2026-01-16', 10, 0, site.timezone))).toBe(0);
    expect(c.slots).toEqual([
      { from: night.dusk, to: localTime(date, 23, 0, site.timezone), level: 70, empty: false },
      { from: localTime(date, 23, 0, site.timezone), to: night.dawn, level: 20, empty: false },
    ]);
  });

  it('applies the calendar: the festive profile on its date', () => {
    const c = levelCurve({ plan, profile: 'rue', date: '2026-07-14', site });
    expect(c).toMatchObject({ effectiveProfile: 'fete', calendarRule: 'Fête nationale' });
    const lit = c.points.filter((p) => p.t >= c.dusk && p.t < c.dawn);
    expect(lit.length).toBeGreaterThan(0);
    expect(lit.every((p) => p.level === 100)).toBe(true);
  });

  it('refuses an unknown profile, naming the field', () => {
    expect(() => levelCurve({ plan, profile: 'nope', date: '2026-01-15', site })).toThrow(expect.objectContaining({ field: 'profile' }));
  });
});
