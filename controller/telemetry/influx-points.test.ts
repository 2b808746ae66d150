import { describe, it, expect } from 'vitest';
import { escapeTag, presenceLine, telemetryLines } from './influx-points.js';
import { energyFromCounters } from './counter-energy.js';

describe('influx points', () => {
  it('writes one cabinet point and one point per lamp, integers marked, floats plain, fault only when set', () => {
    const out: string[] = [];
    const n = telemetryLines(
      {
        cabinetId: 'C1',
        seq: 4711,
        ts: 1_763_758_800_000,
        periodS: 60,
        receivedAt: 1,
        cabinet: { voltageV: 230.4, powerW: 1520.3, energyWh: 5 },
        lamps: [
          { id: 'LYS-0001', level: 40, powerW: 21.4, energyWh: 183442.1, fault: null },
          { id: 'LYS-0002', level: 0, powerW: 0, energyWh: 7, fault: 'overheat' },
        ],
      },
      new Map([['LYS-0002', 'Rue des Lilas, nord']]),
      out,
    );
    expect(n).toBe(2);
    expect(out).toEqual([
      'cabinet,cabinet=C1 seq=4711i,lamps=2i,period_s=60i,voltage_v=230.4,power_w=1520.3,energy_wh=5 1763758800000',
      'lamp,cabinet=C1,lamp=LYS-0001 level=40,power_w=21.4,energy_wh=183442.1,seq=4711i 1763758800000',
      'lamp,cabinet=C1,lamp=LYS-0002,zone=Rue\\ des\\ Lilas\\,\\ nord level=0,power_w=0,energy_wh=7,seq=4711i,fault="overheat" 1763758800000',
    ]);
  });

  it('writes presence with bounded tags and an integer count', () => {
    expect(
      presenceLine({ cabinetId: 'C1', lampId: 'L1', sensorId: 'S-1', kind: 'cyclist', count: 2, ts: 5 }, undefined),
    ).toBe('presence,cabinet=C1,kind=cyclist,lamp=L1,sensor=S-1 count=2i 5');
    expect(escapeTag('a=b c,d\\')).toBe('a\\=b\\ c\\,d\\\\');
  });

  it('computes energy in time order, reset-aware, from the counter before the window', () => {
    expect(
      energyFromCounters([
        { lampId: 'B', before: null, counters: [10, 15, 3, 8] },
        { lampId: 'A', before: 100, counters: [110] },
        { lampId: 'C', before: 5, counters: [] },
      ]),
    ).toEqual([
      { lampId: 'A', energyWh: 10, samples: 1 },
      { lampId: 'B', energyWh: 5 + 3 + 5, samples: 4 },
    ]);
  });
});
