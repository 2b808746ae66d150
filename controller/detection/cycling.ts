import { canTellDark, darkLimitW } from './thresholds.js';
import { hasDriverFault, type LampDetector, type LampSample } from './lamp-sample.js';
import type { SlotMap } from './lamp-slots.js';
import { count, minutes } from '../alerts/alert-text.js';
import { historyLink, type Finding } from './types.js';

const UNKNOWN = -1;
const DARK = 0;
const LIT = 1;

/**
 * cycling: while the gateway keeps the lamp on (level > 0), it goes dark and lit again and again
 * (end-of-life lamp, a driver's thermal protection). Switches the gateway commands (presence,
 * light on demand, dimming to 0) never count: readings at level 0, or so low in a ramp that a
 * healthy lamp draws next to nothing, are skipped.
 */
export class CyclingDetector implements LampDetector {
  /** Last lit/dark state seen while commanded on, per slot. */
  private lit: Int8Array = new Int8Array(0);
  /** Times of lit↔dark switches within the window, oldest first; only lamps that switched. */
  private readonly switches = new Map<string, number[]>();

  observe(s: LampSample, out: Finding[]): void {
    const f = this.check(s);
    if (f) out.push(f);
  }

  check(s: LampSample): Finding | null {
    const { lamp, reading: r, t, ts } = s;
    if (!canTellDark(lamp.nominalPowerW, r.level, t) || hasDriverFault(r)) return null;
    const lit = r.fault !== 'lamp_failure' && r.powerW >= darkLimitW(lamp.nominalPowerW, r.level, t);
    const was = this.lit[s.slot]!;
    let sw = this.switches.size > 0 ? this.switches.get(lamp.id) : undefined;
    if (was !== UNKNOWN && was !== (lit ? LIT : DARK)) {
      if (!sw) this.switches.set(lamp.id, (sw = []));
      sw.push(ts);
    }
    this.lit[s.slot] = lit ? LIT : DARK;
    if (sw) {
      const windowMs = t.cyclingWindowMin * 60_000;
      while (sw.length > 0 && sw[0]! <= ts - windowMs) sw.shift();
      if (sw.length === 0) {
        this.switches.delete(lamp.id);
        sw = undefined;
      }
    }
    if (sw && sw.length >= t.cyclingTransitions) {
      const from = sw[0]!;
      s.marks.raised(s.slot, 'cycling');
      return {
        kind: 'cycling',
        cabinetId: lamp.cabinetId,
        lampId: lamp.id,
        active: true,
        at: ts,
        detail: `lampe qui s'éteint et se rallume seule : ${count(sw.length, 'basculement')} en ${minutes(t.cyclingWindowMin)}`,
        evidence: {
          rule: `≥ ${count(t.cyclingTransitions, 'basculement')} allumée/éteinte en ${minutes(t.cyclingWindowMin)}, la passerelle la commandant allumée (niveau > 0)`,
          expected: `< ${count(t.cyclingTransitions, 'basculement')}`,
          measured: count(sw.length, 'basculement'),
          window: { from, to: ts },
          link: historyLink(lamp.id, from - 3_600_000, ts + s.periodMs),
        },
      };
    }
    if (!sw && lit && s.marks.tellCleared(s.slot, 'cycling')) {
      return { kind: 'cycling', cabinetId: lamp.cabinetId, lampId: lamp.id, active: false, at: ts, detail: 'allumage stable' };
    }
    return null;
  }

  forget(lampId: string): void {
    this.switches.delete(lampId);
  }

  remap(from: SlotMap): void {
    const next = new Int8Array(from.length).fill(UNKNOWN);
    for (let i = 0; i < from.length; i++) {
      const o = from[i]!;
      if (o >= 0) next[i] = this.lit[o]!;
    }
    this.lit = next;
  }
}
