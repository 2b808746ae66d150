import { nightAt, type Night } from '../../core/astro.js';
import type { Site } from '../../protocol/index.js';
import type { LampDetector, LampSample } from './lamp-sample.js';
import { atLevel, inARow, minutes, percent, watts } from '../alerts/alert-text.js';
import { historyLink, type Finding } from './types.js';

export interface DayBurnerOptions {
  /** The town's site; null: unknown, no verdict. */
  site(): Site | null;
  /** True when an operator's override holds the lamp at `t` (lit on purpose in daylight). */
  overrideActive?(lampId: string, t: number): boolean;
}

const MIN_MS = 60_000;

/**
 * Daylight at `t` with a tolerance: later than dawn + tol and earlier than dusk − tol.
 * A night owns noon to noon, so before noon we compare with its dawn, after noon with its dusk.
 */
export function isDaylight(site: Site, t: number, toleranceMs: number): boolean {
  return daylightIn(nightAt(site, t), t, toleranceMs);
}

function daylightIn(n: Night, t: number, toleranceMs: number): boolean {
  return !(t >= n.dusk - toleranceMs && t < n.dawn + toleranceMs);
}

/**
 * day_burner: a lamp drawing power in daylight, with no override, for `confirmSamples`
 * readings in a row. Cleared by a daylight reading without power; at night it says nothing.
 */
export class DayBurnerDetector implements LampDetector {
  private readonly burning = new Map<string, { n: number; since: number }>();
  /** The night last looked up, and for which site: every lamp of a message shares it. */
  private night: { site: Site; n: Night } | null = null;
  /**
   * The site, asked once per message time, not once per lamp: the controller's lookup reads the
   * clock, which was 0.9 % of the ingest ceiling's profile at one call per lamp sample.
   */
  private siteTs = Number.NaN;
  private site: Site | null = null;

  constructor(private readonly opts: DayBurnerOptions) {}

  observe(s: LampSample, out: Finding[]): void {
    const f = this.check(s);
    if (f) out.push(f);
  }

  check(s: LampSample): Finding | null {
    const { lamp, reading: r, t, ts } = s;
    if (ts !== this.siteTs) {
      this.siteTs = ts;
      this.site = this.opts.site();
    }
    const site = this.site;
    if (!site) return null;
    let day: boolean;
    try {
      day = daylightIn(this.nightAt(site, ts), ts, t.dayToleranceMin * MIN_MS);
    } catch {
      return null; // polar day or night: no dusk to compare with
    }
    if (!day || this.opts.overrideActive?.(lamp.id, ts)) {
      if (this.burning.size > 0) this.burning.delete(lamp.id);
      return null;
    }
    const limit = Math.max(t.dayPowerW, t.dayFraction * lamp.nominalPowerW);
    if (r.powerW <= limit) {
      if (this.burning.size > 0) this.burning.delete(lamp.id);
      if (!s.marks.tellCleared(s.slot, 'day_burner')) return null;
      return { kind: 'day_burner', cabinetId: lamp.cabinetId, lampId: lamp.id, active: false, at: ts, detail: 'éteinte le jour' };
    }
    const st = this.burning.get(lamp.id) ?? { n: 0, since: ts };
    st.n++;
    this.burning.set(lamp.id, st);
    if (st.n < t.confirmSamples) return null;
    s.marks.raised(s.slot, 'day_burner');
    return {
      kind: 'day_burner',
      cabinetId: lamp.cabinetId,
      lampId: lamp.id,
      active: true,
      at: ts,
      detail: `lampe allumée en plein jour (${watts(r.powerW)}, niveau ${percent(r.level)})`,
      evidence: {
        rule: `puissance > ${watts(limit)} entre le lever du soleil + ${minutes(t.dayToleranceMin)} et le coucher − ${minutes(t.dayToleranceMin)}, sans forçage, ${inARow(t.confirmSamples)}`,
        expected: `≤ ${watts(limit)} (éteinte le jour)`,
        measured: `${watts(r.powerW)} ${atLevel(r.level)}`,
        window: { from: st.since, to: ts },
        link: historyLink(lamp.id, st.since - 6 * 3_600_000, ts + s.periodMs),
      },
    };
  }

  forget(lampId: string): void {
    this.burning.delete(lampId);
  }

  private nightAt(site: Site, ts: number): Night {
    const c = this.night;
    if (c && c.site === site && ts >= c.n.windowStart && ts < c.n.windowEnd) return c.n;
    const n = nightAt(site, ts);
    this.night = { site, n };
    return n;
  }
}
