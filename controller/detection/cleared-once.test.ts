import { describe, expect, it } from 'vitest';
import type { LampReading } from '../../protocol/index.js';
import { AlertManager } from '../alerts/alert-manager.js';
import { CAB, detectorSet, lineNeighbours, MIN, NIGHT, run, series, street } from './testing.js';
import { CABINET_KINDS, type Finding, type LampInfo } from './types.js';

const lamps = street(6);
const evening = NIGHT.dusk + 30 * MIN;
const H = 60 * MIN;

function lampFindings(fs: readonly Finding[]): Finding[] {
  return fs.filter((f) => !CABINET_KINDS.has(f.kind) && f.lampId !== null);
}

function darkFrom(id: string, from: number, to = Infinity) {
  return (l: LampInfo, r: LampReading, ts: number): LampReading => (l.id === id && ts >= from && ts < to ? { ...r, powerW: 0.5 } : r);
}

describe('a cleared condition is told once, not on every healthy reading', () => {
  it('healthy readings after the first ones produce no lamp finding at all', () => {
    const d = detectorSet(lamps);
    const first = lampFindings(run(d, series({ lamps, from: evening, to: evening + H })));
    // Each judged (kind, lamp) is told cleared exactly once.
    const keys = first.map((f) => `${f.kind}/${f.lampId}`);
    expect(first.every((f) => !f.active)).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain('lamp_failure/L-1');
    expect(keys).toContain('power_high/L-6');
    expect(keys).toContain('no_data/L-3');
    const later = run(d, series({ lamps, from: evening + H, to: evening + 3 * H, seq0: 100 }));
    expect(later.length).toBeGreaterThan(0); // the cabinet is still heard
    expect(lampFindings(later)).toEqual([]);
  });

  it('tells the clearing again after each active finding', () => {
    const d = detectorSet(lamps);
    run(d, series({ lamps, from: evening, to: evening + H }));
    const t0 = evening + H;
    const fs = run(d, series({ lamps, from: t0, to: t0 + 2 * H, seq0: 100, tamper: darkFrom('L-3', t0 + 10 * MIN, t0 + 20 * MIN) }));
    const l3 = fs.filter((f) => f.kind === 'lamp_failure' && f.lampId === 'L-3');
    expect(l3.filter((f) => f.active).length).toBeGreaterThan(0);
    const cleared = l3.filter((f) => !f.active);
    expect(cleared.map((f) => f.at)).toEqual([t0 + 20 * MIN]);
    const again = run(d, series({ lamps, from: t0 + 2 * H, to: t0 + 3 * H, seq0: 300, tamper: darkFrom('L-3', t0 + 2 * H + 5 * MIN, t0 + 2 * H + 9 * MIN) }));
    expect(again.filter((f) => f.kind === 'lamp_failure' && f.lampId === 'L-3' && !f.active).map((f) => f.at)).toEqual([t0 + 2 * H + 9 * MIN]);
  });

  it('the alert manager still resolves the alert once the condition has cleared for autoResolveMs', () => {
    const d = detectorSet(lamps);
    const changes: string[] = [];
    const m = new AlertManager({ neighbours: lineNeighbours(lamps), isNight: () => true, onChange: (a, c) => changes.push(`${a.kind}/${a.lampId}:${c}`) });
    const t0 = evening + H;
    for (const msg of series({ lamps, from: evening, to: t0 + 2 * H, tamper: darkFrom('L-2', t0, t0 + 10 * MIN) })) {
      m.apply(d.telemetry(CAB, msg, msg.ts), msg.ts);
      m.tick(msg.ts);
    }
    expect(changes[0]).toBe('lamp_failure/L-2:opened');
    expect(changes).toContain('lamp_failure/L-2:resolved');
    const resolved = m.get(m.list().find((a) => a.lampId === 'L-2')?.id ?? '') ?? null;
    expect(resolved).toBeNull(); // no longer open
  });

  it('after alertsRestored(), the next healthy reading tells the clearing again (restored alerts can resolve)', () => {
    const d = detectorSet(lamps);
    run(d, series({ lamps, from: evening, to: evening + H }));
    expect(lampFindings(run(d, series({ lamps, from: evening + H, to: evening + H + 2 * MIN, seq0: 100 })))).toEqual([]);
    d.alertsRestored();
    const told = lampFindings(run(d, series({ lamps, from: evening + H + 2 * MIN, to: evening + H + 4 * MIN, seq0: 200 })));
    expect(told.some((f) => f.kind === 'lamp_failure' && f.lampId === 'L-4' && !f.active)).toBe(true);
  });

  it('an inventory change keeps the state of the lamps that stay and starts the new ones afresh', () => {
    const d = detectorSet(lamps);
    run(d, series({ lamps, from: evening, to: evening + H }));
    const more = [...street(1, CAB, 'N'), ...lamps];
    d.setInventory(more);
    const fs = lampFindings(run(d, series({ lamps: more, from: evening + H, to: evening + 2 * H, seq0: 100 })));
    expect(fs.length).toBeGreaterThan(0);
    expect(fs.every((f) => f.lampId === 'N-1' && !f.active)).toBe(true);
    // Learnt power ratios moved with their lamps: a 40 % overdraw on L-5 is caught at once, no relearning.
    const t0 = evening + 2 * H;
    const hot = run(d, series({ lamps: more, from: t0, to: t0 + 5 * MIN, seq0: 300, tamper: (l, r) => (l.id === 'L-5' ? { ...r, powerW: r.powerW * 1.4 } : r) }));
    expect(hot.filter((f) => f.kind === 'power_high' && f.active).map((f) => f.lampId)).toEqual(['L-5', 'L-5', 'L-5']);
  });
});
