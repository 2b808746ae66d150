import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nightForDate } from '../../core/astro.js';
import type { Site } from '../../protocol/index.js';
import { SqliteTelemetryStore } from '../sqlite-telemetry-store.js';
import type { TelemetryRecord } from '../stores.js';
import type { AccountingLamp } from './accounting.js';
import { buildEnergyReport, buildLampFigures, type ReportContext } from './report.js';
import { reportQuerySchema } from './report-schema.js';
import type { ReportSettings } from './settings.js';

/**
 * Hand-computed cases through the real SQLite store: samples written as gateways send them, the
 * report read back from the roll-ups. Expected values are worked out from the lamps' powers and
 * the nights' dusk and dawn, independently of the accounting code.
 */

const SITE: Site = { lat: 48.8566, lon: 2.3522, timezone: 'Europe/Paris' };
const MIN = 60_000;
const H = 3_600_000;

const LAMPS: AccountingLamp[] = [
  { id: 'L1', cabinetId: 'C1', zone: 'A', nominalPowerW: 50, baselinePowerW: 150 },
  { id: 'L2', cabinetId: 'C1', zone: 'A', nominalPowerW: 30, baselinePowerW: null },
  { id: 'L3', cabinetId: 'C2', zone: 'B', nominalPowerW: 100, baselinePowerW: 250 },
];
/** Level and the power drawn at it, W (a hand-chosen driver curve). */
const LEVEL: Record<string, number> = { L1: 50, L2: 100, L3: 20 };
const POWER: Record<string, number> = { L1: 25, L2: 30, L3: 20 };

const SETTINGS: ReportSettings = {
  tariffs: [
    { from: '2025-01-01', to: '2025-01-14', eurPerKWh: 0.2 },
    { from: '2025-01-15', to: null, eurPerKWh: 0.25 },
  ],
  emissionFactorKgPerKWh: 0.053,
};

const minuteAfter = (t: number) => Math.ceil(t / MIN) * MIN;

interface Sim {
  counters: Map<string, number>;
  seq: Map<string, number>;
}

/** One message per cabinet per minute from `from` to `to` inclusive, minutes in `skip` missing for L1. */
function night(sim: Sim, from: number, to: number, opts: { skipL1?: [number, number]; resetL3At?: number } = {}): TelemetryRecord[] {
  const out: TelemetryRecord[] = [];
  for (let t = from; t <= to; t += MIN) {
    for (const cab of ['C1', 'C2']) {
      const lamps = LAMPS.filter((l) => l.cabinetId === cab).flatMap((l) => {
        const first = !sim.counters.has(l.id);
        let c = sim.counters.get(l.id) ?? 1000;
        if (!first && t !== from) c += POWER[l.id]! / 60;
        if (l.id === 'L3' && t === opts.resetL3At) c = POWER.L3! / 60; // driver replaced: new counter from 0
        sim.counters.set(l.id, c);
        if (l.id === 'L1' && opts.skipL1 && t >= opts.skipL1[0] && t < opts.skipL1[1]) return [];
        return [{ id: l.id, level: LEVEL[l.id]!, powerW: POWER[l.id]!, energyWh: c, fault: null }];
      });
      const seq = (sim.seq.get(cab) ?? 0) + 1;
      sim.seq.set(cab, seq);
      out.push({ cabinetId: cab, seq, ts: t, periodS: 60, receivedAt: t, lamps });
    }
  }
  return out;
}

describe('energy report, hand-computed', () => {
  let dir: string;
  let store: SqliteTelemetryStore;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-report-'));
    store = new SqliteTelemetryStore({ file: path.join(dir, 'telemetry.db') });
    await store.open();
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const ctx = (now: number): ReportContext => ({
    source: store,
    town: { name: 'Testville', site: SITE },
    lamps: LAMPS,
    settings: SETTINGS,
    periodS: 60,
    now,
  });

  it('two nights: kWh, both baselines, savings, €, CO2e; a counter reset; a gap flagged, never filled', async () => {
    const n1 = nightForDate(SITE, '2025-01-14');
    const n2 = nightForDate(SITE, '2025-01-15');
    const sim: Sim = { counters: new Map(), seq: new Map() };
    // Recording from 10 min before dusk to 10 min after dawn, on whole minutes.
    const s1 = minuteAfter(n1.dusk) - 10 * MIN;
    const e1 = minuteAfter(n1.dawn) + 10 * MIN;
    const s2 = minuteAfter(n2.dusk) - 10 * MIN;
    const e2 = minuteAfter(n2.dawn) + 10 * MIN;
    // Night 2: L1 silent 23:00–23:30 local (22:00–22:30 UTC in winter), L3's driver replaced at 02:00 local.
    const gapFrom = Date.UTC(2025, 0, 15, 22, 0);
    const gapTo = gapFrom + 30 * MIN;
    const reset = Date.UTC(2025, 0, 16, 1, 0);
    await store.writeTelemetry(night(sim, s1, e1));
    await store.writeTelemetry(night(sim, s2, e2, { skipL1: [gapFrom, gapTo], resetL3At: reset }));

    const now = Date.UTC(2025, 0, 16, 15, 0);
    const report = await buildEnergyReport(ctx(now), reportQuerySchema.parse({ period: 'night', from: '2025-01-14', to: '2025-01-15' }));
    expect(report.period).toEqual({ kind: 'night', from: '2025-01-14', to: '2025-01-15', nights: 2, nightsMeasured: 2 });

    // Measured: each lamp's power over the recorded minutes (the first sample of a night reads
    // the day, when the counters stood still). The gap changes nothing: the counter kept counting.
    const minutes1 = (e1 - s1) / MIN;
    const minutes2 = (e2 - s2) / MIN;
    const totalW = 25 + 30 + 20;
    const e1kWh = (totalW * minutes1) / 60 / 1000;
    const e2kWh = (totalW * minutes2) / 60 / 1000;
    const [r1, r2] = report.nights;
    expect(r1!.energyKWh).toBeCloseTo(e1kWh, 9);
    expect(r2!.energyKWh).toBeCloseTo(e2kWh, 9);

    // Baselines: dusk to dawn at 100 %: 180 W now, 150 + 30 (no baseline: nominal) + 250 = 430 W before.
    const hours1 = (n1.dawn - n1.dusk) / H;
    const hours2 = (n2.dawn - n2.dusk) / H;
    expect(r1!.fullPowerKWh).toBeCloseTo((180 * hours1) / 1000, 9);
    expect(r1!.beforeRenovationKWh).toBeCloseTo((430 * hours1) / 1000, 9);
    expect(r1!.savedVsFullPower.kWh).toBeCloseTo((180 * hours1) / 1000 - e1kWh, 9);
    expect(r1!.savedVsFullPower.pct).toBeCloseTo((1 - e1kWh / ((180 * hours1) / 1000)) * 100, 9);
    expect(r1!.savedVsBeforeRenovation.kWh).toBeCloseTo((430 * hours1) / 1000 - e1kWh, 9);
    // € with each night's tariff; CO2e with 0.053 kg/kWh.
    expect(r1!.costEur).toBeCloseTo(e1kWh * 0.2, 9);
    expect(r2!.costEur).toBeCloseTo(e2kWh * 0.25, 9);
    expect(r2!.savedVsBeforeRenovation.eur).toBeCloseTo(((430 * hours2) / 1000 - e2kWh) * 0.25, 9);
    expect(r2!.savedVsFullPower.tCo2e).toBeCloseTo((((180 * hours2) / 1000 - e2kWh) * 0.053) / 1000, 12);

    // The gap: L1's sample at 23:30 reads 31 minutes at 25 W, counted and flagged.
    expect(r1!.gapKWh).toBe(0);
    expect(r2!.gapKWh).toBeCloseTo((25 * 31) / 60 / 1000, 9);
    // Completeness over the whole dark hours: 30 of L1's samples missing in night 2.
    const wholeHours = (n: { dusk: number; dawn: number }) => Math.floor(n.dawn / H) - Math.ceil(n.dusk / H);
    expect(r1!.completeness).toBe(1);
    expect(r2!.completeness).toBeCloseTo(1 - 30 / (3 * 60 * wholeHours(n2)), 12);

    // Burning hours and average level while lit (all lamps lit whenever they report).
    const samples1 = 3 * (minutes1 + 1);
    expect(r1!.burningHours).toBeCloseTo(samples1 / 60, 9);
    expect(r1!.averageLevelPct).toBeCloseTo((50 + 100 + 20) / 3, 9);

    // The period: sums of the nights; € from each night's tariff.
    const h = report.headline;
    expect(h.energyKWh).toBeCloseTo(e1kWh + e2kWh, 9);
    expect(h.fullPowerKWh).toBeCloseTo((180 * (hours1 + hours2)) / 1000, 9);
    expect(h.costEur).toBeCloseTo(e1kWh * 0.2 + e2kWh * 0.25, 9);
    expect(h.savedVsFullPower.eur).toBeCloseTo(((180 * hours1) / 1000 - e1kWh) * 0.2 + ((180 * hours2) / 1000 - e2kWh) * 0.25, 9);
    expect(h.savedVsBeforeRenovation.tCo2e).toBeCloseTo((((430 * (hours1 + hours2)) / 1000 - e1kWh - e2kWh) * 0.053) / 1000, 12);
    expect(report.notes.join(' ')).toMatch(/interruption/);
    expect(report.notes.join(' ')).toMatch(/1 lampe sans puissance/);

    // Zones: A = L1 + L2 (cabinet C1), B = L3; they add up to the town.
    expect(report.groups.map((g) => g.key)).toEqual(['A', 'B']);
    const [a, b] = report.groups;
    expect(a!.energyKWh).toBeCloseTo(((25 + 30) * (minutes1 + minutes2)) / 60 / 1000, 9);
    expect(b!.energyKWh).toBeCloseTo((20 * (minutes1 + minutes2)) / 60 / 1000, 9);
    expect(a!.beforeRenovationKWh).toBeCloseTo((180 * (hours1 + hours2)) / 1000, 9);
    expect(a!.costEur).toBeNull(); // two tariffs in the period: no € per zone
    expect(a!.energyKWh! + b!.energyKWh!).toBeCloseTo(h.energyKWh!, 9);

    // Per lamp: L3's reset costs nothing, L1's gap nothing either.
    const lamps = await buildLampFigures(ctx(now), { period: 'night', from: '2025-01-14', to: '2025-01-15' });
    const l3 = lamps.lamps.find((l) => l.key === 'L3')!;
    expect(l3.energyKWh).toBeCloseTo((20 * (minutes1 + minutes2)) / 60 / 1000, 9);
    const l1 = lamps.lamps.find((l) => l.key === 'L1')!;
    expect(l1.energyKWh).toBeCloseTo((25 * (minutes1 + minutes2)) / 60 / 1000, 9);
    expect(l1.burningHours).toBeCloseTo((minutes1 + 1 + minutes2 + 1 - 30) / 60, 9);
  });

  it('a night across the spring DST change lasts its real hours and keeps the date of its dusk', async () => {
    // 30 March 2025, 02:00 → 03:00 in Paris: the night of the 29th has an hour less on the wall clock.
    const n = nightForDate(SITE, '2025-03-29');
    const sim: Sim = { counters: new Map(), seq: new Map() };
    const s = minuteAfter(n.dusk);
    const e = minuteAfter(n.dawn);
    await store.writeTelemetry(night(sim, s, e));
    const now = Date.UTC(2025, 2, 30, 15, 0);
    const report = await buildEnergyReport(ctx(now), reportQuerySchema.parse({ period: 'month', from: '2025-03-01' }));
    // The month runs to the 30th (the newest night begun at `now`); only the 29th was measured.
    expect(report.period).toMatchObject({ from: '2025-03-01', to: '2025-03-30', nights: 30, nightsMeasured: 1 });
    const row = report.nights.find((x) => x.date === '2025-03-29')!;
    // Wall clock: dusk about 19:20 CET, dawn about 07:10 CEST, i.e. 11 h 50 on the wall, 10 h 50 elapsed.
    const localHours = (t: number, offset: number) => new Date(t).getUTCHours() + offset + new Date(t).getUTCMinutes() / 60 + new Date(t).getUTCSeconds() / 3600 + new Date(t).getUTCMilliseconds() / H;
    const wallHours = 24 - localHours(n.dusk, 1) + localHours(n.dawn, 2);
    const elapsed = (n.dawn - n.dusk) / H;
    expect(elapsed).toBeCloseTo(wallHours - 1, 6);
    expect(row.fullPowerKWh).toBeCloseTo((180 * elapsed) / 1000, 9);
    expect(row.energyKWh).toBeCloseTo((75 * (e - s)) / MIN / 60 / 1000, 9);
    expect(row.completeness).toBe(1);
    // Other nights of the month: no data, no saving claimed; the month's baselines cover the 29th only.
    expect(report.nights.find((x) => x.date === '2025-03-28')!.savedVsFullPower.kWh).toBeNull();
    expect(report.headline.fullPowerKWh).toBeCloseTo(row.fullPowerKWh, 9);
    expect(report.headline.completeness).toBeLessThan(0.1);
    expect(report.yearBefore).toBeNull();
  });

  it('compares with the same nights a year before when there is data', async () => {
    const sim: Sim = { counters: new Map(), seq: new Map() };
    for (const date of ['2024-01-14', '2025-01-14']) {
      const n = nightForDate(SITE, date);
      await store.writeTelemetry(night(sim, minuteAfter(n.dusk), minuteAfter(n.dawn)));
    }
    const report = await buildEnergyReport(ctx(Date.UTC(2025, 0, 20)), reportQuerySchema.parse({ period: 'night', from: '2025-01-14' }));
    expect(report.yearBefore).toMatchObject({ from: '2024-01-14', to: '2024-01-14', nightsMeasured: 1 });
    const n24 = nightForDate(SITE, '2024-01-14');
    expect(report.yearBefore!.headline.energyKWh).toBeCloseTo((75 * (minuteAfter(n24.dawn) - minuteAfter(n24.dusk))) / MIN / 60 / 1000, 9);
  });
});
