import type { LampDetector, LampSample } from './lamp-sample.js';
import { atLevel, faultFr, NO_FAULT, watts } from '../alerts/alert-text.js';
import { historyLink, type Finding } from './types.js';

const DRIVER_CODES = new Set(['driver_failure', 'overheat', 'low_voltage']);

/** driver_fault: the gateway relays a driver fault code; cleared by a reading without one. */
export class DriverFaultDetector implements LampDetector {
  observe(s: LampSample, out: Finding[]): void {
    const f = this.check(s);
    if (f) out.push(f);
  }

  check(s: LampSample): Finding | null {
    const { lamp, reading: r, ts } = s;
    if (r.fault === null) {
      if (!s.marks.tellCleared(s.slot, 'driver_fault')) return null;
      return { kind: 'driver_fault', cabinetId: lamp.cabinetId, lampId: lamp.id, active: false, at: ts, detail: 'driver sans défaut' };
    }
    if (!DRIVER_CODES.has(r.fault)) return null;
    s.marks.raised(s.slot, 'driver_fault');
    return {
      kind: 'driver_fault',
      cabinetId: lamp.cabinetId,
      lampId: lamp.id,
      active: true,
      at: ts,
      detail: `défaut du driver : ${faultFr(r.fault)}`,
      evidence: {
        rule: 'le driver envoie un code de défaut driver_failure, overheat ou low_voltage',
        expected: NO_FAULT,
        measured: `${faultFr(r.fault)}, ${watts(r.powerW)} ${atLevel(r.level)}`,
        window: { from: ts, to: ts },
        link: historyLink(lamp.id, ts - 6 * 3_600_000, ts + s.periodMs),
      },
    };
  }

  forget(): void {}
}
