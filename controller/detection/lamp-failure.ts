import { canTellDark, darkLimitW, expectedPowerW } from './thresholds.js';
import { hasDriverFault, type LampDetector, type LampSample } from './lamp-sample.js';
import { atLevel, faultFr, inARow, NO_FAULT, percent, watts } from '../alerts/alert-text.js';
import { historyLink, type Finding } from './types.js';

/**
 * lamp_failure: the gateway drives the lamp (level > 0) but it draws next to nothing for
 * `confirmSamples` consecutive readings, or the driver itself reports `lamp_failure`.
 * A lamp at level 0 says nothing either way; a driver fault is driver_fault's business.
 */
export class LampFailureDetector implements LampDetector {
  private readonly dark = new Map<string, { n: number; since: number; last: number }>();

  observe(s: LampSample, out: Finding[]): void {
    const f = this.check(s);
    if (f) out.push(f);
  }

  check(s: LampSample): Finding | null {
    const { lamp, reading: r, t, ts } = s;
    if (r.fault === 'lamp_failure') {
      s.marks.raised(s.slot, 'lamp_failure');
      return {
        kind: 'lamp_failure',
        cabinetId: lamp.cabinetId,
        lampId: lamp.id,
        active: true,
        at: ts,
        detail: `le driver signale la lampe hors service (code lamp_failure) : ${watts(r.powerW)} ${atLevel(r.level)}`,
        evidence: {
          rule: 'le driver envoie le code de défaut lamp_failure',
          expected: NO_FAULT,
          measured: `${faultFr('lamp_failure')}, ${watts(r.powerW)} ${atLevel(r.level)}`,
          window: { from: ts, to: ts },
          link: historyLink(lamp.id, ts - 6 * 3_600_000, ts + s.periodMs),
        },
      };
    }
    if (!canTellDark(lamp.nominalPowerW, r.level, t) || hasDriverFault(r)) return null;
    const limit = darkLimitW(lamp.nominalPowerW, r.level, t);
    if (r.powerW >= limit) {
      if (this.dark.size > 0) this.dark.delete(lamp.id);
      if (!s.marks.tellCleared(s.slot, 'lamp_failure')) return null;
      return { kind: 'lamp_failure', cabinetId: lamp.cabinetId, lampId: lamp.id, active: false, at: ts, detail: 'lampe allumée' };
    }
    // "In a row" means consecutive readings: two dark readings in two separate presence boosts
    // may be a cycling lamp caught twice in its dark phase, not a dead one.
    let st = this.dark.get(lamp.id);
    if (!st || ts - st.last > 1.5 * s.periodMs) this.dark.set(lamp.id, (st = { n: 0, since: ts, last: ts }));
    st.n++;
    st.last = ts;
    if (st.n < t.confirmSamples) return null;
    s.marks.raised(s.slot, 'lamp_failure');
    return {
      kind: 'lamp_failure',
      cabinetId: lamp.cabinetId,
      lampId: lamp.id,
      active: true,
      at: ts,
      detail: `lampe éteinte alors que commandée à ${percent(r.level)} (${watts(r.powerW)})`,
      evidence: {
        rule: `puissance < ${watts(limit)} avec un niveau > 0 ${inARow(t.confirmSamples)}`,
        expected: `≈ ${watts(expectedPowerW(lamp.nominalPowerW, r.level, t))} ${atLevel(r.level)}`,
        measured: `${watts(r.powerW)} ${atLevel(r.level)}`,
        window: { from: st.since, to: ts },
        link: historyLink(lamp.id, st.since - 6 * 3_600_000, ts + s.periodMs),
      },
    };
  }

  forget(lampId: string): void {
    this.dark.delete(lampId);
  }
}
