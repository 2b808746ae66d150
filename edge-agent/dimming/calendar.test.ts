import { describe, it, expect } from 'vitest';
import { createDimmingEngine } from './engine.js';
import { LYON, RESIDENTIAL, at, chain, makePolicy } from './testing/fixtures.js';
import { policySchema } from '../../protocol/index.js';
import type { Policy, Profile } from '../../protocol/index.js';

const FESTIVE: Profile = { schedule: [{ from: 'dusk', to: 'dawn', level: 100 }] };
/** Off all night, light on demand only: a holiday profile for a quiet lane. */
const ON_DEMAND: Profile = {
  schedule: [{ from: 'dusk', to: 'dawn', level: 0 }],
  presence: { level: 70, holdS: 60, rampUpMs: 0, rampDownS: 0, propagate: 1 },
};

function withCalendar(calendar: unknown, lamps: Policy['lamps'] = chain(3, 'residential')): Policy {
  const p = makePolicy({ residential: RESIDENTIAL, festive: FESTIVE, quiet: ON_DEMAND }, lamps);
  return policySchema.parse({ ...p, calendar });
}

describe('dimming engine calendar', () => {
  it('a rule applies on its night: the evening of the date and the small hours after it', () => {
    const engine = createDimmingEngine({ site: LYON, lampIds: ['L1', 'L2', 'L3'] });
    engine.setPolicy(withCalendar([{ name: 'Fête nationale', when: { dates: ['--07-14'] }, profiles: { residential: 'festive' } }]));
    expect(engine.levelAt('L1', at('2026-07-14', 3, 0))).toBe(20); // night of the 13th
    expect(engine.levelAt('L1', at('2026-07-14', 23, 30))).toBe(100);
    expect(engine.levelAt('L1', at('2026-07-15', 3, 0))).toBe(100); // still the night of the 14th
    expect(engine.levelAt('L1', at('2026-07-15', 23, 30))).toBe(20);
    expect(engine.levelAt('L1', at('2026-07-15', 12, 0))).toBe(0); // daylight stays dark
  });

  it('on a public holiday a level-0 profile lights on demand, then switches off', () => {
    const engine = createDimmingEngine({ site: LYON, lampIds: ['L1', 'L2', 'L3'] });
    engine.setPolicy(withCalendar([{ when: { holidays: 'FR' }, profiles: { residential: 'quiet' } }]));
    // The night before (Pentecost Sunday is no public holiday), the residential profile and
    // its own presence settings apply.
    const before = at('2026-05-25', 2, 0);
    expect(engine.levelAt('L2', before)).toBe(20);
    engine.presence('L2', before);
    expect(engine.levelAt('L2', before + 300)).toBe(100);
    const t = at('2026-05-26', 2, 0); // night of Lundi de Pentecôte 2026
    expect(engine.levelAt('L2', t)).toBe(0);
    expect(engine.presence('L2', t).sort()).toEqual(['L1', 'L2', 'L3']);
    expect(engine.levelAt('L2', t)).toBe(70);
    expect(engine.levelAt('L3', t + 59_999)).toBe(70);
    expect(engine.levelAt('L2', t + 60_000)).toBe(0);
  });

  it('rules are per profile: lamps of another profile keep theirs', () => {
    const engine = createDimmingEngine({ site: LYON, lampIds: ['R', 'Q'] });
    engine.setPolicy(
      withCalendar([{ when: { weekdays: [6] }, profiles: { quiet: 'festive' } }], {
        R: { profile: 'residential' },
        Q: { profile: 'quiet' },
      }),
    );
    const saturdayNight = at('2026-03-08', 1, 0); // Sunday 01:00: the night of Saturday 7 March
    expect(engine.levelAt('Q', saturdayNight)).toBe(100);
    expect(engine.levelAt('R', saturdayNight)).toBe(20);
    expect(engine.levelAt('Q', saturdayNight + 86_400_000)).toBe(0);
  });

  it('a new policy replaces the calendar', () => {
    const engine = createDimmingEngine({ site: LYON, lampIds: ['L1', 'L2', 'L3'] });
    const t = at('2026-12-25', 23, 0);
    engine.setPolicy(withCalendar([{ when: { dates: ['--12-25'] }, profiles: { residential: 'festive' } }]));
    expect(engine.levelAt('L1', t)).toBe(100);
    engine.setPolicy(withCalendar(undefined));
    expect(engine.levelAt('L1', t)).toBe(20);
  });
});

describe('propagation by kind of road user', () => {
  const byKind: Profile = {
    schedule: [{ from: 'dusk', to: 'dawn', level: 10 }],
    presence: { level: 100, holdS: 60, rampUpMs: 0, rampDownS: 0, propagate: 1, propagateByKind: { vehicle: 3, pedestrian: 0 } },
  };
  const engine = createDimmingEngine({ site: LYON, lampIds: ['L1', 'L2', 'L3', 'L4', 'L5', 'L6'] });
  engine.setPolicy(makePolicy({ p: byKind }, chain(6, 'p')));
  const t = at('2026-01-16', 3, 0);

  it('a vehicle lights further ahead than a pedestrian', () => {
    expect(engine.presence('L1', t, undefined, 'vehicle')).toEqual(['L1', 'L2', 'L3', 'L4']);
    expect(engine.presence('L1', t, undefined, 'pedestrian')).toEqual(['L1']);
  });

  it('a kind not listed, or no kind, uses propagate; relayed hops win over the kind', () => {
    expect(engine.presence('L1', t, undefined, 'cyclist')).toEqual(['L1', 'L2']);
    expect(engine.presence('L1', t)).toEqual(['L1', 'L2']);
    expect(engine.presence('L1', t, 2, 'vehicle')).toEqual(['L1', 'L2', 'L3']);
    expect(engine.presence('L1', t, 0, 'vehicle')).toEqual(['L1']);
  });
});
