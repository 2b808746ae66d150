import { z } from 'zod';
import { alertSeveritySchema, type AlertMessage } from '../../protocol/index.js';
import type { AlertKind } from '../detection/types.js';

export type Severity = AlertMessage['severity'];

/** Severity of each kind when no rule raises it. */
export const DEFAULT_SEVERITY: Readonly<Record<AlertKind, Severity>> = Object.freeze({
  lamp_failure: 'major',
  driver_fault: 'major',
  day_burner: 'minor',
  cycling: 'minor',
  power_high: 'minor',
  power_low: 'minor',
  voltage: 'major',
  cabinet_offline: 'major',
  cabinet_meter_mismatch: 'minor',
  door_open: 'major',
  power_cut: 'major',
  sensor_stuck: 'minor',
  no_data: 'minor',
  storage_unavailable: 'major',
});

export const severityOverridesSchema = z.record(z.string(), alertSeveritySchema);

/**
 * The size of the connected group of `lampId` among `dark` lamps (the lamps with an open
 * lamp_failure or driver_fault alert), walking the neighbour graph: a dark stretch of street.
 */
export function darkRunSize(lampId: string, dark: ReadonlySet<string>, neighbours: (id: string) => readonly string[]): number {
  if (!dark.has(lampId)) return 0;
  const seen = new Set<string>([lampId]);
  const stack = [lampId];
  while (stack.length > 0) {
    const id = stack.pop()!;
    for (const n of neighbours(id)) {
      if (!dark.has(n) || seen.has(n)) continue;
      seen.add(n);
      stack.push(n);
    }
  }
  return seen.size;
}
