import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { ManualClock } from '../core/clock.js';
import { lampReadingSchema } from '../protocol/index.js';
import type { PresenceDetection } from './driver.js';
import { CABINET_OWN_W, DRIFT_FACTOR, powerFraction, SimulatedDriver, STANDBY_W } from './sim-driver.js';

const HOUR = 3_600_000;
// 2025-11-21 18:00 Paris: evening traffic.
const EVENING = DateTime.fromISO('2025-11-21T18:00', { zone: 'Europe/Paris' }).toMillis();
const SMALL_HOURS = DateTime.fromISO('2025-11-22T02:00', { zone: 'Europe/Paris' }).toMillis();

const lamps = [
  { id: 'L1', nominalPowerW: 40, sensorId: 'S1' },
  { id: 'L2', nominalPowerW: 40 },
  { id: 'L3', nominalPowerW: 60, sensorId: 'S3' },
];

function detections(driver: SimulatedDriver): PresenceDetection[] {
  const seen: PresenceDetection[] = [];
  driver.onPresence((d) => seen.push(d));
  return seen;
}

describe('SimulatedDriver power', () => {
  it('power fraction is monotonic, 0 at 0 and 1 at 100, above linear at low levels', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(powerFraction(lo)).toBeLessThanOrEqual(powerFraction(hi));
      }),
    );
    expect(powerFraction(0)).toBe(0);
    expect(powerFraction(100)).toBeCloseTo(1, 12);
    expect(powerFraction(10)).toBeGreaterThan(0.1);
  });

  it('lamp power grows with level and stays within a few % of nominal at 100', () => {
    const clock = new ManualClock(EVENING);
    const d = new SimulatedDriver({ clock, lamps, seed: 7 });
    let prev = -1;
    for (let level = 0; level <= 100; level += 5) {
      d.setLevel('L1', level);
      const p = d.powerOf('L1');
      expect(p).toBeGreaterThan(prev);
      prev = p;
    }
    expect(Math.abs(d.powerOf('L1') - STANDBY_W - 40) / 40).toBeLessThan(0.035);
    d.setLevel('L1', 0);
    expect(d.powerOf('L1')).toBe(STANDBY_W);
  });

  it('integrates energy exactly over clock time, across level changes', () => {
    const clock = new ManualClock(EVENING);
    const d = new SimulatedDriver({ clock, lamps, seed: 3 });
    const e0 = d.read(clock.now()).lamps.find((l) => l.id === 'L3')!.energyWh;
    d.setLevel('L3', 80);
    const p80 = d.powerOf('L3');
    clock.advance(2 * HOUR);
    d.setLevel('L3', 20);
    const p20 = d.powerOf('L3');
    clock.advance(30 * 60_000);
    const r = d.read(clock.now()).lamps.find((l) => l.id === 'L3')!;
    expect(r.energyWh - e0).toBeCloseTo(p80 * 2 + p20 * 0.5, 2);
    expect(r.level).toBe(20);
    expect(r.powerW).toBeCloseTo(p20, 2);
  });

  it('cabinet meter = lamps + own consumption, about 230 V', () => {
    const clock = new ManualClock(EVENING);
    const d = new SimulatedDriver({ clock, lamps, seed: 5 });
    for (const l of lamps) d.setLevel(l.id, 60);
    const r0 = d.read(clock.now());
    clock.advance(HOUR);
    const r1 = d.read(clock.now());
    const lampSum = r1.lamps.reduce((s, l) => s + l.powerW, 0);
    expect(r1.cabinet!.powerW).toBeCloseTo(lampSum + CABINET_OWN_W, 1);
    expect(r1.cabinet!.energyWh! - r0.cabinet!.energyWh!).toBeCloseTo(lampSum + CABINET_OWN_W, 1);
    expect(Math.abs(r1.cabinet!.voltageV! - 230)).toBeLessThan(2);
    for (const l of r1.lamps) expect(lampReadingSchema.safeParse(l).success).toBe(true);
  });
});

describe('SimulatedDriver faults', () => {
  it('lamp_out: power near 0 and lamp_failure; drift: +30 %; driver_failure reported; clear restores', () => {
    const clock = new ManualClock(EVENING);
    const d = new SimulatedDriver({ clock, lamps, seed: 1 });
    d.setLevel('L1', 100);
    d.setLevel('L2', 100);
    d.setLevel('L3', 100);
    const healthy = d.read(clock.now()).lamps;
    d.injectFault('L1', 'lamp_out');
    d.injectFault('L2', 'drift');
    d.injectFault('L3', 'driver_failure');
    const faulty = d.read(clock.now()).lamps;
    expect(faulty[0]!.powerW).toBeLessThanOrEqual(STANDBY_W);
    expect(faulty[0]!.fault).toBe('lamp_failure');
    expect(faulty[1]!.powerW - STANDBY_W).toBeCloseTo((healthy[1]!.powerW - STANDBY_W) * DRIFT_FACTOR, 1);
    expect(faulty[1]!.fault).toBeNull();
    expect(faulty[2]!.fault).toBe('driver_failure');
    d.clearFault('L1');
    expect(d.read(clock.now()).lamps[0]).toEqual(healthy[0]);
  });

  it('a stuck_on sensor fires constantly, a stuck_off one never', () => {
    const clock = new ManualClock(SMALL_HOURS);
    const d = new SimulatedDriver({ clock, lamps, seed: 1, traffic: 0 });
    const seen = detections(d);
    d.start();
    d.injectSensorFault('S1', 'stuck_on');
    clock.advance(60_000);
    expect(seen.filter((s) => s.sensorId === 'S1').length).toBeGreaterThanOrEqual(29);
    d.clearSensorFault('S1');
    const before = seen.length;
    clock.advance(60_000);
    expect(seen.length).toBe(before);

    const busyClock = new ManualClock(EVENING);
    const busy = new SimulatedDriver({ clock: busyClock, lamps, seed: 1, traffic: 5 });
    const busySeen = detections(busy);
    busy.injectSensorFault('S3', 'stuck_off');
    busy.start();
    busyClock.advance(HOUR); // an evening hour at 5x traffic
    expect(busySeen.some((s) => s.sensorId === 'S1')).toBe(true);
    expect(busySeen.some((s) => s.sensorId === 'S3')).toBe(false);
    busy.stop();
    d.stop();
  });
});

describe('SimulatedDriver traffic', () => {
  function night(seed: number, start: number, hours: number): PresenceDetection[] {
    const clock = new ManualClock(start);
    const d = new SimulatedDriver({ clock, lamps, seed });
    const seen = detections(d);
    d.start();
    clock.advance(hours * HOUR);
    d.stop();
    return seen;
  }

  it('is deterministic for a seed and differs between seeds', () => {
    const a = night(42, EVENING, 3);
    expect(a.length).toBeGreaterThan(0);
    expect(night(42, EVENING, 3)).toEqual(a);
    expect(night(43, EVENING, 3)).not.toEqual(a);
  });

  it('the evening is much busier than the small hours', () => {
    const evening = night(9, EVENING, 3).length;
    const smallHours = night(9, SMALL_HOURS, 3).length;
    // Rates 40/h vs 1/h for two sensors over 3 h: ~240 against ~6.
    expect(evening).toBeGreaterThan(150);
    expect(smallHours).toBeLessThan(25);
    for (const d of night(9, EVENING, 1)) {
      expect(['pedestrian', 'cyclist', 'vehicle']).toContain(d.kind);
      expect(d.count).toBeGreaterThanOrEqual(1);
      expect(['S1', 'S3']).toContain(d.sensorId);
      expect(d.lampId).toBe(d.sensorId === 'S1' ? 'L1' : 'L3');
    }
  });

  it('stop() cancels every pending detection', () => {
    const clock = new ManualClock(EVENING);
    const d = new SimulatedDriver({ clock, lamps, seed: 1 });
    const seen = detections(d);
    d.start();
    d.stop();
    clock.advance(HOUR);
    expect(seen).toHaveLength(0);
  });
});
