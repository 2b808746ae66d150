import { z } from 'zod';
import { idSchema } from '../protocol/index.js';
import { zoneInfoSchema, type ZoneInfo } from '../policy/compliance.js';
import type { LampRecord } from './inventory-schema.js';
import type { TownPlan } from './plan.js';

/**
 * Zones and groups of lamps, pure. A zone is named by the inventory (each lamp's `zone`); what it
 * is (a park, a car park, a dark corridor) and its times are metadata technical services give,
 * used by the compliance checks. A zone with no metadata is `other`: only the rules for every
 * zone apply to it. A group is a named list of lamps, a target for overrides.
 */

/** What a town says about a zone: the compliance checks' `ZoneInfo` plus a label for people. */
export const zoneMetaSchema = zoneInfoSchema.extend({
  name: idSchema,
  label: z.string().trim().min(1).max(200),
});
export type ZoneMeta = z.infer<typeof zoneMetaSchema>;

/** Body of PUT /api/zones/:zone: the metadata, the name coming from the URL. */
export const zoneUpdateSchema = zoneMetaSchema.omit({ name: true });
export type ZoneUpdate = z.infer<typeof zoneUpdateSchema>;

export const zoneViewSchema = zoneMetaSchema.extend({
  /** Lamps of the inventory in this zone. */
  lamps: z.number().int().nonnegative(),
  cabinets: z.array(idSchema),
  /** Profile the current plan gives the zone (its own entry, or the plan's default); null with no plan. */
  profile: idSchema.nullable(),
  /** The plan lists the zone itself (false: it gets the default profile). */
  inPlan: z.boolean(),
  /** Metadata were given (false: category `other`, label = name). */
  described: z.boolean(),
});
export type ZoneView = z.infer<typeof zoneViewSchema>;

export const lampGroupSchema = z.object({
  id: idSchema,
  label: z.string().trim().min(1).max(200).optional(),
  lamps: z
    .array(idSchema)
    .min(1)
    .max(20_000)
    .refine((ids) => new Set(ids).size === ids.length, { message: 'lamp ids must not repeat' }),
});
export type LampGroup = z.infer<typeof lampGroupSchema>;

/** Body of PUT /api/groups/:id. */
export const lampGroupUpdateSchema = lampGroupSchema.omit({ id: true });

/** Every zone known to the inventory, the metadata or the plan, sorted by name. */
export function listZones(metas: readonly ZoneMeta[], lamps: readonly LampRecord[], plan: TownPlan | null): ZoneView[] {
  const byZone = new Map<string, { lamps: number; cabinets: Set<string> }>();
  for (const lamp of lamps) {
    let z = byZone.get(lamp.zone);
    if (!z) byZone.set(lamp.zone, (z = { lamps: 0, cabinets: new Set() }));
    z.lamps++;
    z.cabinets.add(lamp.cabinetId);
  }
  const metaByName = new Map(metas.map((m) => [m.name, m]));
  const names = new Set<string>([...byZone.keys(), ...metaByName.keys(), ...Object.keys(plan?.zones ?? {})]);
  return [...names].sort().map((name) => {
    const meta = metaByName.get(name);
    const counts = byZone.get(name);
    const inPlan = plan !== null && Object.hasOwn(plan.zones, name);
    return {
      ...(meta ?? { name, label: name, category: 'other' as const }),
      lamps: counts?.lamps ?? 0,
      cabinets: [...(counts?.cabinets ?? [])].sort(),
      profile: plan ? (inPlan ? plan.zones[name]! : plan.defaultProfile) : null,
      inPlan,
      described: meta !== undefined,
    };
  });
}

/** The compliance checks' view of the zones: metadata only, keyed by name. */
export function zoneInfos(metas: readonly ZoneMeta[]): Record<string, ZoneInfo> {
  const out: Array<[string, ZoneInfo]> = metas.map(({ name, label: _label, ...info }) => [name, info]);
  return Object.fromEntries(out);
}
