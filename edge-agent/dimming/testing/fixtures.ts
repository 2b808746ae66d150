import { localTime } from '../../../core/astro.js';
import { policySchema } from '../../../protocol/index.js';
import type { Policy, Profile, Site } from '../../../protocol/index.js';

/** Shared by the dimming engine's tests: sites, the PROTOCOL.md example profile, policy builder. */

export const TZ = 'Europe/Paris';
export const LYON: Site = { lat: 45.764, lon: 4.8357, timezone: TZ };
export const PARIS: Site = { lat: 48.8566, lon: 2.3522, timezone: TZ };

/** The `residential` profile of PROTOCOL.md's policy example. */
export const RESIDENTIAL: Profile = {
  schedule: [
    { from: 'dusk', to: '22:30', level: 80 },
    { from: '22:30', to: '05:30', level: 20 },
    { from: '05:30', to: 'dawn', level: 60 },
  ],
  presence: { level: 100, holdS: 120, rampUpMs: 300, rampDownS: 20, propagate: 2 },
};

/** A valid policy (checked by the real schema, so the tests never feed the engine a bad one). */
export function makePolicy(
  profiles: Record<string, Profile>,
  lamps: Policy['lamps'],
  extra: Partial<Pick<Policy, 'site' | 'failsafeLevel' | 'version'>> = {},
): Policy {
  return policySchema.parse({
    v: 1,
    id: 'test-policy',
    version: extra.version ?? 1,
    issuedAt: 1_700_000_000_000,
    site: extra.site ?? LYON,
    failsafeLevel: extra.failsafeLevel ?? 100,
    profiles,
    lamps,
  });
}

/** Wall-clock instant in Europe/Paris. */
export function at(date: string, hh: number, mm: number, ss = 0): number {
  return localTime(date, hh, mm, TZ) + ss * 1000;
}

/** Lamps L1..Ln in a chain, each listing only its successor (links work both ways). */
export function chain(n: number, profile: string): Policy['lamps'] {
  const lamps: Policy['lamps'] = {};
  for (let i = 1; i <= n; i++) {
    lamps[`L${i}`] = { profile, neighbours: i < n ? [`L${i + 1}`] : [] };
  }
  return lamps;
}
