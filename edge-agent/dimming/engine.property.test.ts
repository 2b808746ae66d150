import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { nightAt, nightForDate } from '../../core/astro.js';
import { createDimmingEngine } from './engine.js';
import { TZ, makePolicy } from './testing/fixtures.js';
import { policySchema } from '../../protocol/index.js';
import type { CalendarWhen, PresenceKind, PresenceSettings, Profile, Site, Slot } from '../../protocol/index.js';

/**
 * Properties of the engine over generated policies and instants spread over a year. The
 * scheduled level is checked against an oracle written from the documented rules alone.
 */

const YEAR_START = Date.parse('2026-01-01T00:00:00Z');
const YEAR_MS = 365 * 86_400_000;
const RUNS = 150;

/** Mainland France, so every HH:MM from 23:00 to 04:59 is between dusk and dawn all year. */
const siteArb: fc.Arbitrary<Site> = fc.record({
  lat: fc.double({ min: 42.5, max: 51, noNaN: true }),
  lon: fc.double({ min: -4.5, max: 8, noNaN: true }),
  timezone: fc.constant(TZ),
});

const hhmm = (hh: number, mm: number): string => `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}`;
const shift = (base: 'dusk' | 'dawn', m: number): string => (m === 0 ? base : `${base}${m > 0 ? '+' : ''}${m}`);

/** Expressions that always resolve inside [dusk, dawn]. */
const insideExprArb = fc.oneof(
  fc.integer({ min: 0, max: 90 }).map((m) => shift('dusk', m)),
  fc.integer({ min: 0, max: 90 }).map((m) => shift('dawn', -m)),
  fc.tuple(fc.constantFrom(23, 0, 1, 2, 3, 4), fc.integer({ min: 0, max: 59 })).map(([h, m]) => hhmm(h, m)),
);
/** Any valid expression. */
const anyExprArb = fc.oneof(
  fc.tuple(fc.constantFrom('dusk', 'dawn') as fc.Arbitrary<'dusk' | 'dawn'>, fc.integer({ min: -999, max: 999 })).map(
    ([b, m]) => shift(b, m),
  ),
  fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => hhmm(h, m)),
);

const levelArb = fc.integer({ min: 0, max: 100 });
const slotsArb = (expr: fc.Arbitrary<string>): fc.Arbitrary<Slot[]> =>
  fc.array(fc.record({ from: expr, to: expr, level: levelArb }), { minLength: 0, maxLength: 5 });
const presenceArb: fc.Arbitrary<PresenceSettings> = fc.record({
  level: levelArb,
  holdS: fc.integer({ min: 0, max: 600 }),
  rampUpMs: fc.integer({ min: 0, max: 5000 }),
  rampDownS: fc.integer({ min: 0, max: 120 }),
  propagate: fc.integer({ min: 0, max: 3 }),
});
const profileArb = (expr: fc.Arbitrary<string>): fc.Arbitrary<Profile> =>
  fc.record({ schedule: slotsArb(expr), presence: fc.option(presenceArb, { nil: undefined }) });

const LAMPS = ['L1', 'L2', 'L3', 'L4'];
/** Two profiles; L1..L3 in a line, L4 unlisted (fail-safe). */
function policyFrom(site: Site, a: Profile, b: Profile, failsafeLevel: number) {
  return makePolicy(
    { a, b },
    {
      L1: { profile: 'a', neighbours: ['L2'] },
      L2: { profile: 'b', neighbours: ['L3'] },
      L3: { profile: 'a' },
    },
    { site, failsafeLevel },
  );
}

/** The rules of schedule.ts, restated independently: the level and the slot index at t. */
function oracle(site: Site, schedule: Slot[], t: number): { level: number; slot: number } {
  const n = nightAt(site, t);
  const resolve = (e: string): number => {
    const m = /^(dusk|dawn)([+-]\d+)?$/.exec(e);
    if (m) return (m[1] === 'dusk' ? n.dusk : n.dawn) + Number(m[2] ?? 0) * 60_000;
    const [hh, mm] = e.split(':').map(Number) as [number, number];
    const day = DateTime.fromISO(n.date, { zone: site.timezone }).plus({ days: hh >= 12 ? 0 : 1 });
    return day.set({ hour: hh, minute: mm, second: 0, millisecond: 0 }).toMillis();
  };
  for (const [i, s] of schedule.entries()) {
    if (resolve(s.from) <= t && t < resolve(s.to)) return { level: s.level, slot: i };
  }
  return { level: 0, slot: -1 };
}

const instantArb = fc.integer({ min: 0, max: YEAR_MS }).map((o) => YEAR_START + o);
const detectionsArb = fc.array(
  fc.record({
    lamp: fc.constantFrom(...LAMPS),
    dt: fc.integer({ min: 0, max: 900_000 }),
    hops: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  }),
  { maxLength: 4 },
);

describe('dimming engine properties', () => {
  it('without detections the level is exactly the schedule oracle, and always in 0..100', () => {
    fc.assert(
      fc.property(siteArb, profileArb(anyExprArb), profileArb(anyExprArb), levelArb, instantArb, (site, a, b, fs, t) => {
        const engine = createDimmingEngine({ site, lampIds: LAMPS });
        engine.setPolicy(policyFrom(site, a, b, fs));
        expect(engine.levelAt('L1', t)).toBe(oracle(site, a.schedule, t).level);
        expect(engine.levelAt('L2', t)).toBe(oracle(site, b.schedule, t).level);
        const n = nightAt(site, t);
        expect(engine.levelAt('L4', t)).toBe(t >= n.dusk && t < n.dawn ? fs : 0);
      }),
      { numRuns: RUNS },
    );
  });

  it('with detections and overrides the level stays in 0..100', () => {
    fc.assert(
      fc.property(
        siteArb,
        profileArb(anyExprArb),
        profileArb(anyExprArb),
        instantArb,
        detectionsArb,
        fc.option(fc.record({ level: levelArb, durationMs: fc.integer({ min: 1, max: 3_600_000 }) }), { nil: undefined }),
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 5 }),
        (site, a, b, t, detections, override, probes) => {
          const engine = createDimmingEngine({ site, lampIds: LAMPS });
          engine.setPolicy(policyFrom(site, a, b, 100));
          for (const d of detections) engine.presence(d.lamp, t + d.dt, d.hops);
          if (override) engine.setOverride({ commandId: 'o', lamps: ['L2'], level: override.level, until: t + override.durationMs });
          for (const p of probes) {
            for (const id of LAMPS) {
              const level = engine.levelAt(id, t + p);
              expect(level).toBeGreaterThanOrEqual(0);
              expect(level).toBeLessThanOrEqual(100);
            }
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('with slots inside the night: 0 outside [dusk, dawn), never below the slot level inside a slot', () => {
    fc.assert(
      fc.property(
        siteArb,
        profileArb(insideExprArb),
        profileArb(insideExprArb),
        instantArb,
        detectionsArb,
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 5 }),
        (site, a, b, t, detections, probes) => {
          const engine = createDimmingEngine({ site, lampIds: LAMPS });
          engine.setPolicy(policyFrom(site, a, b, 100));
          for (const d of detections) engine.presence(d.lamp, t + d.dt, d.hops);
          for (const p of probes) {
            const u = t + p;
            const n = nightAt(site, u);
            const dark = u >= n.dusk && u < n.dawn;
            for (const [id, profile] of [['L1', a], ['L3', a], ['L2', b]] as const) {
              const level = engine.levelAt(id, u);
              if (!dark) expect(level).toBe(0);
              const { level: scheduled, slot } = oracle(site, profile.schedule, u);
              if (slot >= 0) expect(level).toBeGreaterThanOrEqual(scheduled);
              else expect(level).toBe(0);
            }
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a detection reaches the boost within rampUpMs and is back to the schedule after holdS + rampDownS', () => {
    fc.assert(
      fc.property(
        siteArb,
        levelArb,
        presenceArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        instantArb,
        (site, scheduled, presence, where, day) => {
          const engine = createDimmingEngine({ site, lampIds: ['L1'] });
          engine.setPolicy(
            makePolicy({ p: { schedule: [{ from: 'dusk', to: 'dawn', level: scheduled }], presence } }, { L1: { profile: 'p' } }, { site }),
          );
          const n = nightAt(site, day);
          const envelopeMs = presence.holdS * 1000 + presence.rampDownS * 1000 + presence.rampUpMs;
          // A detection far enough from dawn that the envelope and the last probe lie in the slot.
          const t = Math.floor(n.dusk + where * (n.dawn - n.dusk - envelopeMs - 60_001));
          expect(engine.presence('L1', t)).toEqual(['L1']);
          const boosted = Math.max(scheduled, presence.level);
          // The hold counts from the detection: a hold shorter than the rise cuts it short.
          if (presence.holdS * 1000 > presence.rampUpMs) {
            expect(engine.levelAt('L1', t + presence.rampUpMs)).toBe(boosted);
            expect(engine.levelAt('L1', t + presence.holdS * 1000 - 1)).toBe(boosted);
          }
          expect(engine.levelAt('L1', t + presence.holdS * 1000 + presence.rampDownS * 1000)).toBe(scheduled);
          expect(engine.levelAt('L1', t + envelopeMs + 60_000)).toBe(scheduled);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('with no policy: exactly the fail-safe level in [dusk, dawn), 0 otherwise', () => {
    fc.assert(
      fc.property(siteArb, fc.option(levelArb, { nil: undefined }), instantArb, (site, failsafeLevel, t) => {
        const engine = createDimmingEngine({ site, lampIds: ['L1'], failsafeLevel });
        const n = nightAt(site, t);
        const expected = t >= n.dusk && t < n.dawn ? (failsafeLevel ?? 100) : 0;
        expect(engine.levelAt('L1', t)).toBe(expected);
        expect(engine.mode(t)).toBe('failsafe');
      }),
      { numRuns: RUNS },
    );
  });
});

/** A date of 2026 (a night's name) and a calendar condition built around it. */
const dateArb = fc.integer({ min: 0, max: 364 }).map((d) => DateTime.fromISO('2026-01-01', { zone: 'UTC' }).plus({ days: d }).toISODate()!);
type WhenCase = { when: CalendarWhen; holds: (date: string) => boolean };
/** Conditions with an oracle written from the documented meaning, not from policy/calendar.ts. */
const whenArb = (d: string): fc.Arbitrary<WhenCase> =>
  fc.oneof(
    fc.constant<WhenCase>({ when: { dates: [d] }, holds: (x) => x === d }),
    fc.constant<WhenCase>({ when: { dates: [`-${d.slice(4)}`] }, holds: (x) => x.slice(5) === d.slice(5) }),
    fc.constant<WhenCase>({
      when: { weekdays: [DateTime.fromISO(d).weekday] },
      holds: (x) => DateTime.fromISO(x).weekday === DateTime.fromISO(d).weekday,
    }),
    fc.integer({ min: 0, max: 20 }).map<WhenCase>((len) => {
      const to = DateTime.fromISO(d).plus({ days: len }).toISODate()!;
      return { when: { from: d, to }, holds: (x) => d <= x && x <= to };
    }),
  );

describe('dimming engine properties: calendar and light ahead', () => {
  it('a calendar rule wins on its date, and only there', () => {
    fc.assert(
      fc.property(
        siteArb,
        profileArb(anyExprArb),
        profileArb(anyExprArb),
        dateArb.chain((d) => fc.tuple(fc.constant(d), whenArb(d))),
        fc.boolean(),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        instantArb,
        (site, a, b, [date, c], onTheDate, where, anyT) => {
          const engine = createDimmingEngine({ site, lampIds: LAMPS });
          const policy = policySchema.parse({
            ...policyFrom(site, a, b, 100),
            // Rule 0 names only `b`, so it must never touch L1 (profile a); rule 1 maps a → b.
            calendar: [
              { when: c.when, profiles: { b: 'a' } },
              { when: c.when, profiles: { a: 'b' } },
            ],
          });
          engine.setPolicy(policy);
          // Half the runs on the rule's own night, so "wins" is exercised as much as "not elsewhere".
          const n = nightForDate(site, date);
          const t = onTheDate ? Math.floor(n.windowStart + where * (n.windowEnd - n.windowStart)) : anyT;
          const applies = c.holds(nightAt(site, t).date);
          expect(engine.levelAt('L1', t)).toBe(oracle(site, applies ? b.schedule : a.schedule, t).level);
          expect(engine.levelAt('L2', t)).toBe(oracle(site, applies ? a.schedule : b.schedule, t).level);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a detection raises exactly the lamps within the hops of its kind (relayed hops first)', () => {
    const kindArb = fc.option(fc.constantFrom<PresenceKind>('pedestrian', 'cyclist', 'vehicle', 'unknown'), { nil: undefined });
    const hopsArb = fc.integer({ min: 0, max: 6 });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        hopsArb,
        fc.record(
          { pedestrian: hopsArb, cyclist: hopsArb, vehicle: hopsArb, unknown: hopsArb },
          { requiredKeys: [] },
        ),
        kindArb,
        fc.option(hopsArb, { nil: undefined }),
        fc.nat(),
        instantArb,
        (n, propagate, propagateByKind, kind, hops, startSeed, day) => {
          const ids = Array.from({ length: n }, (_, i) => `L${i + 1}`);
          const lamps = Object.fromEntries(ids.map((id, i) => [id, { profile: 'p', neighbours: i + 1 < n ? [ids[i + 1]!] : [] }]));
          const site: Site = { lat: 46.5, lon: 2.5, timezone: TZ };
          const presence = { level: 100, holdS: 10, rampUpMs: 0, rampDownS: 0, propagate, propagateByKind };
          const engine = createDimmingEngine({ site, lampIds: ids });
          engine.setPolicy(makePolicy({ p: { schedule: [{ from: 'dusk', to: 'dawn', level: 0 }], presence } }, lamps, { site }));
          const night = nightAt(site, day);
          const t = Math.floor((night.dusk + night.dawn) / 2);
          const start = startSeed % n;
          const reach = hops ?? (kind !== undefined ? propagateByKind[kind] : undefined) ?? propagate;
          const expected = ids.filter((_, i) => Math.abs(i - start) <= reach).sort();
          expect(engine.presence(ids[start]!, t, hops, kind).sort()).toEqual(expected);
          for (const [i, id] of ids.entries()) expect(engine.levelAt(id, t)).toBe(Math.abs(i - start) <= reach ? 100 : 0);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
