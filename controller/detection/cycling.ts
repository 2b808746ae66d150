import { canTellDark, darkLimitW } from './thresholds.js';
import { hasDriverFault, type LampDetector, type LampSample } from './lamp-sample.js';
import { historyLink, type Finding } from './types.js';

interface CyclingState {
  /** Last lit/dark state seen while commanded on. */
  lit: boolean | null;
  /** Times of lit↔dark switches, oldest first, within the window. */
  switches: number[];
}

/**
 * cycling: while the gateway keeps the lamp on (level > 0), it goes dark and lit again and again
 * (end-of-life lamp, a driver's thermal protection). Switches the gateway commands (presence,
 * light on demand, dimming to 0) never count: readings at level 0, or so low in a ramp that a
 * healthy lamp draws next to nothing, are skipped.
 */
export class CyclingDetector implements LampDetector {
  private readonly state = new Map<string, CyclingState>();

  observe(s: LampSample, out: Finding[]): void {
    const f = this.check(s);
    if (f) out.push(f);
  }

  check(s: LampSample): Finding | null {
    const { lamp, reading: r, t, ts } = s;
    if (!canTellDark(lamp.nominalPowerW, r.level, t) || hasDriverFault(r)) return null;
    const lit = r.fault !== 'lamp_failure' && r.powerW >= darkLimitW(lamp.nominalPowerW, r.level, t);
    let st = this.state.get(lamp.id);
    if (!st) this.state.set(lamp.id, (st = { lit: null, switches: [] }));
    if (st.lit !== null && st.lit !== lit) st.switches.push(ts);
    st.lit = lit;
    const windowMs = t.cyclingWindowMin * 60_000;
    while (st.switches.length > 0 && st.switches[0]! <= ts - windowMs) st.switches.shift();
    if (st.switches.length >= t.cyclingTransitions) {
      const from = st.switches[0]!;
      return {
        kind: 'cycling',
        cabinetId: lamp.cabinetId,
        lampId: lamp.id,
        active: true,
        at: ts,
        detail: `lampe qui s'éteint et se rallume : ${st.switches.length} basculements en ${t.cyclingWindowMin} min`,
        evidence: {
          rule: `≥ ${t.cyclingTransitions} lit/dark switches at level > 0 within ${t.cyclingWindowMin} min`,
          expected: `< ${t.cyclingTransitions} switches`,
          measured: `${st.switches.length} switches`,
          window: { from, to: ts },
          link: historyLink(lamp.id, from - 3_600_000, ts + s.periodMs),
        },
      };
    }
    if (st.switches.length === 0 && lit) {
      return { kind: 'cycling', cabinetId: lamp.cabinetId, lampId: lamp.id, active: false, at: ts, detail: 'allumage stable' };
    }
    return null;
  }

  forget(lampId: string): void {
    this.state.delete(lampId);
  }
}
