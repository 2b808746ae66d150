import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nightForDate } from '../../core/astro.js';
import type { GroupRollup, HourRollup } from '../stores.js';
import { accountGroups, accountNights, accountPeriod, nightFrame, powersOf, UNLISTED_GROUP, type AccountingLamp } from './accounting.js';
import { nightDates, resolvePeriod, yearBefore } from './periods.js';
import { DEFAULT_REPORT_SETTINGS, reportSettingsSchema, tariffOn } from './settings.js';

const SITE = { lat: 45.76, lon: 4.84, timezone: 'Europe/Paris' };
const H = 3_600_000;

const lampArb = fc.record({
  cabinet: fc.integer({ min: 0, max: 4 }),
  zone: fc.integer({ min: 0, max: 3 }),
  nominalPowerW: fc.integer({ min: 1, max: 300 }),
  baselinePowerW: fc.option(fc.integer({ min: 1, max: 500 }), { nil: null }),
});

/** Per-lamp sums; unknown lamps (not in the inventory) report too. */
const sumsArb = fc
  .record({
    energyWh: fc.double({ min: 0, max: 5000, noNaN: true }),
    gapWh: fc.constant(0),
    samples: fc.integer({ min: 0, max: 900 }),
    levelS: fc.double({ min: 0, max: 1e6, noNaN: true }),
    onS: fc.double({ min: 0, max: 1e5, noNaN: true }),
    markedSamples: fc.integer({ min: 0, max: 700 }),
  })
  // No sample, nothing measured.
  .map((s) => (s.samples === 0 ? { ...s, energyWh: 0, levelS: 0, onS: 0, markedSamples: 0 } : { ...s, markedSamples: Math.min(s.markedSamples, s.samples) }));

describe('accounting invariants', () => {
  it('zone and cabinet totals add up to the town; savings never exceed the baseline', () => {
    const frames = nightDates('2025-11-01', '2025-11-03').map((d) => nightFrame(nightForDate(SITE, d), Date.UTC(2025, 11, 1)));
    fc.assert(
      fc.property(
        fc.array(lampArb, { minLength: 1, maxLength: 25 }),
        fc.array(sumsArb, { minLength: 30, maxLength: 30 }),
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom<'zone' | 'cabinet'>('zone', 'cabinet'),
        (specs, sums, unknown, by) => {
          const lamps: AccountingLamp[] = specs.map((s, i) => ({
            id: `L${i}`,
            cabinetId: `C${s.cabinet}`,
            zone: `Z${s.zone}`,
            nominalPowerW: s.nominalPowerW,
            baselinePowerW: s.baselinePowerW,
          }));
          // Lamp rows, plus `unknown` lamps the inventory does not list, on cabinet C0 and C9.
          const lampRows: GroupRollup[] = lamps.map((l, i) => ({ key: l.id, ...sums[i]! }));
          const extra = Array.from({ length: unknown }, (_, i) => ({ key: `X${i}`, cabinetId: i % 2 ? 'C9' : 'C0', ...sums[25 + i]! }));
          const cabinets = new Map<string, GroupRollup>();
          const rows = [...lampRows.map((r, i) => ({ ...r, cabinetId: lamps[i]!.cabinetId })), ...extra];
          for (const r of rows) {
            const c = cabinets.get(r.cabinetId) ?? { key: r.cabinetId, energyWh: 0, gapWh: 0, samples: 0, levelS: 0, onS: 0, markedSamples: 0 };
            c.energyWh += r.energyWh;
            c.samples += r.samples;
            c.levelS += r.levelS;
            c.onS += r.onS;
            c.markedSamples += r.markedSamples;
            cabinets.set(r.cabinetId, c);
          }
          const groups = accountGroups({
            by,
            lamps,
            cabinets: [...cabinets.values()],
            lampRows: [...lampRows, ...extra],
            measuredFrames: frames,
            darkHourCount: 30,
            eurPerKWh: 0.2,
            settings: DEFAULT_REPORT_SETTINGS,
            periodS: 60,
          });
          // Every Wh reported lands in exactly one group.
          const measuredWh = rows.reduce((s, r) => s + r.energyWh, 0);
          const groupEnergy = groups.reduce((s, g) => s + (g.energyKWh ?? 0), 0);
          expect(groupEnergy).toBeCloseTo(measuredWh / 1000, 6);
          expect(groups.reduce((s, g) => s + g.burningHours, 0)).toBeCloseTo(rows.reduce((s, r) => s + r.onS, 0) / 3600, 6);
          const darkHours = frames.reduce((s, f) => s + (f.end - f.dusk) / H, 0);
          const { fullW, beforeW } = powersOf(lamps);
          expect(groups.reduce((s, g) => s + g.fullPowerKWh, 0)).toBeCloseTo((fullW * darkHours) / 1000, 6);
          expect(groups.reduce((s, g) => s + g.beforeRenovationKWh, 0)).toBeCloseTo((beforeW * darkHours) / 1000, 6);
          for (const g of groups) {
            if (g.savedVsFullPower.kWh !== null) expect(g.savedVsFullPower.kWh).toBeLessThanOrEqual(g.fullPowerKWh + 1e-9);
            if (g.savedVsBeforeRenovation.kWh !== null) expect(g.savedVsBeforeRenovation.kWh).toBeLessThanOrEqual(g.beforeRenovationKWh + 1e-9);
            if (g.completeness !== null) expect(g.completeness).toBeLessThanOrEqual(1);
            if (g.key === UNLISTED_GROUP) expect(g.lamps).toBe(0);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('nights: savings never exceed either baseline, completeness stays within 0..1, the period sums its nights', () => {
    const dates = nightDates('2025-06-01', '2025-06-05');
    const frames = dates.map((d) => nightFrame(nightForDate(SITE, d), Date.UTC(2025, 5, 7)));
    const lamps: AccountingLamp[] = [
      { id: 'a', cabinetId: 'c', zone: 'z', nominalPowerW: 40, baselinePowerW: 100 },
      { id: 'b', cabinetId: 'c', zone: 'z', nominalPowerW: 60, baselinePowerW: null },
    ];
    const start = frames[0]!.windowStart;
    const span = (frames[frames.length - 1]!.windowEnd - start) / H;
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: span - 1 }), energyWh: fc.double({ min: 0, max: 500, noNaN: true }), samples: fc.integer({ min: 0, max: 200 }) }), { maxLength: 60 }),
        (cells) => {
          const byHour = new Map<number, HourRollup>();
          for (const c of cells) {
            const hour = start + c.at * H;
            const h = byHour.get(hour) ?? { hour, energyWh: 0, gapWh: 0, samples: 0, levelS: 0, onS: 0 };
            h.energyWh += c.energyWh;
            h.samples += c.samples;
            byHour.set(hour, h);
          }
          const settings = { tariffs: [{ from: '2025-01-01', to: null, eurPerKWh: 0.3 }], emissionFactorKgPerKWh: 0.053 };
          const nights = accountNights({ frames, lamps, hours: [...byHour.values()], settings, periodS: 60 });
          for (const n of nights) {
            if (n.savedVsFullPower.kWh !== null) expect(n.savedVsFullPower.kWh).toBeLessThanOrEqual(n.fullPowerKWh);
            if (n.savedVsBeforeRenovation.kWh !== null) expect(n.savedVsBeforeRenovation.kWh).toBeLessThanOrEqual(n.beforeRenovationKWh);
            if (n.completeness !== null) expect(n.completeness).toBeGreaterThanOrEqual(0);
            if (n.completeness !== null) expect(n.completeness).toBeLessThanOrEqual(1);
          }
          const total = accountPeriod(nights, frames, lamps.length, 60, settings);
          const energy = [...byHour.values()].reduce((s, h) => s + h.energyWh, 0);
          const anySample = [...byHour.values()].some((h) => h.samples > 0);
          if (!anySample) expect(total.headline.energyKWh).toBeNull();
          else {
            const measuredEnergy = nights.reduce((s, n) => s + (n.energyKWh ?? 0), 0);
            expect(total.headline.energyKWh).toBeCloseTo(measuredEnergy, 9);
            expect(measuredEnergy).toBeLessThanOrEqual(energy / 1000 + 1e-9);
            expect(total.headline.savedVsBeforeRenovation.kWh!).toBeLessThanOrEqual(total.headline.beforeRenovationKWh + 1e-9);
            expect(total.headline.savedVsFullPower.eur).toBeCloseTo(total.headline.savedVsFullPower.kWh! * 0.3, 6);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('periods and settings', () => {
  it('turns a period into night dates, never beyond the newest night begun', () => {
    expect(resolvePeriod('week', '2025-11-30', '2025-11-20')).toEqual({ kind: 'week', first: '2025-11-17', last: '2025-11-23' });
    expect(resolvePeriod('month', '2025-11-20')).toEqual({ kind: 'month', first: '2025-11-01', last: '2025-11-20' });
    expect(resolvePeriod('year', '2025-11-20', '2024-03-03', '2024-05-01')).toEqual({ kind: 'year', first: '2024-01-01', last: '2024-12-31' });
    expect(() => resolvePeriod('night', '2025-11-20', '2025-12-01')).toThrow(/no night/);
    expect(yearBefore({ kind: 'night', first: '2024-02-29', last: '2024-02-29' })).toEqual({ kind: 'night', first: '2023-02-28', last: '2023-02-28' });
  });

  it('finds the tariff of a night and refuses overlapping tariffs, naming the field', () => {
    const tariffs = [
      { from: '2025-01-01', to: '2025-06-30', eurPerKWh: 0.2 },
      { from: '2025-07-01', to: null, eurPerKWh: 0.25 },
    ];
    expect(tariffOn(tariffs, '2025-06-30')?.eurPerKWh).toBe(0.2);
    expect(tariffOn(tariffs, '2025-07-01')?.eurPerKWh).toBe(0.25);
    expect(tariffOn(tariffs, '2024-12-31')).toBeNull();
    const bad = reportSettingsSchema.safeParse({ tariffs: [tariffs[1], { from: '2025-08-01', to: null, eurPerKWh: 0.3 }], emissionFactorKgPerKWh: 0.053 });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(['tariffs', 1, 'from']);
  });
});
