import type { AlertKind } from './types.js';

/**
 * Per-lamp detector state lives in typed arrays indexed by the lamp's slot (its place in the
 * inventory given to DetectorSet.setInventory): no object per lamp, nothing allocated per reading.
 * `from[newSlot]` is the lamp's slot in the previous inventory, or -1 for a lamp new to it.
 */
export type SlotMap = Int32Array;

export function remapFloat64(old: Float64Array, from: SlotMap, width: number, fill: number): Float64Array {
  const next = new Float64Array(from.length * width).fill(fill);
  for (let i = 0; i < from.length; i++) {
    const o = from[i]!;
    if (o >= 0) next.set(old.subarray(o * width, o * width + width), i * width);
  }
  return next;
}

/** The lamp kinds whose "cleared" findings are told once per clearing (see ClearedMarks). */
const BIT: Partial<Record<AlertKind, number>> = {
  lamp_failure: 1,
  driver_fault: 2,
  day_burner: 4,
  cycling: 8,
  power_high: 16,
  power_low: 32,
  no_data: 64,
};

function bitOf(kind: AlertKind): number {
  const b = BIT[kind];
  if (b === undefined) throw new Error(`no cleared mark for kind ${kind}`);
  return b;
}

/**
 * Which lamp conditions were last told as cleared. The alert manager only acts on the first
 * "inactive" finding after an active one (it starts the auto-resolve countdown, and later ones
 * find the countdown running), so a detector tells a clearing once and stays quiet on the
 * following healthy readings: a healthy reading allocates nothing. A mark starts unset (nothing
 * told yet), so the first healthy reading after a start, a restore or an inventory change is told,
 * which clears alerts restored from before a restart.
 */
export class ClearedMarks {
  private bits: Uint8Array = new Uint8Array(0);

  /** True when the clearing must be told now (and marks it told). */
  tellCleared(slot: number, kind: AlertKind): boolean {
    const b = bitOf(kind);
    const v = this.bits[slot]!;
    if ((v & b) !== 0) return false;
    this.bits[slot] = v | b;
    return true;
  }

  /** An active finding was told: the next clearing must be told again. */
  raised(slot: number, kind: AlertKind): void {
    this.bits[slot] = this.bits[slot]! & ~bitOf(kind);
  }

  /** Forget every mark: the next clearing of every lamp is told (after alerts were restored). */
  reset(): void {
    this.bits.fill(0);
  }

  remap(from: SlotMap): void {
    const next = new Uint8Array(from.length);
    for (let i = 0; i < from.length; i++) {
      const o = from[i]!;
      if (o >= 0) next[i] = this.bits[o]!;
    }
    this.bits = next;
  }
}
