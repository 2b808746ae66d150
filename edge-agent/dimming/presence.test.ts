import { describe, it, expect } from 'vitest';
import { nightForDate } from '../../core/astro.js';
import { createDimmingEngine } from './engine.js';
import { buildAdjacency, envelopeAt } from './presence.js';
import { LYON, RESIDENTIAL, at, chain, makePolicy } from './testing/fixtures.js';
import type { Policy, Profile } from '../../protocol/index.js';

const FIVE = ['L1', 'L2', 'L3', 'L4', 'L5'];
/** 03:00 on a winter night: RESIDENTIAL schedules 20, presence boosts to 100. */
const T = at('2026-01-16', 3, 0);

function engineFor(lamps: Policy['lamps'], profiles: Record<string, Profile> = { residential: RESIDENTIAL }) {
  const engine = createDimmingEngine({ site: LYON, lampIds: Object.keys(lamps) });
  engine.setPolicy(makePolicy(profiles, lamps));
  return engine;
}

describe('presence boost envelope', () => {
  it('ramps up over rampUpMs, holds holdS after the detection, ramps down over rampDownS', () => {
    const engine = engineFor(chain(5, 'residential'));
    expect(engine.presence('L3', T)).toEqual(expect.arrayContaining(['L3']));
    const level = (dt: number): number => engine.levelAt('L3', T + dt);
    expect(level(0)).toBe(20);
    expect(level(150)).toBeCloseTo(60, 9);
    expect(level(300)).toBe(100);
    expect(level(60_000)).toBe(100);
    expect(level(120_000)).toBe(100);
    expect(level(130_000)).toBeCloseTo(60, 9);
    expect(level(140_000)).toBe(20);
    expect(level(3_600_000)).toBe(20);
  });

  it('a new detection during ramp-down restarts from the current level, never dropping', () => {
    const engine = engineFor(chain(5, 'residential'));
    engine.presence('L3', T);
    const t1 = T + 130_000; // half-way down: 60
    expect(engine.levelAt('L3', t1)).toBeCloseTo(60, 9);
    engine.presence('L3', t1);
    expect(engine.levelAt('L3', t1)).toBeCloseTo(60, 9);
    expect(engine.levelAt('L3', t1 + 75)).toBeCloseTo(80, 9);
    expect(engine.levelAt('L3', t1 + 150)).toBe(100);
    // The hold now runs from the second detection.
    expect(engine.levelAt('L3', t1 + 120_000)).toBe(100);
    expect(engine.levelAt('L3', t1 + 140_000)).toBe(20);
  });

  it('a detection during hold extends it; a late, older detection does not shorten it', () => {
    const engine = engineFor(chain(5, 'residential'));
    engine.presence('L3', T);
    engine.presence('L3', T + 100_000);
    expect(engine.levelAt('L3', T + 100_000)).toBe(100);
    expect(engine.levelAt('L3', T + 200_000)).toBe(100);
    engine.presence('L3', T + 50_000); // relayed late
    expect(engine.levelAt('L3', T + 220_000)).toBe(100);
    expect(engine.levelAt('L3', T + 240_000)).toBe(20);
  });

  it('rampUpMs 0 is immediate, rampDownS 0 a step back at the end of the hold', () => {
    const engine = engineFor(chain(1, 'p'), {
      p: {
        schedule: [{ from: 'dusk', to: 'dawn', level: 30 }],
        presence: { level: 90, holdS: 10, rampUpMs: 0, rampDownS: 0, propagate: 0 },
      },
    });
    engine.presence('L1', T);
    expect(engine.levelAt('L1', T)).toBe(90);
    expect(engine.levelAt('L1', T + 9_999)).toBe(90);
    expect(engine.levelAt('L1', T + 10_000)).toBe(30);
  });

  it('a boost level below the schedule does not dim the lamp', () => {
    const engine = engineFor(chain(1, 'p'), {
      p: {
        schedule: [{ from: 'dusk', to: 'dawn', level: 70 }],
        presence: { level: 40, holdS: 10, rampUpMs: 0, rampDownS: 0, propagate: 0 },
      },
    });
    engine.presence('L1', T);
    expect(engine.levelAt('L1', T + 1000)).toBe(70);
  });

  it('envelopeAt stays in [0, 1] and is 0 before the detection', () => {
    const s = { holdS: 1, rampUpMs: 100, rampDownS: 1 };
    expect(envelopeAt(1000, 0, s, 999)).toBe(0);
    expect(envelopeAt(1000, 0.5, s, 1050)).toBeCloseTo(1, 12);
    expect(envelopeAt(1000, 0, s, 1000 + 1000 + 500)).toBeCloseTo(0.5, 12);
    expect(envelopeAt(1000, 0, s, 10_000)).toBe(0);
  });
});

describe('presence propagation', () => {
  it('a chain of 5 lamps with propagate 2 raises exactly 3 lamps from an end', () => {
    const engine = engineFor(chain(5, 'residential'));
    expect(engine.presence('L1', T).sort()).toEqual(['L1', 'L2', 'L3']);
    expect(engine.levelAt('L3', T + 300)).toBe(100);
    expect(engine.levelAt('L4', T + 300)).toBe(20);
    expect(engine.levelAt('L5', T + 300)).toBe(20);
  });

  it('links are taken both ways: from the middle all 5 are within 2 hops', () => {
    const engine = engineFor(chain(5, 'residential'));
    expect(engine.presence('L3', T).sort()).toEqual(FIVE);
  });

  it('the `hops` argument of a relayed detection replaces the profile propagate', () => {
    const engine = engineFor(chain(5, 'residential'));
    expect(engine.presence('L1', T, 0)).toEqual(['L1']);
    expect(engine.presence('L1', T, 4).sort()).toEqual(FIVE);
    expect(engine.presence('L5', T, 1).sort()).toEqual(['L4', 'L5']);
  });

  it('lamps of other gateways are ignored and not walked through', () => {
    const engine = engineFor({
      L1: { profile: 'residential', neighbours: ['EXT-1'] },
      L2: { profile: 'residential', neighbours: ['EXT-1'] },
    });
    expect(engine.presence('L1', T)).toEqual(['L1']);
    expect(engine.presence('EXT-1', T)).toEqual([]);
    expect(buildAdjacency(['L1', 'L2'], { L1: { profile: 'x', neighbours: ['L2', 'L2', 'L1'] } }).map((a) => [...a])).toEqual([
      [1],
      [0],
    ]);
  });

  it('each raised lamp follows its own profile; no presence settings, no raise', () => {
    const engine = engineFor(
      {
        L1: { profile: 'residential', neighbours: ['L2', 'L3'] },
        L2: { profile: 'quiet' },
        L3: { profile: 'plain' },
      },
      {
        residential: RESIDENTIAL,
        quiet: {
          schedule: [{ from: 'dusk', to: 'dawn', level: 10 }],
          presence: { level: 50, holdS: 10, rampUpMs: 0, rampDownS: 10, propagate: 0 },
        },
        plain: { schedule: [{ from: 'dusk', to: 'dawn', level: 15 }] },
      },
    );
    expect(engine.presence('L1', T).sort()).toEqual(['L1', 'L2']);
    expect(engine.levelAt('L2', T)).toBe(50);
    expect(engine.levelAt('L2', T + 15_000)).toBeCloseTo(30, 9);
    expect(engine.levelAt('L2', T + 20_000)).toBe(10);
    expect(engine.levelAt('L3', T + 1000)).toBe(15);
    expect(engine.levelAt('L1', T + 20_000)).toBe(100);
  });

  it('propagation walks through a lamp that is not itself raised', () => {
    const engine = engineFor(
      {
        L1: { profile: 'residential', neighbours: ['L2'] },
        L2: { profile: 'plain', neighbours: ['L3'] },
        L3: { profile: 'residential' },
      },
      { residential: RESIDENTIAL, plain: { schedule: [{ from: 'dusk', to: 'dawn', level: 15 }] } },
    );
    expect(engine.presence('L1', T).sort()).toEqual(['L1', 'L3']);
  });
});

describe('presence only during night slots', () => {
  it('no boost in daylight', () => {
    const engine = engineFor(chain(5, 'residential'));
    const noon = at('2026-01-16', 14, 0);
    expect(engine.presence('L3', noon)).toEqual([]);
    expect(engine.levelAt('L3', noon + 300)).toBe(0);
  });

  it('light on demand: a level-0 slot is raised, then back to 0', () => {
    const engine = engineFor(chain(2, 'dark'), {
      dark: {
        schedule: [{ from: 'dusk', to: 'dawn', level: 0 }],
        presence: { level: 70, holdS: 60, rampUpMs: 500, rampDownS: 10, propagate: 1 },
      },
    });
    expect(engine.levelAt('L1', T)).toBe(0);
    expect(engine.presence('L1', T).sort()).toEqual(['L1', 'L2']);
    expect(engine.levelAt('L2', T + 500)).toBe(70);
    expect(engine.levelAt('L2', T + 65_000)).toBeCloseTo(35, 9);
    expect(engine.levelAt('L2', T + 70_000)).toBe(0);
  });

  it('a boost running when its slot ends stops with the slot', () => {
    const engine = engineFor(chain(1, 'p'), {
      p: {
        schedule: [{ from: 'dusk', to: '23:00', level: 0 }],
        presence: { level: 100, holdS: 600, rampUpMs: 0, rampDownS: 0, propagate: 0 },
      },
    });
    engine.presence('L1', at('2026-01-15', 22, 59));
    expect(engine.levelAt('L1', at('2026-01-15', 22, 59, 59))).toBe(100);
    expect(engine.levelAt('L1', at('2026-01-15', 23, 0))).toBe(0);
  });

  it('fail-safe lamps are not raised, with or without a policy', () => {
    const engine = engineFor({ L1: { profile: 'residential', neighbours: ['L9'] } });
    // L9 is driven here but not in the policy.
    const withUnlisted = createDimmingEngine({ site: LYON, lampIds: ['L1', 'L9'] });
    withUnlisted.setPolicy(engine.getPolicy());
    expect(withUnlisted.presence('L1', T)).toEqual(['L1']);
    expect(withUnlisted.presence('L9', T)).toEqual([]);
    expect(withUnlisted.levelAt('L9', T + 1000)).toBe(100);

    const noPolicy = createDimmingEngine({ site: LYON, lampIds: ['L1'], failsafeLevel: 60 });
    expect(noPolicy.presence('L1', T)).toEqual([]);
    expect(noPolicy.levelAt('L1', T + 1000)).toBe(60);
  });

  it('a boost carries on across a policy update, under the lamp’s new profile', () => {
    const engine = engineFor(chain(1, 'residential'));
    engine.presence('L1', T);
    const next = makePolicy(
      {
        residential: {
          schedule: [{ from: 'dusk', to: 'dawn', level: 10 }],
          presence: { level: 50, holdS: 120, rampUpMs: 300, rampDownS: 20, propagate: 2 },
        },
      },
      chain(1, 'residential'),
      { version: 2 },
    );
    engine.setPolicy(next);
    expect(engine.levelAt('L1', T + 1000)).toBe(50);
    expect(engine.levelAt('L1', T + 140_000)).toBe(10);
    const n = nightForDate(LYON, '2026-01-15');
    expect(engine.levelAt('L1', n.dawn)).toBe(0);
  });
});
