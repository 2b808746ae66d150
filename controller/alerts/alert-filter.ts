import type { AlertFilter, AlertView } from '../views.js';

/**
 * The alerts matching every criterion of `filter`, in their given order, at most `limit`.
 * `zonesOf` tells the zones an alert is about: its lamp's, or its cabinet's lamps' for a cabinet
 * alert (a cabinet may feed several zones).
 */
export function filterAlerts(
  alerts: readonly AlertView[],
  filter: AlertFilter,
  zonesOf: (alert: AlertView) => ReadonlySet<string>,
): AlertView[] {
  const out: AlertView[] = [];
  const limit = filter.limit ?? Number.POSITIVE_INFINITY;
  for (const a of alerts) {
    if (out.length >= limit) break;
    if (filter.state !== undefined) {
      if (filter.state === 'active' ? a.state === 'resolved' : a.state !== filter.state) continue;
    }
    if (filter.kind !== undefined && a.kind !== filter.kind) continue;
    if (filter.severity !== undefined && a.severity !== filter.severity) continue;
    if (filter.since !== undefined && a.openedAt < filter.since) continue;
    if (filter.zone !== undefined && !zonesOf(a).has(filter.zone)) continue;
    out.push(a);
  }
  return out;
}
