import { describe, it, expect } from 'vitest';
import { LucioleError } from '../core/errors.js';
import { policySchema } from '../protocol/index.js';
import type { LampRecord } from './inventory-schema.js';
import type { PlanVersion } from './plan.js';
import { compileCabinetPolicies, compileTownPolicy, profileOfLamp } from './policy-compiler.js';

const site = { lat: 45.764, lon: 4.8357, timezone: 'Europe/Paris' };

const planVersion: PlanVersion = {
  version: 7,
  author: 'alice',
  createdAt: 1_763_758_000_000,
  plan: {
    id: 'rue-residentielle',
    failsafeLevel: 100,
    profiles: {
      residential: {
        schedule: [
          { from: 'dusk', to: '22:30', level: 80 },
          { from: '22:30', to: 'dawn', level: 20 },
        ],
        presence: { level: 100, holdS: 120, rampUpMs: 300, rampDownS: 20, propagate: 2 },
      },
      park: { schedule: [{ from: 'dusk', to: '23:00', level: 50 }] },
      highway: { schedule: [{ from: 'dusk', to: 'dawn', level: 100 }] },
    },
    zones: { centre: 'residential', parc: 'park' },
    defaultProfile: 'residential',
  },
};

function lamp(id: string, cabinetId: string, zone: string, neighbours: string[]): LampRecord {
  return { id, cabinetId, zone, lat: 45.76, lon: 4.83, nominalPowerW: 30, baselinePowerW: null, neighbours };
}

const lamps: LampRecord[] = [
  lamp('A1', 'C1', 'centre', ['A2']),
  lamp('A2', 'C1', 'centre', ['A1', 'A3']),
  lamp('A3', 'C1', 'constructor', ['A2', 'B1']),
  lamp('B1', 'C2', 'parc', ['A3', 'B2']),
  lamp('B2', 'C2', 'parc', ['B1']),
];

describe('profileOfLamp', () => {
  it('uses the zone profile, else the default, never a prototype key', () => {
    expect(profileOfLamp(planVersion.plan, lamps[0]!)).toBe('residential');
    expect(profileOfLamp(planVersion.plan, lamps[3]!)).toBe('park');
    expect(profileOfLamp(planVersion.plan, lamps[2]!)).toBe('residential');
  });
});

describe('compileCabinetPolicies', () => {
  it('produces one valid policy per cabinet with its profiles and in-cabinet neighbours', () => {
    const policies = compileCabinetPolicies({ plan: planVersion, site, lamps, issuedAt: 1_763_758_700_000 });
    expect([...policies.keys()]).toEqual(['C1', 'C2']);
    for (const p of policies.values()) expect(policySchema.safeParse(p).success).toBe(true);

    const c1 = policies.get('C1')!;
    expect(c1).toMatchObject({ v: 1, id: 'rue-residentielle', version: 7, issuedAt: 1_763_758_700_000, site, failsafeLevel: 100 });
    expect(Object.keys(c1.profiles)).toEqual(['residential']);
    expect(c1.profiles.residential).toEqual(planVersion.plan.profiles.residential);
    expect(c1.lamps).toEqual({
      A1: { profile: 'residential', neighbours: ['A2'] },
      A2: { profile: 'residential', neighbours: ['A1', 'A3'] },
      // B1 is in C2: dropped.
      A3: { profile: 'residential', neighbours: ['A2'] },
    });

    const c2 = policies.get('C2')!;
    expect(Object.keys(c2.profiles)).toEqual(['park']);
    expect(c2.lamps).toEqual({
      B1: { profile: 'park', neighbours: ['B2'] },
      B2: { profile: 'park', neighbours: ['B1'] },
    });
  });

  it('returns nothing without lamps', () => {
    expect(compileCabinetPolicies({ plan: planVersion, site, lamps: [], issuedAt: 1 }).size).toBe(0);
  });

  it('refuses a cabinet whose policy would exceed the 256 KiB payload limit', () => {
    const big: LampRecord[] = [];
    const id = (i: number): string => `lamp-${String(i).padStart(58, '0')}`;
    for (let i = 0; i < 2000; i++) {
      big.push(lamp(id(i), 'BIG', 'centre', [1, 2, 3, 4].map((k) => id((i + k) % 2000))));
    }
    let err: unknown;
    try {
      compileCabinetPolicies({ plan: planVersion, site, lamps: big, issuedAt: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LucioleError);
    expect((err as LucioleError).code).toBe('LUCIOLE_ERR_POLICY_TOO_LARGE');
  });
});

describe('compileCabinetPolicies: calendar', () => {
  const withCalendar: PlanVersion = {
    ...planVersion,
    plan: {
      ...planVersion.plan,
      profiles: {
        ...planVersion.plan.profiles,
        festive: { schedule: [{ from: 'dusk', to: 'dawn', level: 100 }] },
        'park-late': { schedule: [{ from: 'dusk', to: '00:30', level: 50 }] },
      },
      calendar: [
        { name: 'Fête des Lumières', when: { dates: ['--12-08'] }, profiles: { residential: 'festive' } },
        { name: 'Week-end', when: { weekdays: [5, 6] }, profiles: { park: 'park-late' } },
        { name: 'Autoroute', when: { holidays: 'FR' }, profiles: { highway: 'festive' } },
      ],
    },
  };

  it("gives each cabinet the rules for its own profiles and the replacement profiles they name", () => {
    const policies = compileCabinetPolicies({ plan: withCalendar, site, lamps, issuedAt: 1 });
    for (const p of policies.values()) expect(policySchema.safeParse(p).success).toBe(true);
    const c1 = policies.get('C1')!;
    expect(Object.keys(c1.profiles)).toEqual(['festive', 'residential']);
    expect(c1.calendar).toEqual([withCalendar.plan.calendar![0]]);
    // The replacement profile is carried but no lamp has it as its own.
    expect(Object.values(c1.lamps).map((l) => l.profile)).toEqual(['residential', 'residential', 'residential']);
    const c2 = policies.get('C2')!;
    expect(Object.keys(c2.profiles)).toEqual(['park', 'park-late']);
    expect(c2.calendar).toEqual([withCalendar.plan.calendar![1]]);
  });

  it('leaves the calendar out when no rule concerns the cabinet', () => {
    const onlyHighway: PlanVersion = { ...withCalendar, plan: { ...withCalendar.plan, calendar: [withCalendar.plan.calendar![2]!] } };
    const policies = compileCabinetPolicies({ plan: onlyHighway, site, lamps, issuedAt: 1 });
    expect(policies.get('C1')!.calendar).toBeUndefined();
    expect(Object.keys(policies.get('C1')!.profiles)).toEqual(['residential']);
  });
});

describe('compileTownPolicy', () => {
  it('one policy for every lamp, with cross-cabinet neighbours, every profile and the calendar', () => {
    const p = compileTownPolicy({ plan: planVersion, site, lamps, issuedAt: 5 });
    expect(policySchema.safeParse(p).success).toBe(true);
    expect(p.lamps.A3).toEqual({ profile: 'residential', neighbours: ['A2', 'B1'] });
    expect(Object.keys(p.profiles).sort()).toEqual(['highway', 'park', 'residential']);
  });
});
