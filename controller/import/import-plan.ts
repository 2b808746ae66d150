import { LAMP_DETAIL_FIELDS, type LampRecord } from '../inventory-schema.js';
import type { ImportAction } from './import-report.js';

/**
 * What importing a record would do to the stored inventory, by the store's own rules: a detail
 * left undefined keeps the stored value, everything else is replaced. Pure.
 */
export function planLamp(next: LampRecord, stored: LampRecord | undefined): { action: ImportAction; changes: string[] } {
  if (!stored) return { action: 'create', changes: [] };
  const changes: string[] = [];
  for (const key of ['cabinetId', 'zone', 'lat', 'lon', 'nominalPowerW', 'baselinePowerW'] as const) {
    if (next[key] !== stored[key]) changes.push(key);
  }
  // The store keeps neighbours as an ordered list: a new order is a change too.
  if (JSON.stringify(next.neighbours) !== JSON.stringify(stored.neighbours)) changes.push('neighbours');
  for (const key of LAMP_DETAIL_FIELDS) {
    const value = next[key];
    if (value === undefined) continue;
    if ((value ?? null) !== (stored[key] ?? null)) changes.push(key);
  }
  return { action: changes.length === 0 ? 'unchanged' : 'update', changes };
}
