import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { CLOCK_SANE_AFTER, clockUnsynced } from './clock-sync.js';
import type { EdgeFs } from './fs-port.js';
import { failsafeOutput, LampWatchdog } from './lamp-watchdog.js';
import { ReplayPacer } from './replay-pacer.js';
import { SensorLimiter } from './sensor-limiter.js';
import { removeDir, tempDir } from './test-support.js';
import { UplinkQueue } from './uplink-queue.js';

const PARIS = { lat: 48.8566, lon: 2.3522, timezone: 'Europe/Paris' };

/** node:fs whose writes fail with ENOSPC while `full` is set. */
function fullDisk(): { fs: EdgeFs; full: boolean } {
  const state = { full: false, fs: undefined as unknown as EdgeFs };
  const enospc = (): never => {
    throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  };
  state.fs = {
    ...fs,
    openSync: ((...a: Parameters<typeof fs.openSync>) => (state.full ? enospc() : fs.openSync(...a))) as typeof fs.openSync,
  };
  return state;
}

describe('ReplayPacer', () => {
  it('sends in order at no more than the rate', () => {
    const clock = new ManualClock(0);
    const sent: number[] = [];
    const pacer = new ReplayPacer({ clock, ratePerS: 20, send: (s) => (sent.push(s), true) });
    pacer.start();
    pacer.enqueue(Array.from({ length: 100 }, (_, i) => i));
    expect(sent).toEqual([0]);
    clock.advance(1000);
    // One at once, then 20 per second.
    expect(sent.length).toBeGreaterThanOrEqual(20);
    expect(sent.length).toBeLessThanOrEqual(21);
    clock.advance(4000);
    expect(sent).toEqual(Array.from({ length: 100 }, (_, i) => i));
    pacer.enqueue([100, 100, 101]);
    clock.advance(1000);
    expect(sent.slice(100)).toEqual([100, 101]);
    pacer.stop();
    pacer.enqueue([102]);
    clock.advance(1000);
    expect(sent.length).toBe(102);
  });
});

describe('UplinkQueue', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => removeDir(dir));

  it('keeps events and acks across a restart until the broker acknowledged them, in order', () => {
    const q = new UplinkQueue({ dir, maxItems: 100 });
    q.open();
    const a = q.push({ channel: 'event', payload: '{"a":1}' })!;
    const b = q.push({ channel: 'ack', payload: '{"b":2}' })!;
    q.push({ channel: 'event', payload: '{"c":3}' });
    q.markHandedOver(a);
    expect(q.unsent().map((i) => i.payload)).toEqual(['{"b":2}', '{"c":3}']);
    q.done(a);
    q.markHandedOver(b); // handed over, then the process dies before the PUBACK
    const again = new UplinkQueue({ dir, maxItems: 100 });
    again.open();
    expect(again.unsent().map((i) => i.payload)).toEqual(['{"b":2}', '{"c":3}']);
    expect(again.push({ channel: 'event', payload: '{"d":4}' })).toBeGreaterThan(b);
    fs.writeFileSync(path.join(dir, '0000000000000099.json'), 'garbage');
    expect(new UplinkQueue({ dir, maxItems: 100 }).open().discarded).toBe(1);
  });

  it('on a full disk keeps the message in memory (counted); at its bound refuses, counted', () => {
    const disk = fullDisk();
    const q = new UplinkQueue({ dir, maxItems: 2, fs: disk.fs });
    q.open();
    disk.full = true;
    expect(q.push({ channel: 'event', payload: '1' })).not.toBeNull();
    expect(q.unsaved).toBe(1);
    expect(q.unsent()).toHaveLength(1);
    q.push({ channel: 'event', payload: '2' });
    expect(q.push({ channel: 'event', payload: '3' })).toBeNull();
    expect(q.refused).toBe(1);
  });
});

describe('SensorLimiter', () => {
  it('keeps at most max detections per sensor per window, the excess counted', () => {
    const l = new SensorLimiter(3, 10_000);
    const got = [0, 1, 2, 3, 4].map((i) => l.allow('S1', i * 1000));
    expect(got).toEqual([true, true, true, false, false]);
    expect(l.allow('S2', 4000)).toBe(true);
    expect(l.allow('S1', 10_000)).toBe(true);
    expect(l.dropped).toBe(2);
    expect(l.allow('S1', 500)).toBe(true); // clock stepped back: a new window
  });
});

describe('LampWatchdog and the fail-safe output', () => {
  it('trips after the missed checks, drives fail-safe while stalled, and rests once the tick beats again', () => {
    const clock = new ManualClock(0);
    let trips = 0;
    const w = new LampWatchdog({ clock, checkMs: 1000, missedChecks: 3, trip: () => trips++ });
    w.start();
    clock.advance(2000);
    expect(trips).toBe(0);
    clock.advance(1000);
    expect(trips).toBe(1);
    clock.advance(2000);
    expect(trips).toBe(3); // driven again at each check while stalled
    expect(w.tripped).toBe(1);
    w.beat();
    clock.advance(2000);
    expect(trips).toBe(3);
    w.stop();
    clock.advance(10_000);
    expect(trips).toBe(3);
  });

  it('fail-safe is the level from dusk to dawn, or always when continuous', () => {
    const noon = Date.parse('2025-12-21T11:00:00Z');
    const midnight = Date.parse('2025-12-21T23:00:00Z');
    expect(failsafeOutput(PARIS, 70, noon, false)).toBe(0);
    expect(failsafeOutput(PARIS, 70, midnight, false)).toBe(70);
    expect(failsafeOutput(PARIS, 70, noon, true)).toBe(70);
    // No night at all (polar summer): lit rather than dark.
    expect(failsafeOutput({ lat: 80, lon: 15, timezone: 'Arctic/Longyearbyen' }, 60, Date.parse('2025-06-21T12:00:00Z'), false)).toBe(60);
  });

  it('an unsynced clock: before 2024 or the driver says so', () => {
    expect(clockUnsynced(0, undefined)).toBe(true);
    expect(clockUnsynced(CLOCK_SANE_AFTER - 1, true)).toBe(true);
    expect(clockUnsynced(CLOCK_SANE_AFTER, undefined)).toBe(false);
    expect(clockUnsynced(Date.parse('2025-06-21T00:00:00Z'), false)).toBe(true);
    expect(clockUnsynced(Number.NaN, true)).toBe(true);
  });
});
