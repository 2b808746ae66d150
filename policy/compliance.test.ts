import { describe, it, expect } from 'vitest';
import { townPlanSchema } from '../controller/plan.js';
import type { Profile, Site } from '../protocol/index.js';
import { checkPlan, type ComplianceFinding, type ComplianceInput, type ZoneInfo } from './compliance.js';
import { DEFAULT_RULES, parseComplianceRules } from './compliance-rules.js';

const LYON: Site = { lat: 45.764, lon: 4.8357, timezone: 'Europe/Paris' };

const P = {
  residential: {
    schedule: [
      { from: 'dusk', to: '22:30', level: 80 },
      { from: '22:30', to: '05:30', level: 20 },
      { from: '05:30', to: 'dawn', level: 60 },
    ],
  },
  early: { schedule: [{ from: 'dusk-30', to: 'dawn', level: 50 }] },
  late: { schedule: [{ from: 'dusk', to: 'dawn+20', level: 50 }] },
  park: {
    schedule: [
      { from: 'dusk', to: '23:00', level: 60 },
      { from: '23:00', to: 'dawn', level: 0 },
    ],
    presence: { level: 40, holdS: 60, rampUpMs: 300, rampDownS: 10, propagate: 1 },
  },
  parkOk: { schedule: [{ from: 'dusk', to: '01:00', level: 60 }] },
  carPark: {
    schedule: [
      { from: 'dusk', to: '22:00', level: 80 },
      { from: '06:30', to: 'dawn', level: 50 },
    ],
  },
  heritage: { schedule: [{ from: 'dusk', to: '02:00', level: 100 }] },
  corridor: {
    schedule: [
      { from: 'dusk', to: '00:00', level: 30 },
      { from: '00:00', to: 'dawn', level: 0 },
    ],
    presence: { level: 100, holdS: 30, rampUpMs: 300, rampDownS: 10, propagate: 0 },
  },
  fete: { schedule: [{ from: 'dusk-60', to: 'dawn', level: 100 }] },
} satisfies Record<string, Profile>;

function plan(zones: Record<string, keyof typeof P>, calendar?: unknown) {
  return townPlanSchema.parse({ id: 'ville', failsafeLevel: 100, profiles: P, zones, defaultProfile: 'residential', calendar });
}

function run(zones: Record<string, [keyof typeof P, ZoneInfo]>, extra: Partial<ComplianceInput> = {}): ComplianceFinding[] {
  return checkPlan({
    plan: plan(Object.fromEntries(Object.entries(zones).map(([z, [p]]) => [z, p]))),
    site: LYON,
    zones: Object.fromEntries(Object.entries(zones).map(([z, [, info]]) => [z, info])),
    firstNight: '2026-01-01',
    ...extra,
  });
}

const road: ZoneInfo = { category: 'road' };

describe('checkPlan: schedules evaluated on every night of a year', () => {
  it('the PROTOCOL.md residential profile on a road is compliant', () => {
    expect(run({ R1: ['residential', road] })).toEqual([]);
  });

  it('a slot starting before sunset is an error on its `from`, every night', () => {
    const f = run({ R1: ['early', road] });
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({
      severity: 'error',
      rule: 'arrete-2018-12-27.art2.not-before-sunset',
      zone: 'R1',
      profile: 'early',
      field: 'profiles.early.schedule[0].from',
      nights: 365,
      firstNight: '2026-01-01',
    });
    expect(f[0]!.message).toMatch(/avant le coucher du soleil/);
  });

  it('light after sunrise is a warning', () => {
    const f = run({ R1: ['late', road] });
    expect(f.map((x) => [x.rule, x.severity, x.field])).toEqual([['luciole.not-after-sunrise', 'warning', 'profiles.late.schedule[0].to']]);
  });

  it('parks: off 1 h after closing when given, else by 01:00', () => {
    const closing = run({ G1: ['park', { category: 'park', closingTime: '21:00' }] });
    // The 60 % slot runs past 22:00 (error), and the later 0 % slot is lit on demand (warning).
    expect(closing.map((x) => [x.severity, x.field])).toEqual([
      ['error', 'profiles.park.schedule[0].to'],
      ['warning', 'profiles.park.presence'],
    ]);
    expect(closing[0]).toMatchObject({ rule: 'arrete-2018-12-27.art2.parks-off', severity: 'error', field: 'profiles.park.schedule[0].to', nights: 365 });
    expect(closing[0]!.message).toContain('22:00');
    expect(closing[0]!.message).toContain('23:00');
    // No closing time: 01:00. The 23:00 → dawn slot is at 0 but lit on demand: a warning only.
    const noClosing = run({ G1: ['park', { category: 'park' }] });
    expect(noClosing.map((x) => [x.severity, x.field])).toEqual([['warning', 'profiles.park.presence']]);
    expect(run({ G1: ['parkOk', { category: 'park' }] })).toEqual([]);
    expect(run({ G1: ['parkOk', { category: 'park', closingTime: '23:30' }] })).toHaveLength(1);
  });

  it('car parks: off 2 h after the activity ends, relit from 07:00 at the earliest', () => {
    expect(run({ P1: ['carPark', { category: 'car_park', activityEnd: '20:00' }] })).toEqual([
      expect.objectContaining({ rule: 'arrete-2018-12-27.art2.car-parks-off', severity: 'error', field: 'profiles.carPark.schedule[1].from' }),
    ]);
    // Activity until 21:00: off at 23:00 is fine for the evening, the 06:30 relight is not.
    const f = run({ P1: ['carPark', { category: 'car_park', activityEnd: '21:00' }] });
    expect(f.map((x) => x.field)).toEqual(['profiles.carPark.schedule[1].from']);
    expect(f[0]!.message).toContain('dès 06:30');
    // Only on nights when dawn is after 06:30: the slot is empty on summer nights.
    expect(f[0]!.nights).toBeGreaterThan(150);
    expect(f[0]!.nights).toBeLessThan(365);
    // Activity until 19:00: the evening slot now runs past 21:00 too, caught by its end.
    const g = run({ P1: ['carPark', { category: 'car_park', activityEnd: '19:00' }] });
    expect(g.map((x) => x.field)).toEqual(expect.arrayContaining(['profiles.carPark.schedule[0].to', 'profiles.carPark.schedule[1].from']));
  });

  it('a rule that needs a zone time the zone lacks says so, naming the zone field', () => {
    expect(run({ P1: ['carPark', { category: 'car_park' }] })).toEqual([
      expect.objectContaining({ severity: 'warning', rule: 'arrete-2018-12-27.art2.car-parks-off', field: 'zones.P1.activityEnd' }),
    ]);
  });

  it('heritage: 01:00, or 1 h after a later end of activity', () => {
    expect(run({ H1: ['heritage', { category: 'heritage' }] })).toEqual([
      expect.objectContaining({ rule: 'arrete-2018-12-27.art2.heritage-off', field: 'profiles.heritage.schedule[0].to' }),
    ]);
    expect(run({ H1: ['heritage', { category: 'heritage', activityEnd: '01:30' }] })).toEqual([]);
  });

  it('dark corridors: the zone cap and extinction hours, detection included', () => {
    const f = run({ C1: ['corridor', { category: 'dark_corridor', maxLevel: 20, extinction: { from: '00:00', to: '05:00' } }] });
    const summary = f.map((x) => [x.rule, x.severity, x.field]).sort();
    expect(summary).toEqual([
      ['trame-noire.extinction', 'warning', 'profiles.corridor.presence'],
      ['trame-noire.max-level', 'error', 'profiles.corridor.schedule[0].level'],
    ]);
    // With the rule defaults (30 %, 23:00-05:00): the 30 % slot is fine, but it runs into 23:00.
    const d = run({ C1: ['corridor', { category: 'dark_corridor' }] });
    expect(d.map((x) => [x.rule, x.field]).sort()).toEqual([
      ['trame-noire.extinction', 'profiles.corridor.schedule[0].level'],
      ['trame-noire.max-level', 'profiles.corridor.presence.level'],
    ]);
  });

  it('a road zone that sets its own cap is held to it', () => {
    const f = run({ R1: ['residential', { category: 'road', maxLevel: 60 }] });
    expect(f.map((x) => [x.rule, x.field])).toEqual([['trame-noire.max-level', 'profiles.residential.schedule[0].level']]);
  });

  it('calendar replacements are checked on the nights they apply, and named', () => {
    const f = checkPlan({
      plan: plan({ R1: 'residential' }, [{ when: { holidays: 'FR' }, profiles: { residential: 'fete' } }]),
      site: LYON,
      zones: { R1: road },
      firstNight: '2026-01-01',
    });
    expect(f).toEqual([
      expect.objectContaining({
        rule: 'arrete-2018-12-27.art2.not-before-sunset',
        profile: 'fete',
        field: 'profiles.fete.schedule[0].from',
        nights: 11,
        firstNight: '2026-01-01',
      }),
    ]);
  });

  it('zones the plan lists without zone data get the rules for every category', () => {
    const f = checkPlan({ plan: plan({ X: 'early' }), site: LYON, zones: {}, firstNight: '2026-06-01', nights: 7 });
    expect(f.map((x) => [x.zone, x.rule, x.nights])).toEqual([['X', 'arrete-2018-12-27.art2.not-before-sunset', 7]]);
  });
});

describe('checkPlan: colour temperature from the inventory', () => {
  it('flags lamps over 3000 K, one finding per zone, and ignores lamps with no value', () => {
    const f = run(
      { R1: ['residential', road], R2: ['residential', road] },
      {
        lamps: [
          { id: 'A', zone: 'R1', colourTemperatureK: 3000 },
          { id: 'B', zone: 'R1', colourTemperatureK: 4000 },
          { id: 'C', zone: 'R1', colourTemperatureK: 5000 },
          { id: 'D', zone: 'R2' },
        ],
      },
    );
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ rule: 'arrete-2018-12-27.art3.colour-temperature', zone: 'R1', field: 'lamps[1].colourTemperatureK' });
    expect(f[0]!.message).toContain('2 luminaires');
    expect(f[0]!.message).toContain('5000 K');
  });
});

describe('the rule table is data', () => {
  it('an edited threshold changes the verdict', () => {
    const stricter = DEFAULT_RULES.map((r) =>
      r.id === 'arrete-2018-12-27.art2.parks-off' ? { ...r, check: { ...r.check, latest: '00:00' } } : r,
    );
    expect(run({ G1: ['parkOk', { category: 'park' }] })).toEqual([]);
    expect(run({ G1: ['parkOk', { category: 'park' }] }, { rules: parseComplianceRules(stricter) })).toHaveLength(1);
  });

  it('round-trips through JSON, and refuses a bad table naming the field', () => {
    expect(parseComplianceRules(JSON.parse(JSON.stringify(DEFAULT_RULES)))).toEqual(DEFAULT_RULES);
    const bad = JSON.parse(JSON.stringify(DEFAULT_RULES));
    bad[2].check.latest = '25:00';
    expect(() => parseComplianceRules(bad)).toThrow(/latest/);
    expect(() => parseComplianceRules([DEFAULT_RULES[0], DEFAULT_RULES[0]])).toThrow(/duplicate rule id/);
  });

  it('a year of nights over several zones is checked quickly', () => {
    const zones: Record<string, [keyof typeof P, ZoneInfo]> = {};
    for (let i = 0; i < 40; i++) zones[`Z${i}`] = [(['residential', 'park', 'carPark', 'corridor'] as const)[i % 4]!, road];
    const t0 = performance.now();
    run(zones);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
