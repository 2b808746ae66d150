import { LucioleError } from '../core/errors.js';
import { restrictCalendar } from '../policy/calendar.js';
import { policySchema, type Policy, type Profile, type Site } from '../protocol/index.js';
import type { LampRecord } from './inventory-schema.js';
import type { PlanVersion, TownPlan } from './plan.js';

/**
 * The town plan compiled into one PROTOCOL.md `policy` per cabinet, pure. Each gateway gets only
 * its own lamps and the profiles they use, and neighbours within its own cabinet: it can only
 * drive its own lamps, and cross-cabinet light-ahead is relayed by the controller (neighbours.ts).
 */

/** PROTOCOL.md: payloads are at most 256 KiB. */
const MAX_PAYLOAD_BYTES = 256 * 1024;

/** The profile a lamp gets: its zone's, or the plan's default for a zone the plan does not list. */
export function profileOfLamp(plan: TownPlan, lamp: LampRecord): string {
  // hasOwn: a zone named like an Object.prototype key ("constructor") must not match it.
  return Object.hasOwn(plan.zones, lamp.zone) ? plan.zones[lamp.zone]! : plan.defaultProfile;
}

export function compileCabinetPolicies(input: {
  plan: PlanVersion;
  site: Site;
  lamps: readonly LampRecord[];
  issuedAt: number;
}): Map<string, Policy> {
  const { plan, site, lamps, issuedAt } = input;
  const cabinetOf = new Map<string, string>();
  const byCabinet = new Map<string, LampRecord[]>();
  for (const lamp of lamps) {
    cabinetOf.set(lamp.id, lamp.cabinetId);
    const list = byCabinet.get(lamp.cabinetId);
    if (list) list.push(lamp);
    else byCabinet.set(lamp.cabinetId, [lamp]);
  }
  const encoder = new TextEncoder();
  const out = new Map<string, Policy>();
  for (const cabinetId of [...byCabinet.keys()].sort()) {
    const cabinetLamps = byCabinet.get(cabinetId)!;
    const used = new Set<string>();
    // Entries, then Object.fromEntries: ids such as "__proto__" become plain own keys.
    const lampEntries: Array<[string, { profile: string; neighbours?: string[] }]> = [];
    for (const lamp of cabinetLamps) {
      const profile = profileOfLamp(plan.plan, lamp);
      used.add(profile);
      const neighbours = lamp.neighbours.filter((n) => n !== lamp.id && cabinetOf.get(n) === cabinetId);
      lampEntries.push([lamp.id, neighbours.length > 0 ? { profile, neighbours } : { profile }]);
    }
    // The calendar rules for this cabinet's profiles, and the replacement profiles they name:
    // the gateway applies them itself, offline.
    const { calendar, extraProfiles } = restrictCalendar(plan.plan.calendar, used);
    const profileEntries: Array<[string, Profile]> = [...new Set([...used, ...extraProfiles])]
      .sort()
      .map((name) => [name, plan.plan.profiles[name]!]);
    const candidate = {
      v: 1,
      id: plan.plan.id,
      version: plan.version,
      issuedAt,
      site,
      failsafeLevel: plan.plan.failsafeLevel,
      profiles: Object.fromEntries(profileEntries),
      lamps: Object.fromEntries(lampEntries),
      ...(calendar.length > 0 ? { calendar } : {}),
    };
    const parsed = policySchema.safeParse(candidate);
    if (!parsed.success) {
      // The plan and the inventory were validated on the way in: reaching this is a bug.
      const issue = parsed.error.issues[0]!;
      const field = issue.path.map(String).join('.');
      throw new LucioleError(
        'LUCIOLE_ERR_POLICY_INVALID',
        `compiled policy for cabinet ${cabinetId} is invalid: ${field}: ${issue.message}`,
        field,
      );
    }
    const bytes = encoder.encode(JSON.stringify(parsed.data)).length;
    if (bytes > MAX_PAYLOAD_BYTES) {
      throw new LucioleError(
        'LUCIOLE_ERR_POLICY_TOO_LARGE',
        `policy for cabinet ${cabinetId} is ${bytes} bytes, over the protocol's ${MAX_PAYLOAD_BYTES}: split the cabinet's lamps or shorten ids`,
        'lamps',
      );
    }
    out.set(cabinetId, parsed.data);
  }
  return out;
}

/**
 * The whole town as one policy document (every lamp, every neighbour link, every profile, the full
 * calendar), for replays on the controller (what-if): light ahead then crosses cabinets as the
 * relay makes it do. Never published: it is not checked against the payload limit.
 */
export function compileTownPolicy(input: { plan: PlanVersion; site: Site; lamps: readonly LampRecord[]; issuedAt: number }): Policy {
  const { plan, site, lamps, issuedAt } = input;
  const known = new Set(lamps.map((l) => l.id));
  const lampEntries: Array<[string, { profile: string; neighbours?: string[] }]> = lamps.map((lamp) => {
    const profile = profileOfLamp(plan.plan, lamp);
    const neighbours = lamp.neighbours.filter((n) => n !== lamp.id && known.has(n)).slice(0, 64);
    return [lamp.id, neighbours.length > 0 ? { profile, neighbours } : { profile }];
  });
  return {
    v: 1,
    id: plan.plan.id,
    version: plan.version,
    issuedAt,
    site,
    failsafeLevel: plan.plan.failsafeLevel,
    profiles: Object.fromEntries(Object.entries(plan.plan.profiles)),
    lamps: Object.fromEntries(lampEntries),
    ...(plan.plan.calendar && plan.plan.calendar.length > 0 ? { calendar: plan.plan.calendar } : {}),
  };
}
