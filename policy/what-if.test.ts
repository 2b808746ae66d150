import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { localTime, nightForDate } from '../core/astro.js';
import { policySchema } from '../protocol/index.js';
import type { Policy, PresenceSettings, Profile, Site } from '../protocol/index.js';
import { createDimmingEngine } from '../edge-agent/dimming/engine.js';
import { predictNights, type RecordedDetection } from './what-if.js';

const TZ = 'Europe/Paris';
const LYON: Site = { lat: 45.764, lon: 4.8357, timezone: TZ };
const at = (date: string, hh: number, mm: number): number => localTime(date, hh, mm, TZ);
const HOUR = 3_600_000;
const PRESENCE: PresenceSettings = { level: 100, holdS: 120, rampUpMs: 300, rampDownS: 20, propagate: 1 };

function policy(profiles: Record<string, Profile>, lamps: Policy['lamps'], extra: Record<string, unknown> = {}): Policy {
  return policySchema.parse({ v: 1, id: 'draft', version: 1, issuedAt: 0, site: LYON, failsafeLevel: 100, profiles, lamps, ...extra });
}

const flat20: Profile = { schedule: [{ from: 'dusk', to: 'dawn', level: 20 }], presence: PRESENCE };
const NIGHT = '2026-01-15';

describe('predictNights: energy', () => {
  const n = nightForDate(LYON, NIGHT);
  const dark = n.dawn - n.dusk;

  it('no detection: the schedule and fail-safe levels times nominal power, from dusk to dawn', () => {
    const [r] = predictNights({
      policy: policy({ p: flat20 }, { A: { profile: 'p' } }),
      lamps: [
        { id: 'A', nominalPowerW: 50 },
        { id: 'F', nominalPowerW: 30, standbyW: 1 }, // not in the policy: fail-safe 100
      ],
      presence: [],
      nights: [NIGHT],
    });
    expect(r!.date).toBe(NIGHT);
    expect(r!.energyWh).toBeCloseTo((50 * 0.2 * dark) / HOUR + (31 * dark) / HOUR, 9);
    expect(r!.fullPowerWh).toBeCloseTo((50 * dark + 31 * dark) / HOUR, 9);
    expect(r).toMatchObject({ detections: 0, detectionsBoosted: 0 });
  });

  it('a detection adds the rise, the hold and the ramp-down, exactly', () => {
    const t = at('2026-01-16', 3, 0);
    const [r] = predictNights({
      policy: policy({ p: flat20 }, { A: { profile: 'p' } }),
      lamps: [{ id: 'A', nominalPowerW: 100 }],
      presence: [{ lampId: 'A', ts: t, kind: 'pedestrian' }],
      nights: [NIGHT],
    });
    // Extra 80 % over: half the 300 ms rise, the rest of the 120 s hold, half the 20 s ramp-down.
    const extraLevelMs = 80 * (150 + (120_000 - 300) + 10_000);
    expect(r!.energyWh).toBeCloseTo((100 * (20 * dark + extraLevelMs)) / 100 / HOUR, 9);
    expect(r).toMatchObject({ detections: 1, detectionsBoosted: 1 });
  });

  it('a second detection during the hold extends it; the neighbour it reaches is counted too', () => {
    const t = at('2026-01-16', 3, 0);
    const [r] = predictNights({
      policy: policy({ p: flat20 }, { A: { profile: 'p', neighbours: ['B'] }, B: { profile: 'p' } }),
      lamps: [
        { id: 'A', nominalPowerW: 100 },
        { id: 'B', nominalPowerW: 100 },
      ],
      presence: [
        { lampId: 'A', ts: t + 60_000, kind: 'pedestrian' }, // unsorted on purpose
        { lampId: 'A', ts: t, kind: 'pedestrian' },
      ],
      nights: [NIGHT],
    });
    const extraOne = 80 * (150 + (60_000 + 120_000 - 300) + 10_000);
    expect(r!.energyWh).toBeCloseTo((100 * 2 * (20 * dark + extraOne)) / 100 / HOUR, 9);
    expect(r).toMatchObject({ detections: 2, detectionsBoosted: 2 });
  });
});

describe('predictNights: detections', () => {
  const profiles: Record<string, Profile> = {
    onDemand: { schedule: [{ from: 'dusk', to: 'dawn', level: 0 }], presence: { ...PRESENCE, level: 60 } },
    slowRise: { schedule: [{ from: 'dusk', to: 'dawn', level: 0 }], presence: { ...PRESENCE, holdS: 0, rampDownS: 0 } },
    noPresence: { schedule: [{ from: 'dusk', to: 'dawn', level: 30 }] },
  };
  const lamps = [
    { id: 'D', nominalPowerW: 40 },
    { id: 'S', nominalPowerW: 40 },
    { id: 'N', nominalPowerW: 40 },
  ];
  const p = policy(profiles, { D: { profile: 'onDemand' }, S: { profile: 'slowRise' }, N: { profile: 'noPresence' } });
  const t = at('2026-01-16', 2, 0);

  it('counts detections between dusk and dawn at known lamps, and those that got the boost in time', () => {
    const presence: RecordedDetection[] = [
      { lampId: 'D', ts: t, kind: 'pedestrian' },
      { lampId: 'S', ts: t, kind: 'cyclist' }, // hold 0: the boost is cut before rampUpMs
      { lampId: 'N', ts: t, kind: 'vehicle' }, // no presence settings: never boosted
      { lampId: 'D', ts: at('2026-01-16', 13, 0), kind: 'pedestrian' }, // daylight
      { lampId: 'ZZ', ts: t, kind: 'pedestrian' }, // unknown lamp
      { lampId: 'D', ts: at('2026-01-17', 2, 0), kind: 'pedestrian' }, // the next night
    ];
    const [r1, r2] = predictNights({ policy: p, lamps, presence, nights: [NIGHT, '2026-01-16'] });
    expect(r1).toMatchObject({ date: NIGHT, detections: 3, detectionsBoosted: 1 });
    expect(r2).toMatchObject({ date: '2026-01-16', detections: 1, detectionsBoosted: 1 });
  });

  it('the calendar of the policy applies: a festive night at full power serves every detection', () => {
    const festive = policy(
      { ...profiles, full: { schedule: [{ from: 'dusk', to: 'dawn', level: 100 }] } },
      { N: { profile: 'noPresence' } },
      { calendar: [{ when: { dates: ['--01-15'] }, profiles: { noPresence: 'full' } }] },
    );
    const [r] = predictNights({ policy: festive, lamps: [{ id: 'N', nominalPowerW: 40 }], presence: [], nights: [NIGHT] });
    expect(r!.energyWh).toBeCloseTo(r!.fullPowerWh, 9);
  });
});

describe('predictNights against a brute-force replay', () => {
  it('matches a 20 ms Riemann sum of the engine’s level over a busy half hour', () => {
    const presenceArb = fc.record({
      level: fc.integer({ min: 0, max: 100 }),
      // Holds shorter than the rise often: the envelope then turns where rise and ramp-down meet.
      holdS: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 90 })),
      rampUpMs: fc.integer({ min: 0, max: 3000 }),
      rampDownS: fc.integer({ min: 0, max: 30 }),
      propagate: fc.integer({ min: 0, max: 2 }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }),
        presenceArb,
        fc.array(fc.record({ lamp: fc.constantFrom('A', 'B', 'C'), dt: fc.integer({ min: 0, max: 1_500_000 }) }), { maxLength: 12 }),
        (level, presence, raw) => {
          // The slot ends at 02:10 in the middle of the window: boosts running then stop with it.
          const profiles = {
            p: { schedule: [{ from: 'dusk', to: '02:10', level }, { from: '02:10', to: 'dawn', level: 5 }], presence },
          };
          const lamps = { A: { profile: 'p', neighbours: ['B'] }, B: { profile: 'p', neighbours: ['C'] }, C: { profile: 'p' } };
          const pol = policy(profiles, lamps);
          const t0 = at('2026-01-16', 2, 0);
          const presenceLog = raw.map((d) => ({ lampId: d.lamp, ts: t0 + d.dt, kind: 'unknown' as const }));
          const [r] = predictNights({ policy: pol, lamps: ['A', 'B', 'C'].map((id) => ({ id, nominalPowerW: 100 })), presence: presenceLog, nights: [NIGHT] });

          // Reference: a clean engine for the base, and a replay swept in time for the boosts.
          const clean = createDimmingEngine({ site: LYON, lampIds: ['A', 'B', 'C'] });
          const live = createDimmingEngine({ site: LYON, lampIds: ['A', 'B', 'C'] });
          clean.setPolicy(pol);
          live.setPolicy(pol);
          const queue = [...presenceLog].sort((x, y) => x.ts - y.ts);
          const n = nightForDate(LYON, NIGHT);
          const base = (t: number): number => clean.levelAt('A', t);
          // Base over the whole night: exact, the schedule has two slots.
          const cut = at('2026-01-16', 2, 10);
          let levelMs = 3 * (level * (cut - n.dusk) + 5 * (n.dawn - cut));
          const step = 20;
          let q = 0;
          for (let t = t0; t < t0 + 1_800_000; t += step) {
            while (q < queue.length && queue[q]!.ts <= t) {
              live.presence(queue[q]!.lampId, queue[q]!.ts);
              q++;
            }
            const mid = t + step / 2;
            for (const id of ['A', 'B', 'C']) levelMs += (live.levelAt(id, mid) - base(mid)) * step;
          }
          const expected = (100 * levelMs) / 100 / HOUR;
          // Sampling error: a few 20 ms steps per detection per lamp at worst.
          expect(Math.abs(r!.energyWh - expected)).toBeLessThan(1e-3 * (1 + raw.length));
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('predictNights: speed', () => {
  it('500 lamps × 7 nights with busy streets, well under a second', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `L${i}`);
    const lamps: Policy['lamps'] = {};
    ids.forEach((id, i) => (lamps[id] = { profile: i % 2 ? 'residential' : 'onDemand', neighbours: i + 1 < ids.length ? [ids[i + 1]!] : [] }));
    const pol = policy(
      {
        residential: {
          schedule: [
            { from: 'dusk', to: '22:30', level: 80 },
            { from: '22:30', to: '05:30', level: 20 },
            { from: '05:30', to: 'dawn', level: 60 },
          ],
          presence: { ...PRESENCE, propagate: 2, propagateByKind: { vehicle: 4 } },
        },
        onDemand: { schedule: [{ from: 'dusk', to: 'dawn', level: 0 }], presence: PRESENCE },
      },
      lamps,
    );
    const nights = ['2026-01-10', '2026-01-11', '2026-01-12', '2026-01-13', '2026-01-14', '2026-01-15', '2026-01-16'];
    const presence: RecordedDetection[] = [];
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
    const kinds = ['pedestrian', 'cyclist', 'vehicle', 'unknown'] as const;
    for (const date of nights) {
      const n = nightForDate(LYON, date);
      for (let k = 0; k < 5000; k++) {
        presence.push({ lampId: ids[Math.floor(rand() * ids.length)]!, ts: Math.floor(n.dusk + rand() * (n.dawn - n.dusk)), kind: kinds[k % 4]! });
      }
    }
    lampsWarm(pol, ids); // astro and schedule caches, as a long-running controller has them
    const t0 = performance.now();
    const r = predictNights({ policy: pol, lamps: ids.map((id) => ({ id, nominalPowerW: 40 })), presence, nights });
    const ms = performance.now() - t0;
    expect(r).toHaveLength(7);
    for (const night of r) {
      expect(night.detections).toBe(5000);
      expect(night.energyWh).toBeGreaterThan(0);
      expect(night.energyWh).toBeLessThan(night.fullPowerWh);
    }
    expect(ms).toBeLessThan(1500);
  });
});

function lampsWarm(pol: Policy, ids: string[]): void {
  predictNights({ policy: pol, lamps: ids.slice(0, 2).map((id) => ({ id, nominalPowerW: 1 })), presence: [], nights: ['2026-01-10'] });
}

describe('predictNights: which detections the policy means to serve', () => {
  it('a lamp without presence settings, or outside its slots, is not eligible; the others are served', () => {
    const evening: Profile = { schedule: [{ from: 'dusk', to: '22:00', level: 40 }] };
    const [r] = predictNights({
      policy: policy({ p: flat20, park: evening }, { A: { profile: 'p' }, P: { profile: 'park' } }),
      lamps: [
        { id: 'A', nominalPowerW: 50 },
        { id: 'P', nominalPowerW: 25 },
      ],
      presence: [
        { lampId: 'A', ts: at('2026-01-16', 3, 0), kind: 'pedestrian' },
        { lampId: 'P', ts: at('2026-01-15', 21, 0), kind: 'pedestrian' },
        { lampId: 'P', ts: at('2026-01-16', 2, 0), kind: 'pedestrian' },
      ],
      nights: [NIGHT],
    });
    expect(r).toMatchObject({ detections: 3, detectionsEligible: 1, detectionsBoosted: 1 });
  });
});
