import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PresenceKind, PresenceSettings, Profile, Site, Slot } from '../../protocol/index.js';
import { createDimmingEngine } from './engine.js';
import { makePolicy, TZ } from './testing/fixtures.js';

/**
 * Presence only raises light, never switches a lamp off or dims it: for any policy, any
 * detections (local or relayed, any hops and road user, in any order) and any overrides, every
 * lamp's level is at least what the same engine gives with no detection at all.
 */

const YEAR_START = Date.parse('2026-01-01T00:00:00Z');
const siteArb: fc.Arbitrary<Site> = fc.record({
  lat: fc.double({ min: 42.5, max: 51, noNaN: true }),
  lon: fc.double({ min: -4.5, max: 8, noNaN: true }),
  timezone: fc.constant(TZ),
});
const exprArb = fc.oneof(
  fc.tuple(fc.constantFrom('dusk', 'dawn'), fc.integer({ min: -300, max: 300 })).map(([b, m]) => (m === 0 ? b : `${b}${m > 0 ? '+' : ''}${m}`)),
  fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`),
);
const levelArb = fc.integer({ min: 0, max: 100 });
const slotsArb: fc.Arbitrary<Slot[]> = fc.array(fc.record({ from: exprArb, to: exprArb, level: levelArb }), { maxLength: 5 });
const presenceArb: fc.Arbitrary<PresenceSettings> = fc.record({
  level: levelArb,
  holdS: fc.integer({ min: 0, max: 600 }),
  rampUpMs: fc.integer({ min: 0, max: 5000 }),
  rampDownS: fc.integer({ min: 0, max: 120 }),
  propagate: fc.integer({ min: 0, max: 4 }),
});
const profileArb: fc.Arbitrary<Profile> = fc.record({ schedule: slotsArb, presence: fc.option(presenceArb, { nil: undefined }) });
const kindArb = fc.option(fc.constantFrom<PresenceKind>('pedestrian', 'cyclist', 'vehicle', 'unknown'), { nil: undefined });
const LAMPS = ['L1', 'L2', 'L3', 'L4', 'L5'];

describe('presence only raises light (property)', () => {
  it('with detections every lamp is at least its level without them, at every probe', () => {
    fc.assert(
      fc.property(
        siteArb,
        profileArb,
        profileArb,
        fc.integer({ min: 0, max: 364 * 86_400_000 }),
        fc.array(
          fc.record({ lamp: fc.constantFrom(...LAMPS, 'FOREIGN'), dt: fc.integer({ min: -600_000, max: 3_600_000 }), hops: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }), kind: kindArb }),
          { maxLength: 8 },
        ),
        fc.option(fc.record({ level: levelArb, durationMs: fc.integer({ min: 1, max: 7_200_000 }) }), { nil: undefined }),
        fc.array(fc.integer({ min: -600_000, max: 4_000_000 }), { minLength: 1, maxLength: 8 }),
        (site, a, b, offset, detections, override, probes) => {
          const t = YEAR_START + offset;
          const policy = makePolicy(
            { a, b },
            {
              L1: { profile: 'a', neighbours: ['L2'] },
              L2: { profile: 'b', neighbours: ['L3'] },
              L3: { profile: 'a', neighbours: ['L4'] },
              L4: { profile: 'b' },
            },
            { site },
          );
          const quiet = createDimmingEngine({ site, lampIds: LAMPS });
          const busy = createDimmingEngine({ site, lampIds: LAMPS });
          quiet.setPolicy(policy);
          busy.setPolicy(policy);
          if (override) {
            const o = { commandId: 'o', lamps: ['L2'], level: override.level, until: t + override.durationMs };
            quiet.setOverride(o);
            busy.setOverride(o);
          }
          for (const d of detections) busy.presence(d.lamp, t + d.dt, d.hops, d.kind);
          for (const p of probes) {
            for (const id of LAMPS) expect(busy.levelAt(id, t + p)).toBeGreaterThanOrEqual(quiet.levelAt(id, t + p));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
