import type { Telemetry } from '../../protocol/index.js';
import type { ClearedMarks } from './lamp-slots.js';
import type { CabinetThresholds, LampThresholds } from './thresholds.js';
import { count, inARow, percent, volts, watts } from '../alerts/alert-text.js';
import { historyLink, type Finding, type LampInfo } from './types.js';

/** One cabinet's telemetry message with its inventory. */
export interface CabinetSample {
  cabinetId: string;
  msg: Telemetry;
  /** The cabinet's lamps in the inventory, and their slots (same order). */
  lamps: readonly LampInfo[];
  slots: ArrayLike<number>;
  /** Readings in the message of the cabinet's own lamps, and the sum of their power. */
  present: number;
  sumW: number;
  /** Per slot, the number of the last message with a reading of the lamp; this one is `msgNo`. */
  seenIn: Float64Array;
  msgNo: number;
  marks: ClearedMarks;
  t: CabinetThresholds;
  /** Per slot, the lamp's thresholds. */
  lampT: readonly LampThresholds[];
}

interface Streak {
  n: number;
  since: number;
}

function bump(m: Map<string, Streak>, key: string, ts: number): Streak {
  const st = m.get(key) ?? { n: 0, since: ts };
  st.n++;
  m.set(key, st);
  return st;
}

/** voltage: the cabinet's supply out of nominal ± tolerance (230 V ± 10 %) for a few readings. */
export class VoltageDetector {
  private readonly out = new Map<string, Streak>();

  observe(s: CabinetSample, out: Finding[]): void {
    const v = s.msg.cabinet?.voltageV;
    if (v === undefined) return;
    const { nominalVoltageV: nom, voltageTolerance: tol } = s.t;
    const lo = nom * (1 - tol);
    const hi = nom * (1 + tol);
    const ts = s.msg.ts;
    if (v >= lo && v <= hi) {
      this.out.delete(s.cabinetId);
      out.push({ kind: 'voltage', cabinetId: s.cabinetId, lampId: null, active: false, at: ts, detail: 'tension normale' });
      return;
    }
    const st = bump(this.out, s.cabinetId, ts);
    if (st.n < s.t.voltageConfirmSamples) return;
    out.push({
      kind: 'voltage',
      cabinetId: s.cabinetId,
      lampId: null,
      active: true,
      at: ts,
      detail: `tension d'alimentation hors tolérance : ${volts(v)}`,
      evidence: {
        rule: `tension d'alimentation hors de ${volts(Math.round(lo))} – ${volts(Math.round(hi))} ${inARow(s.t.voltageConfirmSamples)}`,
        expected: `${volts(nom)} ± ${percent(tol * 100)}`,
        measured: volts(v),
        window: { from: st.since, to: ts },
        link: null,
      },
    });
  }
}

/**
 * cabinet_meter_mismatch: the cabinet meter reads more than its lamps plus its own draw, beyond
 * meterAbsW + meterRelTol × Σ lamps (leakage to earth, theft, an unmetered load). Judged only on
 * messages carrying every lamp of the inventory: a missing lamp would look like a mismatch.
 */
export class MeterMismatchDetector {
  private readonly over = new Map<string, Streak>();

  observe(s: CabinetSample, out: Finding[]): void {
    const meterW = s.msg.cabinet?.powerW;
    if (meterW === undefined || s.lamps.length === 0) return;
    const sum = s.sumW;
    if (s.present < s.lamps.length) return;
    const expected = sum + s.t.cabinetOwnW;
    const allowed = s.t.meterAbsW + s.t.meterRelTol * sum;
    const ts = s.msg.ts;
    if (meterW - expected <= allowed) {
      this.over.delete(s.cabinetId);
      out.push({ kind: 'cabinet_meter_mismatch', cabinetId: s.cabinetId, lampId: null, active: false, at: ts, detail: 'compteur cohérent' });
      return;
    }
    const st = bump(this.over, s.cabinetId, ts);
    if (st.n < s.t.meterConfirmSamples) return;
    out.push({
      kind: 'cabinet_meter_mismatch',
      cabinetId: s.cabinetId,
      lampId: null,
      active: true,
      at: ts,
      detail: `le compteur de l'armoire dépasse de ${watts(meterW - expected)} la somme des lampes et de l'armoire`,
      evidence: {
        rule: `compteur − (Σ lampes + ${watts(s.t.cabinetOwnW)} propres à l'armoire) > ${watts(s.t.meterAbsW)} + ${percent(s.t.meterRelTol * 100)} de Σ lampes, ${inARow(s.t.meterConfirmSamples)}`,
        expected: `≤ ${watts(expected + allowed)} (Σ lampes ${watts(sum)})`,
        measured: watts(meterW),
        window: { from: st.since, to: ts },
        link: null,
      },
    });
  }
}

/** no_data: a lamp of the inventory missing from its cabinet's telemetry, several messages in a row. */
export class NoDataDetector {
  private readonly missing = new Map<string, Streak>();

  observe(s: CabinetSample, out: Finding[]): void {
    const ts = s.msg.ts;
    for (let i = 0; i < s.lamps.length; i++) {
      const lamp = s.lamps[i]!;
      const slot = s.slots[i]!;
      if (s.seenIn[slot] === s.msgNo) {
        if (this.missing.size > 0) this.missing.delete(lamp.id);
        if (s.marks.tellCleared(slot, 'no_data')) {
          out.push({ kind: 'no_data', cabinetId: s.cabinetId, lampId: lamp.id, active: false, at: ts, detail: 'données reçues' });
        }
        continue;
      }
      const st = bump(this.missing, lamp.id, ts);
      const need = s.lampT[slot]!.noDataMessages;
      if (st.n < need) continue;
      s.marks.raised(slot, 'no_data');
      out.push({
        kind: 'no_data',
        cabinetId: s.cabinetId,
        lampId: lamp.id,
        active: true,
        at: ts,
        detail: `aucune mesure de la lampe dans ${st.n < 2 ? 'le dernier message' : `les ${count(st.n, 'dernier message', 'derniers messages')}`} de l'armoire`,
        evidence: {
          rule: `lampe absente de la télémesure de son armoire ${inARow(need, 'message')}`,
          expected: 'une mesure de la lampe dans chaque message',
          measured: `absente de ${count(st.n, 'message')}`,
          window: { from: st.since, to: ts },
          link: historyLink(lamp.id, st.since - 6 * 3_600_000, ts),
        },
      });
    }
  }

  forget(lampId: string): void {
    this.missing.delete(lampId);
  }
}
