import { curveFraction, darkLimitW, expectedPowerW } from './thresholds.js';
import type { LampDetector, LampSample } from './lamp-sample.js';
import { historyLink, w, type Finding } from './types.js';

interface PowerState {
  /** The lamp's own power / model-curve ratio (manufacturing spread, inventory error). */
  ratio: number;
  learnt: number;
  sum: number;
  high: number;
  low: number;
  since: number;
}

/**
 * power_high / power_low: at a steady level, the lamp draws more or less than expected by more
 * than `powerTolerance`, for `powerConfirmSamples` readings in a row. "Expected" is the model's
 * curve scaled by the lamp's own ratio, learnt from its first `learnSamples` steady readings and
 * then followed slowly (EWMA) with healthy readings only, so a slow drift is not learnt away.
 *
 * Readings taken while the level changes (dimming, a presence boost, a ramp) are skipped: a
 * meter averaging over the period would mix two levels. Dark lamps are lamp_failure's business.
 */
export class PowerDeviationDetector implements LampDetector {
  private readonly state = new Map<string, PowerState>();

  /** The learnt ratio of a lamp (1 = exactly the model), or undefined before any steady reading. */
  ratioOf(lampId: string): number | undefined {
    return this.state.get(lampId)?.ratio;
  }

  observe(s: LampSample, out: Finding[]): void {
    const { lamp, reading: r, t, ts } = s;
    if (r.fault !== null || r.level < t.powerMinLevel || r.level <= 0) return;
    const steady = s.prevLevel === r.level && s.prevTs !== null && ts - s.prevTs <= 2 * s.periodMs;
    if (!steady) return;
    const curveW = lamp.nominalPowerW * curveFraction(r.level, t.curveA);
    if (curveW <= 0 || r.powerW < darkLimitW(lamp.nominalPowerW, r.level, t)) return;
    const ratio = (r.powerW - t.standbyW) / curveW;
    let st = this.state.get(lamp.id);
    if (!st) this.state.set(lamp.id, (st = { ratio: 1, learnt: 0, sum: 0, high: 0, low: 0, since: ts }));
    if (st.learnt < t.learnSamples) {
      st.learnt++;
      st.sum += ratio;
      st.ratio = st.sum / st.learnt;
      return;
    }
    const dev = ratio / st.ratio - 1;
    const base = { cabinetId: lamp.cabinetId, lampId: lamp.id, at: ts } as const;
    if (Math.abs(dev) <= t.powerTolerance) {
      if (Math.abs(dev) <= t.powerTolerance / 2) st.ratio += t.learnAlpha * (ratio - st.ratio);
      st.high = 0;
      st.low = 0;
      out.push({ ...base, kind: 'power_high', active: false, detail: 'puissance conforme' });
      out.push({ ...base, kind: 'power_low', active: false, detail: 'puissance conforme' });
      return;
    }
    const kind = dev > 0 ? 'power_high' : 'power_low';
    const n = dev > 0 ? ++st.high : ++st.low;
    if (dev > 0) st.low = 0;
    else st.high = 0;
    if (n === 1) st.since = ts;
    if (n < t.powerConfirmSamples) return;
    const expected = expectedPowerW(lamp.nominalPowerW, r.level, t, st.ratio);
    const pct = Math.round(dev * 100);
    out.push({
      ...base,
      kind,
      active: true,
      detail: `puissance ${dev > 0 ? 'trop élevée' : 'trop faible'} : ${w(r.powerW)} au lieu de ${w(expected)} (${pct > 0 ? '+' : ''}${pct} %)`,
      evidence: {
        rule: `|measured / expected − 1| > ${Math.round(t.powerTolerance * 100)} % at a steady level for ${t.powerConfirmSamples} readings`,
        expected: `${w(expected)} at level ${r.level} (learnt ratio ${st.ratio.toFixed(3)})`,
        measured: `${w(r.powerW)} (${pct > 0 ? '+' : ''}${pct} %)`,
        window: { from: st.since, to: ts },
        link: historyLink(lamp.id, st.since - 6 * 3_600_000, ts + s.periodMs),
      },
    });
  }

  forget(lampId: string): void {
    this.state.delete(lampId);
  }
}
