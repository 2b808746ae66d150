import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chartGeometry, fmtCompleteness, fmtEur, fmtKwh, fmtPct, fmtPeriod, headlineCards } from './ui/report-view.js';

/** The report page's pure helpers (ui/report-view.js), run as the ES module the browser loads. */

const spaces = (s: string): string => s.replace(/\s/g, ' ');

describe('report view helpers', () => {
  it('formats figures the French way, a dash for nothing measured', () => {
    expect(spaces(fmtKwh(1234.56))).toBe('1 235 kWh');
    expect(spaces(fmtKwh(12.345))).toBe('12,3 kWh');
    expect(fmtKwh(null)).toBe('—');
    expect(spaces(fmtPct(52.88))).toBe('52,9 %');
    expect(spaces(fmtEur(280.11))).toBe('280 €');
    expect(spaces(fmtCompleteness(0.995))).toBe('99,5 %');
    expect(fmtPeriod('2025-11-01', '2025-11-30')).toBe('nuits du 1 novembre 2025 au 30 novembre 2025');
    const cards = headlineCards({
      energyKWh: 100, costEur: 20, fullPowerKWh: 250, beforeRenovationKWh: 600, gapKWh: 0, burningHours: 10, averageLevelPct: 50, completeness: 1,
      savedVsFullPower: { kWh: 150, pct: 60, eur: 30, tCo2e: 0.00795 },
      savedVsBeforeRenovation: { kWh: 500, pct: 83.3, eur: 100, tCo2e: 0.0265 },
    });
    expect(cards.map((c) => c.field)).toEqual(['energy', 'saved-before-kwh', 'saved-before-eur', 'saved-before-tco2e', 'saved-full-kwh', 'completeness']);
    expect(spaces(cards[1]!.detail)).toBe('soit 83,3 %');
  });

  it('draws a bar per measured night inside the plot, baselines through every night', () => {
    const night = fc.record({
      energyKWh: fc.option(fc.double({ min: 0, max: 1e4, noNaN: true }), { nil: null }),
      fullPowerKWh: fc.double({ min: 0, max: 1e4, noNaN: true }),
      beforeRenovationKWh: fc.double({ min: 0, max: 1e4, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(night, { minLength: 1, maxLength: 40 }), (ns) => {
        const nights = ns.map((n, i) => ({ ...n, date: `2025-01-${String(i + 1).padStart(2, '0')}` }));
        const g = chartGeometry(nights, 760, 240);
        expect(g.bars).toHaveLength(nights.filter((n) => n.energyKWh !== null).length);
        for (const b of g.bars) {
          expect(b.height).toBeGreaterThanOrEqual(0);
          expect(b.y + b.height).toBeCloseTo(g.plot.bottom, 6);
          expect(b.y).toBeGreaterThanOrEqual(8 - 1e-9);
          expect(b.x).toBeGreaterThanOrEqual(g.plot.left);
          expect(b.x + b.width).toBeLessThanOrEqual(g.plot.right + 1e-9);
        }
        expect(g.full.split(' ')).toHaveLength(nights.length === 1 ? 2 : nights.length);
      }),
    );
  });
});
