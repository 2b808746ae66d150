import { describe, expect, it } from 'vitest';
import { AGE_FILTERS, alertPosition, boardAlerts, chartModel, formatAge, groupBySeverity, kindLabel, zoneIndex } from './maintenance-model.js';
import { KIND_FR } from '../../controller/alerts/labels.js';
import { alertKindSchema } from '../../controller/detection/types.js';

const H = 3_600_000;
const NOW = Date.UTC(2026, 10, 20, 21, 0, 0);
const lamps = [
  { id: 'L-1', cabinetId: 'A', zone: 'centre', lat: 45.1, lon: 4.1 },
  { id: 'L-2', cabinetId: 'A', zone: 'parc', lat: 45.2, lon: 4.2 },
  { id: 'L-3', cabinetId: 'B', zone: 'parc', lat: 45.3, lon: 4.3 },
];
const alert = (id: string, over: Partial<{ kind: string; severity: string; state: string; lampId: string | null; cabinetId: string; openedAt: number }>) => ({
  id,
  kind: 'lamp_failure',
  severity: 'major',
  state: 'open',
  lampId: 'L-1' as string | null,
  cabinetId: 'A',
  openedAt: NOW - H,
  ...over,
});

describe('maintenance board model (ui/maintenance-model.js)', () => {
  const zonesOf = zoneIndex(lamps);
  const alerts = [
    alert('a', {}),
    alert('b', { severity: 'critical', kind: 'cabinet_offline', lampId: null, cabinetId: 'A', openedAt: NOW - 30 * 60_000 }),
    alert('c', { severity: 'minor', kind: 'power_high', lampId: 'L-3', cabinetId: 'B', openedAt: NOW - 48 * H, state: 'acknowledged' }),
    alert('d', { state: 'resolved' }),
    alert('e', { severity: 'critical', lampId: 'L-2', openedAt: NOW - 2 * H }),
  ];

  it('names every alert kind in French, the same on the board and on the work order', () => {
    for (const k of alertKindSchema.options) {
      expect(kindLabel(k)).not.toBe(k);
      expect(KIND_FR[k]).toBeDefined();
    }
    expect(kindLabel('something_new')).toBe('something_new');
  });

  it('gives a lamp alert its lamp zone and a cabinet alert the zones of its lamps', () => {
    expect([...zonesOf({ lampId: 'L-3', cabinetId: 'B' })]).toEqual(['parc']);
    expect([...zonesOf({ lampId: null, cabinetId: 'A' })].sort()).toEqual(['centre', 'parc']);
    expect([...zonesOf({ lampId: null, cabinetId: 'Z' })]).toEqual([]);
  });

  it('shows unresolved alerts, most severe first then newest, and filters by zone, kind, age and state', () => {
    const ids = (f: Parameters<typeof boardAlerts>[1]) => boardAlerts(alerts, f, NOW, zonesOf).map((a) => a.id);
    expect(ids({})).toEqual(['b', 'e', 'a', 'c']);
    expect(ids({ zone: 'centre' })).toEqual(['b', 'a']);
    expect(ids({ zone: 'parc', kind: 'lamp_failure' })).toEqual(['e']);
    expect(ids({ age: '1h' })).toEqual(['b']);
    expect(ids({ age: 'old' })).toEqual(['c']);
    expect(ids({ state: 'acknowledged' })).toEqual(['c']);
    expect(ids({ zone: 'all', kind: 'all', age: 'all', state: 'all' })).toEqual(['b', 'e', 'a', 'c']);
    expect(AGE_FILTERS.map(([v]) => v)).toContain('24h');
  });

  it('groups by severity, keeping empty groups so the board layout is stable', () => {
    const groups = groupBySeverity(boardAlerts(alerts, { zone: 'centre' }, NOW, zonesOf));
    expect(groups.map((g) => [g.severity, g.alerts.map((a) => a.id)])).toEqual([
      ['critical', ['b']],
      ['major', ['a']],
      ['minor', []],
    ]);
    expect(groups[0]!.label).toBe('Critiques');
  });

  it('formats ages for people', () => {
    expect(formatAge(45 * 60_000)).toBe('45 min');
    expect(formatAge(3 * H + 5 * 60_000)).toBe('3 h 05');
    expect(formatAge(52 * H)).toBe('2 j 4 h');
    expect(formatAge(-5)).toBe('0 min');
  });

  it('places an alert at its lamp, else at its cabinet', () => {
    const byId = new Map(lamps.map((l) => [l.id, l]));
    const cabs = new Map([
      ['A', { lat: 45.15, lon: 4.15 }],
      ['B', { lat: null, lon: null }],
    ]);
    expect(alertPosition({ lampId: 'L-2', cabinetId: 'A' }, byId, cabs)).toEqual({ lat: 45.2, lon: 4.2 });
    expect(alertPosition({ lampId: null, cabinetId: 'A' }, byId, cabs)).toEqual({ lat: 45.15, lon: 4.15 });
    expect(alertPosition({ lampId: null, cabinetId: 'B' }, byId, cabs)).toBeNull();
  });

  it('draws level and power over the window, breaks lines over gaps, and marks the anomaly and the faults', () => {
    const from = NOW - 10 * 60_000;
    const to = NOW;
    const samples = [];
    for (let t = from; t <= to; t += 60_000) {
      // Two readings missing in the middle: a hole under the 5-minute floor, drawn through.
      if (t > from + 4 * 60_000 && t < from + 7 * 60_000) continue;
      const dark = t >= from + 8 * 60_000;
      samples.push({ ts: t, level: 80, powerW: dark ? 0.5 : 30, fault: dark ? 'lamp_failure' : null });
    }
    const m = chartModel(samples, { from, to, width: 600, height: 100, anomaly: { from: from + 8 * 60_000, to } });
    expect(m.points).toBe(samples.length);
    expect(m.powerMax).toBe(30);
    // Starts at the left edge at 80 % (y = 20), one unbroken line.
    expect(m.levelPath.startsWith('M0.0,20.0')).toBe(true);
    expect(m.levelPath.match(/M/g)?.length).toBe(1);
    const m2 = chartModel(samples, { from, to, width: 600, height: 100 });
    expect(m2.band).toBeNull();
    expect(m.band!.x).toBeCloseTo(480, 5);
    expect(m.band!.width).toBeCloseTo(120, 5);
    expect(m.faults.map((f) => Math.round(f.x))).toEqual([480, 540, 600]);
    expect(m.faults.every((f) => f.y > 98)).toBe(true);
  });

  it('breaks the line over a gap much longer than the reading period', () => {
    const from = NOW - 60 * 60_000;
    const samples = [0, 1, 2, 3, 40, 41, 42].map((m) => ({ ts: from + m * 60_000, level: 50, powerW: 10, fault: null }));
    const m = chartModel(samples, { from, to: NOW, width: 100, height: 10 });
    expect(m.powerPath.match(/M/g)?.length).toBe(2);
  });
});
