import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { nightAt } from '../../core/astro.js';
import { createDimmingEngine } from './engine.js';
import { TZ, makePolicy } from './testing/fixtures.js';
import type { PresenceSettings, Profile, Site, Slot } from '../../protocol/index.js';

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
