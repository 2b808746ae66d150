import { describe, it, expect } from 'vitest';
import { performance } from 'node:perf_hooks';
import { nightForDate } from '../../core/astro.js';
import { createDimmingEngine } from './engine.js';
import { LYON, PARIS, RESIDENTIAL, at, chain, makePolicy } from './testing/fixtures.js';

const NIGHT = nightForDate(LYON, '2026-01-15');
const EVENING = at('2026-01-15', 20, 0); // RESIDENTIAL: 80
const DAY = at('2026-01-16', 14, 0);

function policyEngine(lampIds = ['L1', 'L2', 'L3']) {
  const engine = createDimmingEngine({ site: LYON, lampIds });
  engine.setPolicy(makePolicy({ residential: RESIDENTIAL }, chain(3, 'residential'), { failsafeLevel: 50 }));
  return engine;
}

describe('fail-safe', () => {
  it('with no policy: the configured level from dusk to dawn, 0 in daylight, mode failsafe', () => {
    const engine = createDimmingEngine({ site: LYON, lampIds: ['L1'], failsafeLevel: 70 });
    expect(engine.getPolicy()).toBeNull();
    expect(engine.mode(EVENING)).toBe('failsafe');
    expect(engine.levelAt('L1', NIGHT.dusk - 1)).toBe(0);
    expect(engine.levelAt('L1', NIGHT.dusk)).toBe(70);
    expect(engine.levelAt('L1', at('2026-01-16', 3, 0))).toBe(70);
    expect(engine.levelAt('L1', NIGHT.dawn - 1)).toBe(70);
    expect(engine.levelAt('L1', NIGHT.dawn)).toBe(0);
  });

  it('defaults to 100 and uses the configured site until a policy brings its own', () => {
    const engine = createDimmingEngine({ site: PARIS, lampIds: ['L1'] });
    const paris = nightForDate(PARIS, '2026-06-21');
    const lyon = nightForDate(LYON, '2026-06-21');
    // Paris is west and north of Lyon: in June its sun sets some 20 minutes later.
    expect(paris.dusk - lyon.dusk).toBeGreaterThan(10 * 60_000);
    const between = (paris.dusk + lyon.dusk) / 2;
    expect(engine.levelAt('L1', between)).toBe(0);
    expect(engine.levelAt('L1', paris.dusk)).toBe(100);
    engine.setPolicy(makePolicy({ residential: RESIDENTIAL }, {}, { site: LYON, failsafeLevel: 40 }));
    expect(engine.levelAt('L1', between)).toBe(40);
  });

  it('a lamp the policy does not list gets the policy fail-safe level from dusk to dawn', () => {
    const engine = policyEngine(['L1', 'L2', 'L3', 'X9']);
    expect(engine.mode(EVENING)).toBe('policy');
    expect(engine.levelAt('L1', EVENING)).toBe(80);
    expect(engine.levelAt('X9', EVENING)).toBe(50);
    expect(engine.levelAt('X9', at('2026-01-16', 3, 0))).toBe(50);
    expect(engine.levelAt('X9', DAY)).toBe(0);
  });

  it('setPolicy(null) returns to fail-safe', () => {
    const engine = policyEngine();
    engine.setPolicy(null);
    expect(engine.mode(EVENING)).toBe('failsafe');
    expect(engine.levelAt('L1', EVENING)).toBe(100);
    expect(engine.levelAt('L1', at('2026-01-16', 3, 0))).toBe(100);
  });

  it('keeps the previous policy when a new one does not compile', () => {
    const engine = policyEngine();
    const bad = structuredClone(engine.getPolicy()!);
    bad.profiles.residential!.schedule[0]!.from = 'noon';
    expect(() => engine.setPolicy(bad)).toThrow(/profiles\.residential\.schedule\[0\]\.from/);
    expect(engine.getPolicy()?.version).toBe(1);
    expect(engine.levelAt('L1', EVENING)).toBe(80);
  });

  it('de-duplicates lampIds', () => {
    expect(createDimmingEngine({ site: LYON, lampIds: ['A', 'B', 'A'] }).lampIds).toEqual(['A', 'B']);
  });
});

describe('overrides', () => {
  it('set the level of their lamps whatever the policy, day or night, until they expire', () => {
    const engine = policyEngine();
    const until = EVENING + 3_600_000;
    engine.setOverride({ commandId: 'c1', lamps: ['L1'], level: 5, until });
    expect(engine.mode(EVENING)).toBe('override');
    expect(engine.levelAt('L1', EVENING)).toBe(5);
    expect(engine.levelAt('L2', EVENING)).toBe(80);
    expect(engine.levelAt('L1', until - 1)).toBe(5);
    expect(engine.levelAt('L1', until)).toBe(80);
    expect(engine.activeOverrides(until - 1)).toEqual([{ commandId: 'c1', lamps: ['L1'], level: 5, until }]);
    expect(engine.activeOverrides(until)).toEqual([]);
    expect(engine.mode(until)).toBe('policy');

    engine.setOverride({ commandId: 'c2', lamps: 'all', level: 100, until: DAY + 1000 });
    expect(engine.levelAt('L3', DAY)).toBe(100);
  });

  it('win over a presence boost and over fail-safe', () => {
    const engine = policyEngine(['L1', 'L2', 'L3', 'X9']);
    const t = at('2026-01-16', 3, 0);
    engine.presence('L1', t);
    engine.setOverride({ commandId: 'c1', lamps: 'all', level: 0, until: t + 60_000 });
    expect(engine.levelAt('L1', t + 1000)).toBe(0);
    expect(engine.levelAt('X9', t + 1000)).toBe(0);
    expect(engine.levelAt('L1', t + 60_000)).toBe(100);
  });

  it('the latest set wins per lamp; clearing some lamps keeps the others', () => {
    const engine = policyEngine();
    const until = EVENING + 60_000;
    engine.setOverride({ commandId: 'all30', lamps: 'all', level: 30, until });
    engine.setOverride({ commandId: 'one90', lamps: ['L1'], level: 90, until });
    expect(engine.levelAt('L1', EVENING)).toBe(90);
    expect(engine.levelAt('L2', EVENING)).toBe(30);
    engine.setOverride({ commandId: 'all30', lamps: 'all', level: 30, until }); // set again: now the latest
    expect(engine.levelAt('L1', EVENING)).toBe(30);
    expect(engine.activeOverrides(EVENING).map((o) => o.commandId)).toEqual(['one90', 'all30']);

    engine.clearOverrides(['L1']);
    expect(engine.levelAt('L1', EVENING)).toBe(80);
    expect(engine.levelAt('L2', EVENING)).toBe(30);
    expect(engine.activeOverrides(EVENING)).toEqual([{ commandId: 'all30', lamps: ['L2', 'L3'], level: 30, until }]);
    expect(engine.mode(EVENING)).toBe('override');

    engine.clearOverrides('all');
    expect(engine.activeOverrides(EVENING)).toEqual([]);
    expect(engine.mode(EVENING)).toBe('policy');
    expect(engine.levelAt('L2', EVENING)).toBe(80);
  });

  it('hands out copies: editing what activeOverrides returned changes nothing', () => {
    const engine = policyEngine();
    const lamps = ['L1'];
    engine.setOverride({ commandId: 'c1', lamps, level: 10, until: EVENING + 1000 });
    lamps.push('L2');
    const got = engine.activeOverrides(EVENING);
    (got[0]!.lamps as string[]).push('L3');
    expect(engine.levelAt('L2', EVENING)).toBe(80);
    expect(engine.levelAt('L3', EVENING)).toBe(80);
  });

  it('clamps levels to 0..100', () => {
    const engine = policyEngine();
    engine.setOverride({ commandId: 'hi', lamps: ['L1'], level: 150, until: EVENING + 1000 });
    engine.setOverride({ commandId: 'lo', lamps: ['L2'], level: -5, until: EVENING + 1000 });
    engine.setOverride({ commandId: 'nan', lamps: ['L3'], level: Number.NaN, until: EVENING + 1000 });
    expect(engine.levelAt('L1', EVENING)).toBe(100);
    expect(engine.levelAt('L2', EVENING)).toBe(0);
    expect(engine.levelAt('L3', EVENING)).toBe(0);
  });
});

describe('cost', () => {
  it('presence then the level of all 100 lamps: p99 under 1 ms', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `L${i + 1}`);
    const lamps = chain(100, 'residential');
    // A street grid rather than a line: every lamp also sees the one 10 further.
    for (let i = 1; i <= 90; i++) lamps[`L${i}`]!.neighbours!.push(`L${i + 10}`);
    const engine = createDimmingEngine({ site: LYON, lampIds: ids });
    engine.setPolicy(makePolicy({ residential: { ...RESIDENTIAL, presence: { ...RESIDENTIAL.presence!, propagate: 4 } } }, lamps));
    const start = at('2026-01-16', 1, 0);
    const samples: number[] = [];
    let sum = 0;
    for (let k = 0; k < 3000; k++) {
      const t = start + k * 997;
      const t0 = performance.now();
      engine.presence(ids[(k * 37) % 100]!, t);
      for (const id of ids) sum += engine.levelAt(id, t + 100);
      const dt = performance.now() - t0;
      if (k >= 500) samples.push(dt); // after warm-up
    }
    samples.sort((a, b) => a - b);
    const p99 = samples[Math.floor(samples.length * 0.99)]!;
    expect(sum).toBeGreaterThan(0);
    expect(p99).toBeLessThan(1);
  });
});
