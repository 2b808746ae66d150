import type { GatewayEvent } from '../../protocol/index.js';
import type { AlertKind, Finding } from './types.js';

/** Gateway events that call for a visit, and the event that ends each. */
const VISIT_EVENTS: Partial<Record<GatewayEvent['code'], { kind: AlertKind; active: boolean; detail: string; expected?: string }>> = {
  door_open: { kind: 'door_open', active: true, detail: "porte de l'armoire ouverte", expected: 'porte fermée' },
  door_closed: { kind: 'door_open', active: false, detail: "porte de l'armoire fermée" },
  power_cut: { kind: 'power_cut', active: true, detail: "coupure d'alimentation de l'armoire", expected: 'secteur présent' },
  power_restored: { kind: 'power_cut', active: false, detail: 'alimentation rétablie' },
};

/**
 * door_open and power_cut, from the gateway's events. An event older than the last one of the
 * same pair for the cabinet (a late duplicate) is ignored: a replayed door_open must not undo the
 * door_closed that followed it.
 */
export class GatewayEventDetector {
  private readonly lastTs = new Map<string, number>();

  observe(cabinetId: string, e: GatewayEvent, out: Finding[]): void {
    const rule = VISIT_EVENTS[e.code];
    if (!rule) return;
    const key = `${cabinetId}\u0000${rule.kind}`;
    const last = this.lastTs.get(key);
    if (last !== undefined && e.ts < last) return;
    this.lastTs.set(key, e.ts);
    out.push({
      kind: rule.kind,
      cabinetId,
      lampId: null,
      active: rule.active,
      at: e.ts,
      detail: e.detail ? `${rule.detail} (${e.detail})` : rule.detail,
      // The event's time is the evidence window, shown in the town's time zone by the readers.
      ...(rule.expected !== undefined
        ? {
            evidence: {
              rule: `la passerelle envoie l'événement ${e.code}`,
              expected: rule.expected,
              measured: `${rule.detail} (événement ${e.code})`,
              window: { from: e.ts, to: e.ts },
              link: null,
            },
          }
        : {}),
    });
  }
}
