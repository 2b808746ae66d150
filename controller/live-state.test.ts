import { describe, expect, it } from 'vitest';
import { LiveState } from './live-state.js';

const reading = (id: string, level: number) => ({ id, level, powerW: level / 2, energyWh: 1, fault: null });

describe('LiveState', () => {
  it('keeps the latest ts per lamp and ignores lamps outside the inventory', () => {
    const live = new LiveState();
    const known = (id: string): boolean => id !== 'ghost';
    expect(live.applyTelemetry('C1', 2000, 60, [reading('L1', 40), reading('ghost', 10)], known).map((r) => r.id)).toEqual(['L1']);
    // A replayed older message does not overwrite.
    expect(live.applyTelemetry('C1', 1000, 60, [reading('L1', 90)], known)).toEqual([]);
    expect(live.lamp('L1')).toMatchObject({ level: 40, lastTs: 2000 });
    expect(live.lamp('ghost')).toBeUndefined();
    live.applyTelemetry('C1', 3000, 60, [reading('L1', 80)], known);
    expect(live.lamp('L1')).toMatchObject({ level: 80, lastTs: 3000 });
    live.retainLamps(() => false);
    expect(live.lamp('L1')).toBeUndefined();
  });

  it('keeps many lamps through growth, and their values through a retain that renumbers them', () => {
    const live = new LiveState();
    const ids = Array.from({ length: 300 }, (_, i) => `L${i}`);
    const all = new Set(ids);
    live.applyTelemetry('C1', 1000, 60, ids.slice(0, 150).map((id, i) => ({ ...reading(id, i % 100), fault: i === 7 ? 'driver_failure' as const : null })), all);
    live.applyTelemetry('C2', 2000, 60, ids.slice(150).map((id, i) => reading(id, i % 100)), all);
    expect(live.lamp('L7')).toEqual({ cabinetId: 'C1', level: 7, powerW: 3.5, fault: 'driver_failure', lastTs: 1000 });
    expect(live.lamp('L299')).toEqual({ cabinetId: 'C2', level: 49, powerW: 24.5, fault: null, lastTs: 2000 });
    // Every even lamp leaves the inventory: the odd ones keep their values.
    live.retainLamps((id) => Number(id.slice(1)) % 2 === 1);
    expect(live.lamp('L8')).toBeUndefined();
    expect(live.lamp('L9')).toEqual({ cabinetId: 'C1', level: 9, powerW: 4.5, fault: null, lastTs: 1000 });
    expect(live.lamp('L299')).toEqual({ cabinetId: 'C2', level: 49, powerW: 24.5, fault: null, lastTs: 2000 });
    // A lamp that left comes back as new; a lamp moved to another cabinet says so.
    live.applyTelemetry('C3', 3000, 60, [reading('L8', 20), reading('L9', 30)], all);
    expect(live.lamp('L8')).toEqual({ cabinetId: 'C3', level: 20, powerW: 10, fault: null, lastTs: 3000 });
    expect(live.lamp('L9')).toMatchObject({ cabinetId: 'C3', level: 30 });
    // What lamp() returned is a snapshot.
    const before = live.lamp('L9')!;
    live.applyTelemetry('C3', 4000, 60, [reading('L9', 60)], all);
    expect(before.level).toBe(30);
    expect(live.lamp('L9')!.level).toBe(60);
  });

  it('tracks online transitions and keeps the last full status across a Last Will', () => {
    const live = new LiveState();
    expect(live.markSeen('C1', 10)).toBe(true);
    expect(live.markSeen('C1', 20)).toBe(false);
    live.applyStatus('C1', { v: 1, online: true, mode: 'policy', agent: 'a/1', buffered: 3 }, 30);
    live.applyStatus('C1', { v: 1, online: false }, 40);
    expect(live.markOffline('C1')).toBe(true);
    expect(live.cabinet('C1')).toMatchObject({ online: false, lastSeen: 40, mode: 'policy', agent: 'a/1', buffered: 3 });
  });

  it('isolates a throwing listener', () => {
    const errors: unknown[] = [];
    const live = new LiveState((e) => errors.push(e));
    const got: string[] = [];
    live.subscribe(() => {
      throw new Error('bad client');
    });
    const off = live.subscribe((e) => got.push(e.type));
    live.emit({ type: 'presence', cabinetId: 'C1', lampId: 'L1', kind: 'cyclist', ts: 1 });
    off();
    live.emit({ type: 'presence', cabinetId: 'C1', lampId: 'L1', kind: 'cyclist', ts: 2 });
    expect(got).toEqual(['presence']);
    expect(errors).toHaveLength(2);
  });
});
