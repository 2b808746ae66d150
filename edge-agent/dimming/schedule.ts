import { TIME_EXPR_PATTERN } from '../../protocol/index.js';
import type { Slot } from '../../protocol/index.js';
import { LucioleError } from '../../core/errors.js';
import { addDays, localTime } from '../../core/astro.js';
import type { Night } from '../../core/astro.js';

/**
 * How a profile's schedule becomes light, for one night. Pure: no I/O, no clock.
 *
 * Night. Every instant belongs to exactly one night N (core/astro.ts): N is named by the local
 * date of its dusk and owns the window from local noon of that date to local noon of the next.
 * Dusk is the official sunset and dawn the official sunrise of the policy's `site` (the
 * gateway's configured site while it has no policy).
 *
 * Time expressions, resolved for the night N that contains the instant asked about:
 * - `HH:MM` with HH >= 12 is that wall-clock time on N's date; with HH < 12 it is on the next
 *   date. So `22:30` is the evening and `05:30` the following morning of the same night. Times
 *   are local to `site.timezone`: across a DST change `22:30`→`05:30` lasts 6 h (March) or 8 h
 *   (October). A wall-clock time skipped by the spring change (02:30 on the last Sunday of
 *   March) resolves to the same time one hour later (03:30); one repeated by the autumn change
 *   resolves to its first occurrence.
 * - `dusk`, `dawn`: N's sunset and N's sunrise (the morning that ends N).
 * - `dusk+M`, `dusk-M`, `dawn+M`, `dawn-M`: shifted by M whole minutes.
 *
 * Slots. A slot covers the half-open interval [from, to) when from < to; when from >= to it is
 * empty and never applies (e.g. `dusk`→`22:30` on a June night when dusk is after 22:30). Only
 * night N's slots are consulted at an instant of N's window, so a slot has no effect outside
 * its night's noon-to-noon window.
 *
 * Level. The first listed slot that contains the instant gives the level; outside every slot
 * the lamp is off (level 0).
 *
 * Calendar (policy/calendar.ts). On night N a lamp follows the profile the policy `calendar`
 * gives its own profile on N's date: the first rule whose `when` matches the date and whose
 * `profiles` map names the lamp's profile; no such rule, its own profile. Everything below
 * (slots, presence settings) is that night's profile.
 *
 * Fail-safe. With no policy, or for a lamp the policy does not list, the level is the
 * fail-safe level over [dusk, dawn) and 0 in daylight: `policy.failsafeLevel` when a policy is
 * set, otherwise the gateway's configured fail-safe level (default 100).
 *
 * Presence (presence.ts). A detection at lamp X raises X and every lamp within `propagate` hops
 * (the hop count carried by a relayed detection; else X's profile `propagateByKind` for the
 * kind of road user detected, when it lists that kind; else X's profile `propagate`) through
 * `neighbours`, links
 * taken both ways, lamps of other gateways ignored. Each raised lamp follows its own profile's
 * `presence` settings; a lamp whose profile has none, a fail-safe lamp, or a lamp outside every
 * slot of its schedule at that instant is not raised (a level-0 slot counts: light on demand).
 * The boost envelope f goes from its current value up to 1 at the rate 1/rampUpMs (so it is at
 * 1 at most rampUpMs after the detection; rampUpMs 0 is immediate), holds 1 until holdS after
 * the last detection, then falls linearly to 0 over rampDownS. The hold counts from the
 * detection, so a hold shorter than the rise cuts the boost short (holdS 0 with rampDownS 0
 * gives no boost). A new detection restarts the rise from the envelope's current value, so the
 * light never drops on a detection; an older detection arriving late changes nothing. While the
 * lamp is inside a slot of level s and the profile's boost level is b, its level is
 * s + (max(s, b) - s) * f; outside every slot the boost does not apply.
 *
 * Overrides. An override that is still active (now < until) sets the level of its lamps,
 * whatever the policy, presence or fail-safe say; the latest one set wins for a lamp.
 *
 * Levels are clamped to 0..100.
 */

/** A time expression, parsed once when a policy is set. */
export type TimeRef =
  | { kind: 'clock'; hh: number; mm: number }
  | { kind: 'dusk' | 'dawn'; offsetMin: number };

export interface CompiledSlot {
  from: TimeRef;
  to: TimeRef;
  level: number;
}

/**
 * A schedule resolved for one night: slot i covers [r[3i], r[3i+1]) at level r[3i+2].
 * A flat typed array so looking a level up allocates nothing.
 */
export type ResolvedSchedule = Float64Array;

const MINUTE_MS = 60_000;

export function parseTimeExpr(expr: string, field = 'time'): TimeRef {
  if (!TIME_EXPR_PATTERN.test(expr)) {
    throw new LucioleError(
      'LUCIOLE_ERR_POLICY_INVALID',
      `${field}: "${expr}" must be HH:MM, dusk, dawn, dusk±N or dawn±N`,
      field,
    );
  }
  if (expr.startsWith('dusk') || expr.startsWith('dawn')) {
    const kind = expr.startsWith('dusk') ? 'dusk' : 'dawn';
    const offsetMin = expr.length > 4 ? Number(expr.slice(4)) : 0;
    return { kind, offsetMin };
  }
  return { kind: 'clock', hh: Number(expr.slice(0, 2)), mm: Number(expr.slice(3, 5)) };
}

export function compileSchedule(slots: readonly Slot[], field = 'schedule'): CompiledSlot[] {
  return slots.map((s, i) => ({
    from: parseTimeExpr(s.from, `${field}[${i}].from`),
    to: parseTimeExpr(s.to, `${field}[${i}].to`),
    level: s.level,
  }));
}

export function resolveTimeRef(ref: TimeRef, night: Night, timezone: string): number {
  switch (ref.kind) {
    case 'dusk':
      return night.dusk + ref.offsetMin * MINUTE_MS;
    case 'dawn':
      return night.dawn + ref.offsetMin * MINUTE_MS;
    case 'clock': {
      const date = ref.hh >= 12 ? night.date : addDays(night.date, 1);
      return localTime(date, ref.hh, ref.mm, timezone);
    }
  }
}

export function resolveSchedule(
  slots: readonly CompiledSlot[],
  night: Night,
  timezone: string,
): ResolvedSchedule {
  const out = new Float64Array(slots.length * 3);
  slots.forEach((s, i) => {
    out[3 * i] = resolveTimeRef(s.from, night, timezone);
    out[3 * i + 1] = resolveTimeRef(s.to, night, timezone);
    out[3 * i + 2] = s.level;
  });
  return out;
}

/** Index of the first slot containing `now`, or -1. An empty slot (from >= to) contains nothing. */
export function slotIndexAt(resolved: ResolvedSchedule, now: number): number {
  for (let i = 0; i + 2 < resolved.length; i += 3) {
    if (now >= resolved[i]! && now < resolved[i + 1]!) return i / 3;
  }
  return -1;
}

/** The scheduled level at `now`: the first slot containing it, else 0. */
export function scheduleLevelAt(resolved: ResolvedSchedule, now: number): number {
  const i = slotIndexAt(resolved, now);
  return i < 0 ? 0 : resolved[3 * i + 2]!;
}

/** Fail-safe: `level` from dusk to dawn, off in daylight. */
export function failsafeLevelAt(night: Night, now: number, level: number): number {
  return now >= night.dusk && now < night.dawn ? level : 0;
}

export function clampLevel(level: number): number {
  if (level > 100) return 100;
  return level >= 0 ? level : 0; // NaN ends here too: never a NaN on a driver
}
