import { curveFraction, darkLimitW, expectedPowerW } from './thresholds.js';
import type { LampDetector, LampSample } from './lamp-sample.js';
import { remapFloat64, type SlotMap } from './lamp-slots.js';
import { atLevel, frRatio, inARow, percent, signedPercent, watts } from '../alerts/alert-text.js';
import { historyLink, type Finding } from './types.js';

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
  /**
   * Per slot: the lamp's own power / model-curve ratio (manufacturing spread, inventory error),
   * the sum of the ratios learnt so far and the time the current deviation run began; the counts
   * of readings learnt and of high and low readings in a row. A slot never judged holds
   * ratio 1 and zeros.
   */
  private ratio: Float64Array = new Float64Array(0);
  private sum: Float64Array = new Float64Array(0);
  private since: Float64Array = new Float64Array(0);
  private learnt: Uint32Array = new Uint32Array(0);
  private high: Uint32Array = new Uint32Array(0);
  private low: Uint32Array = new Uint32Array(0);

  observe(s: LampSample, out: Finding[]): void {
    const { lamp, reading: r, t, ts, slot } = s;
    if (r.fault !== null || r.level < t.powerMinLevel || r.level <= 0) return;
    const steady = s.prevLevel === r.level && s.prevTs !== null && ts - s.prevTs <= 2 * s.periodMs;
    if (!steady) return;
    const curveW = lamp.nominalPowerW * curveFraction(r.level, t.curveA);
    if (curveW <= 0 || r.powerW < darkLimitW(lamp.nominalPowerW, r.level, t)) return;
    const ratio = (r.powerW - t.standbyW) / curveW;
    if (this.learnt[slot]! < t.learnSamples) {
      const n = ++this.learnt[slot]!;
      this.sum[slot] = this.sum[slot]! + ratio;
      this.ratio[slot] = this.sum[slot]! / n;
      return;
    }
    const own = this.ratio[slot]!;
    const dev = ratio / own - 1;
    if (Math.abs(dev) <= t.powerTolerance) {
      if (Math.abs(dev) <= t.powerTolerance / 2) this.ratio[slot] = own + t.learnAlpha * (ratio - own);
      this.high[slot] = 0;
      this.low[slot] = 0;
      for (const kind of ['power_high', 'power_low'] as const) {
        if (s.marks.tellCleared(slot, kind)) {
          out.push({ cabinetId: lamp.cabinetId, lampId: lamp.id, at: ts, kind, active: false, detail: 'puissance conforme' });
        }
      }
      return;
    }
    const kind = dev > 0 ? 'power_high' : 'power_low';
    const n = dev > 0 ? ++this.high[slot]! : ++this.low[slot]!;
    if (dev > 0) this.low[slot] = 0;
    else this.high[slot] = 0;
    if (n === 1) this.since[slot] = ts;
    if (n < t.powerConfirmSamples) return;
    const since = this.since[slot]!;
    const learntRatio = this.ratio[slot]!;
    const expected = expectedPowerW(lamp.nominalPowerW, r.level, t, learntRatio);
    const pct = Math.round(dev * 100);
    s.marks.raised(slot, kind);
    out.push({
      cabinetId: lamp.cabinetId,
      lampId: lamp.id,
      at: ts,
      kind,
      active: true,
      detail: `puissance ${dev > 0 ? 'trop élevée' : 'trop faible'} : ${watts(r.powerW)} au lieu de ${watts(expected)} (${signedPercent(pct)})`,
      evidence: {
        rule: `écart à la puissance attendue > ${percent(t.powerTolerance * 100)} à niveau stable ${inARow(t.powerConfirmSamples)}`,
        expected: `${watts(expected)} ${atLevel(r.level)} (coefficient propre de la lampe ${frRatio(learntRatio)})`,
        measured: `${watts(r.powerW)} (${signedPercent(pct)})`,
        window: { from: since, to: ts },
        link: historyLink(lamp.id, since - 6 * 3_600_000, ts + s.periodMs),
      },
    });
  }

  /** State is per slot; a lamp leaving the inventory loses its slot (see remap). */
  forget(): void {}

  remap(from: SlotMap): void {
    this.ratio = remapFloat64(this.ratio, from, 1, 1);
    this.sum = remapFloat64(this.sum, from, 1, 0);
    this.since = remapFloat64(this.since, from, 1, 0);
    this.learnt = remapUint32(this.learnt, from);
    this.high = remapUint32(this.high, from);
    this.low = remapUint32(this.low, from);
  }
}

function remapUint32(old: Uint32Array, from: SlotMap): Uint32Array {
  const next = new Uint32Array(from.length);
  for (let i = 0; i < from.length; i++) {
    const o = from[i]!;
    if (o >= 0) next[i] = old[o]!;
  }
  return next;
}
