import type { LampReading } from '../../protocol/index.js';
import type { ClearedMarks, SlotMap } from './lamp-slots.js';
import type { LampThresholds } from './thresholds.js';
import type { Finding, LampInfo } from './types.js';

/** One lamp's reading in one telemetry message, with what the per-lamp detectors need around it. */
export interface LampSample {
  lamp: LampInfo;
  /** The lamp's slot: index of its per-lamp state in typed arrays (see lamp-slots.ts). */
  slot: number;
  /** Told clearings: a detector tells a cleared condition once, not on every healthy reading. */
  marks: ClearedMarks;
  t: LampThresholds;
  reading: LampReading;
  /** The message's ts: when the reading was taken. */
  ts: number;
  /** The lamp's previous reading (NaN / null when none): tells a steady level from a change. */
  prevLevel: number;
  prevTs: number | null;
  /** The telemetry period, ms. */
  periodMs: number;
}

/** A detector over one lamp's readings, in ts order. */
export interface LampDetector {
  /** Pushes its findings on this reading (none when it cannot tell) into `out`. */
  observe(s: LampSample, out: Finding[]): void;
  /** Drops a lamp's state (removed from the inventory). */
  forget(lampId: string): void;
  /** The inventory changed: state held by slot moves to the lamps' new slots. */
  remap?(from: SlotMap): void;
}

/** Fault codes that make power readings meaningless for power-based rules. */
export function hasDriverFault(r: LampReading): boolean {
  return r.fault !== null && r.fault !== 'lamp_failure';
}
