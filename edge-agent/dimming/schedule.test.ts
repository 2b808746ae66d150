import { describe, it, expect } from 'vitest';
import { nightForDate } from '../../core/astro.js';
import { createDimmingEngine } from './engine.js';
import { compileSchedule, parseTimeExpr, resolveSchedule, scheduleLevelAt, slotIndexAt } from './schedule.js';
import { LYON, RESIDENTIAL, TZ, at, makePolicy } from './testing/fixtures.js';
import type { Profile } from '../../protocol/index.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

function engineWith(profile: Profile) {
  const engine = createDimmingEngine({ site: LYON, lampIds: ['L1'] });
  engine.setPolicy(makePolicy({ p: profile }, { L1: { profile: 'p' } }));
  return engine;
}

describe('the PROTOCOL.md example profile', () => {
  const engine = engineWith(RESIDENTIAL);
  const level = (t: number): number => engine.levelAt('L1', t);

  it('on a winter night (Lyon, 15-16 January 2026)', () => {
    const n = nightForDate(LYON, '2026-01-15');
    // Lyon mid-January: sunset about 17:15, sunrise about 08:15 (CET).
    expect(n.dusk).toBeGreaterThan(at('2026-01-15', 17, 0));
    expect(n.dusk).toBeLessThan(at('2026-01-15', 17, 30));
    expect(n.dawn).toBeGreaterThan(at('2026-01-16', 8, 0));
    expect(n.dawn).toBeLessThan(at('2026-01-16', 8, 30));

    expect(level(at('2026-01-15', 14, 0))).toBe(0);
    expect(level(n.dusk - 1)).toBe(0);
    expect(level(n.dusk)).toBe(80);
    expect(level(at('2026-01-15', 20, 0))).toBe(80);
    expect(level(at('2026-01-15', 22, 30) - 1)).toBe(80);
    expect(level(at('2026-01-15', 22, 30))).toBe(20);
    expect(level(at('2026-01-16', 3, 0))).toBe(20);
    expect(level(at('2026-01-16', 5, 30) - 1)).toBe(20);
    expect(level(at('2026-01-16', 5, 30))).toBe(60);
    expect(level(at('2026-01-16', 7, 45))).toBe(60);
    expect(level(n.dawn - 1)).toBe(60);
    expect(level(n.dawn)).toBe(0);
    expect(level(at('2026-01-16', 10, 0))).toBe(0);
  });

  it('on a summer night (Lyon, 21-22 June 2026): short first and last slots', () => {
    const n = nightForDate(LYON, '2026-06-21');
    // Lyon at the solstice: sunset about 21:35, sunrise about 05:50 (CEST).
    expect(n.dusk).toBeGreaterThan(at('2026-06-21', 21, 20));
    expect(n.dusk).toBeLessThan(at('2026-06-21', 21, 50));
    expect(n.dawn).toBeGreaterThan(at('2026-06-22', 5, 35));
    expect(n.dawn).toBeLessThan(at('2026-06-22', 6, 5));

    expect(level(at('2026-06-21', 21, 0))).toBe(0);
    expect(level(n.dusk - 1)).toBe(0);
    expect(level(n.dusk)).toBe(80);
    expect(level(at('2026-06-21', 22, 0))).toBe(80);
    expect(level(at('2026-06-21', 22, 30))).toBe(20);
    expect(level(at('2026-06-22', 3, 0))).toBe(20);
    expect(level(at('2026-06-22', 5, 30))).toBe(60);
    expect(level(n.dawn - 1)).toBe(60);
    expect(level(n.dawn)).toBe(0);
    expect(level(at('2026-06-22', 7, 0))).toBe(0);
  });
});

describe('slot resolution', () => {
  it('a slot crossing midnight covers the evening and the next morning of the same night', () => {
    const engine = engineWith({ schedule: [{ from: '23:00', to: '01:00', level: 35 }] });
    expect(engine.levelAt('L1', at('2026-02-10', 22, 59, 59))).toBe(0);
    expect(engine.levelAt('L1', at('2026-02-10', 23, 0))).toBe(35);
    expect(engine.levelAt('L1', at('2026-02-11', 0, 30))).toBe(35);
    expect(engine.levelAt('L1', at('2026-02-11', 1, 0) - 1)).toBe(35);
    expect(engine.levelAt('L1', at('2026-02-11', 1, 0))).toBe(0);
    // 23:00 the previous evening: a different night, same rule.
    expect(engine.levelAt('L1', at('2026-02-10', 0, 30))).toBe(35);
  });

  it('dusk+15 and dawn-10 shift by whole minutes', () => {
    const engine = engineWith({ schedule: [{ from: 'dusk+15', to: 'dawn-10', level: 45 }] });
    const n = nightForDate(LYON, '2026-11-02');
    expect(engine.levelAt('L1', n.dusk + 15 * MIN - 1)).toBe(0);
    expect(engine.levelAt('L1', n.dusk + 15 * MIN)).toBe(45);
    expect(engine.levelAt('L1', n.dawn - 10 * MIN - 1)).toBe(45);
    expect(engine.levelAt('L1', n.dawn - 10 * MIN)).toBe(0);
    expect(parseTimeExpr('dusk-5')).toEqual({ kind: 'dusk', offsetMin: -5 });
    expect(parseTimeExpr('dawn+120')).toEqual({ kind: 'dawn', offsetMin: 120 });
    expect(parseTimeExpr('07:05')).toEqual({ kind: 'clock', hh: 7, mm: 5 });
  });

  it('an empty slot (from >= to) never applies, and the next listed slot does', () => {
    const engine = engineWith({
      schedule: [
        { from: '22:30', to: '22:30', level: 90 },
        // 05:00 is the next morning, after 23:00 of the evening: empty.
        { from: '05:00', to: '23:00', level: 90 },
        // In June dusk (~21:35) is after 21:00: empty in summer, a real slot in winter.
        { from: 'dusk', to: '21:00', level: 70 },
        { from: 'dusk', to: 'dawn', level: 10 },
      ],
    });
    expect(engine.levelAt('L1', at('2026-06-21', 22, 30))).toBe(10);
    expect(engine.levelAt('L1', at('2026-06-21', 23, 30))).toBe(10);
    expect(engine.levelAt('L1', at('2026-06-21', 21, 45))).toBe(10);
    expect(engine.levelAt('L1', at('2026-01-15', 20, 0))).toBe(70);
    expect(engine.levelAt('L1', at('2026-01-15', 21, 0))).toBe(10);
  });

  it('the first listed slot containing the instant wins over later overlapping ones', () => {
    const engine = engineWith({
      schedule: [
        { from: '00:00', to: '01:00', level: 5 },
        { from: 'dusk', to: 'dawn', level: 50 },
      ],
    });
    expect(engine.levelAt('L1', at('2026-03-03', 0, 30))).toBe(5);
    expect(engine.levelAt('L1', at('2026-03-03', 1, 30))).toBe(50);
  });

  it('22:30-05:30 on the spring-forward night lasts 6 h (CET evening, CEST morning)', () => {
    const night = nightForDate(LYON, '2026-03-28');
    const r = resolveSchedule(compileSchedule([{ from: '22:30', to: '05:30', level: 20 }]), night, TZ);
    expect(r[0]).toBe(Date.parse('2026-03-28T21:30:00Z'));
    expect(r[1]).toBe(Date.parse('2026-03-29T03:30:00Z'));
    expect(r[1]! - r[0]!).toBe(6 * HOUR);
    expect(scheduleLevelAt(r, Date.parse('2026-03-29T01:30:00Z'))).toBe(20); // 03:30 CEST
    expect(scheduleLevelAt(r, Date.parse('2026-03-29T03:30:00Z'))).toBe(0);
    const engine = engineWith({ schedule: [{ from: '22:30', to: '05:30', level: 20 }] });
    expect(engine.levelAt('L1', Date.parse('2026-03-29T03:29:59Z'))).toBe(20);
    expect(engine.levelAt('L1', Date.parse('2026-03-29T03:30:00Z'))).toBe(0);
  });

  it('22:30-05:30 on the fall-back night lasts 8 h (CEST evening, CET morning)', () => {
    const night = nightForDate(LYON, '2026-10-24');
    const r = resolveSchedule(compileSchedule([{ from: '22:30', to: '05:30', level: 20 }]), night, TZ);
    expect(r[0]).toBe(Date.parse('2026-10-24T20:30:00Z'));
    expect(r[1]).toBe(Date.parse('2026-10-25T04:30:00Z'));
    expect(r[1]! - r[0]!).toBe(8 * HOUR);
    // Both 02:30s of the repeated hour are inside the slot.
    expect(slotIndexAt(r, Date.parse('2026-10-25T00:30:00Z'))).toBe(0);
    expect(slotIndexAt(r, Date.parse('2026-10-25T01:30:00Z'))).toBe(0);
    const engine = engineWith({ schedule: [{ from: '22:30', to: '05:30', level: 20 }] });
    expect(engine.levelAt('L1', Date.parse('2026-10-25T04:29:59Z'))).toBe(20);
    expect(engine.levelAt('L1', Date.parse('2026-10-25T04:30:00Z'))).toBe(0);
  });

  it('a wall-clock time skipped by the spring change resolves one hour later', () => {
    const night = nightForDate(LYON, '2026-03-28');
    const r = resolveSchedule(compileSchedule([{ from: '02:30', to: '04:00', level: 20 }]), night, TZ);
    expect(r[0]).toBe(Date.parse('2026-03-29T01:30:00Z')); // 03:30 CEST
    expect(r[1]).toBe(Date.parse('2026-03-29T02:00:00Z')); // 04:00 CEST
  });

  it('refuses a malformed time expression, naming the field', () => {
    expect(() => compileSchedule([{ from: '24:00', to: 'dawn', level: 1 }])).toThrow(/schedule\[0\]\.from/);
    expect(() => parseTimeExpr('sunset')).toThrow(/"sunset"/);
  });
});
