import { describe, it, expect } from 'vitest';
import type { Night } from '../core/astro.js';
import { energyWindow, nightEnergy, recentNights } from './energy.js';

const HOUR = 3_600_000;
const DUSK = Date.UTC(2025, 10, 21, 16, 0);
const night: Night = {
  date: '2025-11-21',
  dusk: DUSK,
  dawn: DUSK + 14 * HOUR,
  windowStart: DUSK - 5 * HOUR,
  windowEnd: DUSK + 19 * HOUR,
};
const lamps = [
  { id: 'A', nominalPowerW: 50 },
  { id: 'B', nominalPowerW: 100 },
];

describe('nightEnergy', () => {
  it('computes a night in progress by hand: 2 lamps, 4 hours after dusk', () => {
    const result = nightEnergy({
      night,
      now: DUSK + 4 * HOUR,
      lamps,
      energy: [
        { lampId: 'A', energyWh: 80, samples: 240 },
        { lampId: 'B', energyWh: 160, samples: 200 },
        // Not in the inventory: ignored on both sides.
        { lampId: 'X', energyWh: 1000, samples: 240 },
      ],
      periodS: 60,
    });
    // Full power: 150 W × 4 h = 600 Wh. Measured 240 Wh. Expected samples: 2 × 4 h / 60 s = 480.
    expect(result).toEqual({
      date: '2025-11-21',
      dusk: DUSK,
      dawn: DUSK + 14 * HOUR,
      energyWh: 240,
      fullPowerWh: 600,
      savedWh: 360,
      savedPct: 60,
      completeness: 440 / 480,
      inProgress: true,
    });
  });

  it('stops the baseline at dawn for a finished night and caps completeness at 1', () => {
    const result = nightEnergy({
      night,
      now: DUSK + 20 * HOUR,
      lamps,
      energy: [
        { lampId: 'A', energyWh: 350, samples: 900 },
        { lampId: 'B', energyWh: 700, samples: 900 },
      ],
      periodS: 60,
    });
    expect(result.fullPowerWh).toBe(150 * 14);
    expect(result.savedWh).toBe(2100 - 1050);
    expect(result.savedPct).toBe(50);
    expect(result.completeness).toBe(1);
    expect(result.inProgress).toBe(false);
  });

  it('has no baseline and nothing expected before dusk', () => {
    const result = nightEnergy({ night, now: DUSK - HOUR, lamps, energy: [], periodS: 60 });
    expect(result).toMatchObject({ energyWh: 0, fullPowerWh: 0, savedWh: 0, savedPct: null, completeness: 1, inProgress: true });
    expect(energyWindow(night, DUSK - HOUR)).toEqual({ from: DUSK, to: DUSK });
    expect(energyWindow(night, DUSK + HOUR)).toEqual({ from: DUSK, to: DUSK + HOUR });
  });
});

describe('recentNights', () => {
  const site = { lat: 45.764, lon: 4.8357, timezone: 'Europe/Paris' };

  it('returns tonight then the previous nights, newest first', () => {
    const now = Date.UTC(2025, 10, 21, 23, 0); // 00:00 local on the 22nd: still the night of the 21st
    const nights = recentNights(site, now, 3);
    expect(nights.map((n) => n.date)).toEqual(['2025-11-21', '2025-11-20', '2025-11-19']);
    expect(nights[0]!.windowStart).toBeLessThanOrEqual(now);
    expect(nights[0]!.windowEnd).toBeGreaterThan(now);
    for (const n of nights) expect(n.dawn - n.dusk).toBeGreaterThan(14 * HOUR);
    expect(nights[1]!.windowEnd).toBe(nights[0]!.windowStart);
    expect(recentNights(site, now, 0)).toEqual([]);
  });
});

describe('nightEnergy without any sample', () => {
  it('reports no saving rather than the whole baseline', () => {
    const night: Night = { date: '2026-11-20', dusk: 0, dawn: 10 * 3_600_000, windowStart: -1, windowEnd: 1 };
    const r = nightEnergy({ night, now: 20 * 3_600_000, lamps: [{ id: 'L1', nominalPowerW: 50 }], energy: [], periodS: 60 });
    expect(r.fullPowerWh).toBe(500);
    expect(r.completeness).toBe(0);
    expect(r.savedWh).toBe(0);
    expect(r.savedPct).toBeNull();
  });
});
