import { z } from 'zod';
import { LucioleError } from '../core/errors.js';
import { idSchema, levelSchema, tsSchema, type InputOf, type LampSelection } from '../protocol/index.js';
import type { LampRecord } from './inventory-schema.js';
import type { LampGroup } from './zones.js';

/**
 * Manual overrides as the controller keeps them, pure: which lamps a target means, when an
 * override ends, and the `override` / `clear-override` commands that carry it to each cabinet.
 *
 * An override always has an end, at most MAX_OVERRIDE_S ahead; the gateway ends it by itself
 * (it holds `durationS` from the moment it applies the command), so nothing has to be sent for
 * it to stop. A command's own `expiresAt` is short (COMMAND_TTL_MS): it bounds delivery, not the
 * override.
 */

export const MAX_OVERRIDE_S = 7 * 86_400;
export const COMMAND_TTL_MS = 60_000;
/** PROTOCOL.md: a command lists at most 2000 lamps. */
const MAX_LAMPS_PER_COMMAND = 2000;

export const overrideTargetSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('lamp'), id: idSchema }),
  z.object({ type: z.literal('group'), id: idSchema }),
  z.object({ type: z.literal('cabinet'), id: idSchema }),
  z.object({ type: z.literal('zone'), id: idSchema }),
  z.object({ type: z.literal('town') }),
]);
export type OverrideTarget = z.infer<typeof overrideTargetSchema>;

export const overrideRequestSchema = z
  .object({
    target: overrideTargetSchema,
    level: levelSchema,
    /** How long from now, seconds; or `until`. */
    durationS: z.number().int().positive().max(MAX_OVERRIDE_S).optional(),
    /** When it ends, ms since the epoch; or `durationS`. */
    until: tsSchema.optional(),
    /** Why: a festival, a maintenance test, an emergency. Kept with the override and in the audit log. */
    reason: z.string().trim().min(1).max(500),
  })
  .superRefine((o, ctx) => {
    if ((o.durationS === undefined) === (o.until === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['durationS'], message: 'give exactly one of durationS and until' });
    }
  });
export type OverrideRequest = z.infer<typeof overrideRequestSchema>;

export const cabinetDeliverySchema = z.object({
  cabinetId: idSchema,
  /** Lamps of this cabinet the override holds (`all`: the whole cabinet). */
  lamps: z.union([z.literal('all'), z.array(idSchema)]),
  /** Ids of the latest `override` commands sent for it (several when the lamps needed more than one). */
  commandIds: z.array(idSchema),
  /** Those of `commandIds` not answered yet. */
  waiting: z.array(idSchema),
  /** `sent`: no answer yet; `applied`: the gateway acked every command; `refused`: one was refused. */
  state: z.enum(['sent', 'applied', 'refused']),
  error: z.string().max(1024).nullable(),
  /** Times the override was sent again after a refusal (`expired`: the gateway was away). */
  resent: z.number().int().nonnegative(),
});
export type CabinetDelivery = z.infer<typeof cabinetDeliverySchema>;

export const overrideRecordSchema = z.object({
  id: idSchema,
  target: overrideTargetSchema,
  level: levelSchema,
  reason: z.string(),
  /** Who set it. */
  actor: z.string(),
  createdAt: tsSchema,
  until: tsSchema,
  lampCount: z.number().int().nonnegative(),
  cabinets: z.array(cabinetDeliverySchema),
  clearedAt: tsSchema.nullable(),
  clearedBy: z.string().nullable(),
});
export type OverrideRecord = z.infer<typeof overrideRecordSchema>;

/** What resolving a target gives: per cabinet, its lamps (or `all`), and how many lamps in all. */
export interface ResolvedTarget {
  cabinets: Map<string, LampSelection>;
  lampCount: number;
}

export interface TargetInventory {
  lamps: readonly LampRecord[];
  group(id: string): LampGroup | undefined;
}

/**
 * The lamps a target means, per cabinet, from the inventory. A cabinet or the whole town is sent
 * `all` (short, and it covers lamps a gateway drives that the inventory has not caught up with);
 * a lamp, a group or a zone is sent its list. Unknown ids throw a NOT_FOUND error naming `target.id`.
 */
export function resolveTarget(target: OverrideTarget, inv: TargetInventory): ResolvedTarget {
  const notFound = (what: string, id: string): LucioleError =>
    new LucioleError(`LUCIOLE_ERR_${what.toUpperCase()}_NOT_FOUND`, `no ${what} "${id}"`, 'target.id');
  let chosen: LampRecord[];
  switch (target.type) {
    case 'town':
    case 'cabinet': {
      chosen = target.type === 'town' ? [...inv.lamps] : inv.lamps.filter((l) => l.cabinetId === target.id);
      if (chosen.length === 0) throw target.type === 'town' ? new LucioleError('LUCIOLE_ERR_NO_LAMPS', 'the inventory has no lamp', 'target') : notFound('cabinet', target.id);
      const cabinets = new Map<string, LampSelection>();
      for (const l of chosen) cabinets.set(l.cabinetId, 'all');
      return { cabinets: sortedMap(cabinets), lampCount: chosen.length };
    }
    case 'lamp':
      chosen = inv.lamps.filter((l) => l.id === target.id);
      if (chosen.length === 0) throw notFound('lamp', target.id);
      break;
    case 'zone':
      chosen = inv.lamps.filter((l) => l.zone === target.id);
      if (chosen.length === 0) throw notFound('zone', target.id);
      break;
    case 'group': {
      const group = inv.group(target.id);
      if (!group) throw notFound('group', target.id);
      const ids = new Set(group.lamps);
      chosen = inv.lamps.filter((l) => ids.has(l.id));
      if (chosen.length === 0) {
        throw new LucioleError('LUCIOLE_ERR_NO_LAMPS', `group "${target.id}" has no lamp of the inventory`, 'target.id');
      }
      break;
    }
  }
  const cabinets = new Map<string, string[]>();
  for (const l of chosen) {
    const list = cabinets.get(l.cabinetId);
    if (list) list.push(l.id);
    else cabinets.set(l.cabinetId, [l.id]);
  }
  return { cabinets: sortedMap(cabinets), lampCount: chosen.length };
}

function sortedMap<V>(m: Map<string, V>): Map<string, V> {
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** When an override asked at `now` ends; throws when that is not in (now, now + 7 days]. */
export function overrideEnd(req: Pick<OverrideRequest, 'durationS' | 'until'>, now: number): number {
  const until = req.durationS !== undefined ? now + req.durationS * 1000 : req.until!;
  const field = req.durationS !== undefined ? 'durationS' : 'until';
  if (!(until > now)) throw new LucioleError('LUCIOLE_ERR_OVERRIDE_INVALID', `${field}: the override must end in the future`, field);
  if (until - now > MAX_OVERRIDE_S * 1000) {
    throw new LucioleError('LUCIOLE_ERR_OVERRIDE_INVALID', `${field}: an override lasts at most 7 days`, field);
  }
  return until;
}

/** Lamp selections of at most 2000 ids each, as a command carries them. */
export function chunkSelection(lamps: LampSelection): LampSelection[] {
  if (lamps === 'all') return ['all'];
  const out: string[][] = [];
  for (let i = 0; i < lamps.length; i += MAX_LAMPS_PER_COMMAND) out.push(lamps.slice(i, i + MAX_LAMPS_PER_COMMAND));
  return out;
}

/**
 * The `override` commands putting `lamps` at `level` until `until`, sent at `now`. The gateway
 * holds it `durationS` from when it applies it: rounded up, so it never ends early.
 */
export function overrideCommands(
  lamps: LampSelection,
  level: number,
  until: number,
  now: number,
  newId: () => string,
): Array<InputOf<'command'> & { id: string }> {
  const durationS = Math.max(1, Math.ceil((until - now) / 1000));
  return chunkSelection(lamps).map((sel) => ({
    v: 1,
    id: newId(),
    ts: now,
    expiresAt: now + COMMAND_TTL_MS,
    kind: 'override',
    lamps: sel,
    level,
    durationS,
  }));
}

export function clearCommands(lamps: LampSelection, now: number, newId: () => string): Array<InputOf<'command'> & { id: string }> {
  return chunkSelection(lamps).map((sel) => ({
    v: 1,
    id: newId(),
    ts: now,
    expiresAt: now + COMMAND_TTL_MS,
    kind: 'clear-override',
    lamps: sel,
  }));
}

/** Active at `now`: not cleared and not yet at its end. */
export function isActive(o: OverrideRecord, now: number): boolean {
  return o.clearedAt === null && now < o.until;
}
