import { describe, expect, it } from 'vitest';
import type { LampReading, Telemetry } from '../../protocol/index.js';
import { isDaylight } from './day-burner.js';
import {
  active,
  CAB,
  detectorSet,
  healthyPower,
  MIN,
  NIGHT,
  residential,
  run,
  series,
  SITE,
  street,
} from './testing.js';
import { curveFraction } from './thresholds.js';
import type { LampInfo } from './types.js';

const lamps = street(6);
const H = 60 * MIN;
const evening = NIGHT.dusk + 30 * MIN;
/** Noon the day after NIGHT: plain daylight. */
const noon = NIGHT.windowEnd;

function only(id: string, f: (l: LampInfo, r: LampReading, ts: number) => LampReading | null) {
  return (l: LampInfo, r: LampReading, ts: number): LampReading | null => (l.id === id ? f(l, r, ts) : r);
}

describe('healthy data fires nothing', () => {
  it('a whole night on the residential schedule, dimming to 0 and back, then the day', () => {
    const d = detectorSet(lamps);
    const fs = run(d, series({ lamps, from: NIGHT.dusk - 2 * H, to: NIGHT.dawn + 3 * H, level: residential }));
    expect(fs.length).toBeGreaterThan(1000);
    expect(active(fs)).toEqual([]);
    // It did judge: healthy readings clear lamp_failure and power checks, daylight clears day_burner.
    expect(fs.some((f) => f.kind === 'lamp_failure' && !f.active)).toBe(true);
    expect(fs.some((f) => f.kind === 'power_high' && !f.active)).toBe(true);
    expect(fs.some((f) => f.kind === 'day_burner' && !f.active)).toBe(true);
  });

  it('dimming steps every 10 minutes (100, 70, 40, 20, 10)', () => {
    const steps = [100, 70, 40, 20, 10];
    const d = detectorSet(lamps);
    const fs = run(d, series({ lamps, from: evening, to: evening + 6 * H, level: (_l, ts) => steps[Math.floor((ts - evening) / (10 * MIN)) % 5]! }));
    expect(active(fs)).toEqual([]);
  });

  it('presence boosts in a level-0 slot (light on demand switching lamps on and off, ramps caught midway)', () => {
    const d = detectorSet(lamps);
    const from = NIGHT.dusk + 6 * H; // around 23:00, residential at 0
    const boosted = (l: LampInfo, ts: number): number => {
      const k = Math.floor((ts - from) / MIN) + Number(l.id.slice(2));
      // 3 %: a reading caught at the tail of a ramp down, where a healthy lamp draws under 2 W.
      return k % 7 < 2 ? 70 : k % 7 === 2 ? 3 : k % 11 === 0 ? 45 : 0;
    };
    const fs = run(d, series({ lamps, from, to: from + 4 * H, level: boosted }));
    expect(active(fs)).toEqual([]);
  });

  it('an energy counter reset (driver replaced)', () => {
    const d = detectorSet(lamps);
    const reset = evening + H;
    const fs = run(
      d,
      series({
        lamps,
        from: evening,
        to: evening + 2 * H,
        tamper: only('L-2', (_l, r, ts) => (ts >= reset ? { ...r, energyWh: (ts - reset) / 1e6 } : r)),
      }),
    );
    expect(active(fs)).toEqual([]);
  });

  it('a late replayed message (already judged) is not judged again', () => {
    const d = detectorSet(lamps);
    const msgs = series({ lamps, from: evening, to: evening + H });
    const fs = run(d, msgs);
    const old = msgs[10]!;
    const replay: Telemetry = {
      ...old,
      cabinet: { voltageV: 180, powerW: 5000 },
      lamps: old.lamps.map((r) => ({ ...r, powerW: 0.5, fault: 'lamp_failure' as const })),
    };
    const late = [...d.telemetry(CAB, replay, evening + H), ...d.telemetry(CAB, replay, evening + H + 1)];
    expect(active([...fs, ...late])).toEqual([]);
    expect(d.counters().late).toBe(2);
  });
});

describe('lamp_failure', () => {
  it('fires on the second dark reading while commanded on, and clears when lit again', () => {
    const d = detectorSet(lamps);
    const t0 = evening + H;
    const msgs = series({ lamps, from: evening, to: t0 + 10 * MIN, tamper: only('L-3', (_l, r, ts) => (ts >= t0 ? { ...r, powerW: 0.5 } : r)) });
    const fs = run(d, msgs);
    const hits = active(fs, 'lamp_failure');
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((f) => f.lampId === 'L-3')).toBe(true);
    expect(hits[0]!.at).toBe(t0 + MIN);
    expect(hits[0]!.evidence?.measured).toBe('0,5\u00a0W au niveau 60\u00a0%');
    expect(hits[0]!.evidence?.link).toMatch(/^\/api\/lamps\/L-3\/history\?from=\d+&to=\d+$/);
    const after = run(d, series({ lamps, from: t0 + 10 * MIN, to: t0 + 12 * MIN, seq0: 1000 }));
    expect(after.some((f) => f.kind === 'lamp_failure' && f.lampId === 'L-3' && !f.active)).toBe(true);
  });

  it('fires at once on the driver code lamp_failure', () => {
    const d = detectorSet(lamps);
    const fs = run(d, series({ lamps, from: evening, to: evening + MIN, tamper: only('L-1', (_l, r) => ({ ...r, fault: 'lamp_failure', powerW: 0.5 })) }));
    expect(active(fs, 'lamp_failure').map((f) => f.lampId)).toEqual(['L-1']);
  });

  it('says nothing about a lamp at level 0 (dark is expected)', () => {
    const d = detectorSet(lamps);
    const fs = run(d, series({ lamps, from: evening, to: evening + H, level: () => 0, tamper: (_l, r) => ({ ...r, powerW: 0 }) }));
    expect(fs.filter((f) => f.kind === 'lamp_failure')).toEqual([]);
  });
});

describe('driver_fault', () => {
  it.each(['driver_failure', 'overheat', 'low_voltage'] as const)('fires on %s, and lamp_failure stays out of it', (code) => {
    const d = detectorSet(lamps);
    const fs = run(d, series({ lamps, from: evening, to: evening + 5 * MIN, tamper: only('L-2', (_l, r) => ({ ...r, fault: code, powerW: code === 'driver_failure' ? 0 : r.powerW })) }));
    const hits = active(fs, 'driver_fault');
    expect(hits).toHaveLength(5);
    expect(hits[0]!.detail).toContain(code);
    expect(active(fs, 'lamp_failure')).toEqual([]);
  });
});

describe('day_burner', () => {
  const burn = only('L-2', (_l, r) => ({ ...r, powerW: 30 }));

  it('fires on a lamp drawing power in daylight', () => {
    const d = detectorSet(lamps);
    const fs = run(d, series({ lamps, from: noon, to: noon + 10 * MIN, level: () => 0, tamper: burn }));
    const hits = active(fs, 'day_burner');
    expect(hits[0]).toMatchObject({ lampId: 'L-2', at: noon + MIN });
    expect(hits.every((f) => f.lampId === 'L-2')).toBe(true);
  });

  it('does not fire under an override, nor within the tolerance around dusk', () => {
    const d = detectorSet(lamps, {}, (id) => id === 'L-2');
    expect(active(run(d, series({ lamps, from: noon, to: noon + 10 * MIN, level: () => 0, tamper: burn })))).toEqual([]);
    const d2 = detectorSet(lamps);
    const nearDusk = series({ lamps, from: NIGHT.dusk - 25 * MIN, to: NIGHT.dusk + 10 * MIN, level: () => 60 });
    expect(active(run(d2, nearDusk))).toEqual([]);
  });

  it('knows daylight from the site', () => {
    expect(isDaylight(SITE, noon, 30 * MIN)).toBe(true);
    expect(isDaylight(SITE, NIGHT.dusk - 20 * MIN, 30 * MIN)).toBe(false);
    expect(isDaylight(SITE, NIGHT.dawn + 20 * MIN, 30 * MIN)).toBe(false);
    expect(isDaylight(SITE, NIGHT.dawn + 40 * MIN, 30 * MIN)).toBe(true);
  });
});

describe('cycling', () => {
  it('fires when a lamp commanded on goes dark and lit again and again; lamp_failure does not', () => {
    const d = detectorSet(lamps);
    const t0 = evening + H;
    const flicker = only('L-4', (_l, r, ts) => (ts >= t0 && Math.floor((ts - t0) / MIN) % 2 === 1 ? { ...r, powerW: 0.5 } : r));
    const fs = run(d, series({ lamps, from: evening, to: t0 + 20 * MIN, tamper: flicker }));
    const hits = active(fs, 'cycling');
    expect(hits.length).toBeGreaterThan(0);
    expect(hits[0]!.lampId).toBe('L-4');
    expect(hits[0]!.at).toBeLessThanOrEqual(t0 + 5 * MIN);
    expect(active(fs, 'lamp_failure')).toEqual([]);
  });
});

describe('power_high / power_low', () => {
  const scaled = (k: number, t0: number) =>
    only('L-5', (l, r, ts) => (ts >= t0 ? { ...r, powerW: 0.5 + (r.powerW - 0.5) * k } : r));

  it.each([
    ['power_high', 1.3],
    ['power_low', 0.7],
  ] as const)('%s fires after 3 readings off by 30 %%', (kind, k) => {
    const d = detectorSet(lamps);
    const t0 = evening + H;
    const fs = run(d, series({ lamps, from: evening, to: t0 + 10 * MIN, tamper: scaled(k, t0) }));
    const hits = active(fs, kind);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits[0]).toMatchObject({ lampId: 'L-5', at: t0 + 2 * MIN });
    expect(hits.every((f) => f.lampId === 'L-5')).toBe(true);
    expect(active(fs).every((f) => f.kind === kind)).toBe(true);
  });

  it('learns a lamp that draws 10 % over the model from its own history', () => {
    const d = detectorSet(lamps);
    const fs = run(d, series({ lamps, from: evening, to: evening + 3 * H, tamper: scaled(1.1, 0) }));
    expect(active(fs)).toEqual([]);
  });

  it('does not fire on a reading taken as the level changes', () => {
    const d = detectorSet(lamps);
    // Power lags the level by one reading (a meter averaging over the period).
    const level = (_l: LampInfo, ts: number): number => (Math.floor((ts - evening) / (5 * MIN)) % 2 ? 80 : 30);
    const fs = run(
      d,
      series({
        lamps,
        from: evening,
        to: evening + 3 * H,
        level,
        tamper: (l, r, ts) => ({ ...r, powerW: healthyPower(l, (level(l, ts) + level(l, ts - MIN)) / 2) }),
      }),
    );
    expect(active(fs)).toEqual([]);
  });

  it('uses the LED curve: 10 % flux costs more than 10 % power', () => {
    expect(curveFraction(10, 0.8)).toBeGreaterThan(0.11);
    expect(curveFraction(100, 0.8)).toBeCloseTo(1, 10);
    expect(curveFraction(0, 0.8)).toBe(0);
  });
});

describe('cabinet checks', () => {
  it('voltage fires out of 230 V ± 10 % on the second reading, not within', () => {
    const d = detectorSet(lamps);
    const v = (ts: number): number => (ts >= evening + 10 * MIN ? 200 : 252);
    const fs = run(d, series({ lamps, from: evening, to: evening + 15 * MIN, cabinet: (s, ts) => ({ voltageV: v(ts), powerW: s + 4 }) }));
    const hits = active(fs, 'voltage');
    expect(hits[0]).toMatchObject({ cabinetId: CAB, lampId: null, at: evening + 11 * MIN });
    expect(hits[0]!.evidence?.measured).toBe('200\u00a0V');
  });

  it('cabinet_meter_mismatch fires when the meter exceeds the lamps by more than the tolerance', () => {
    const d = detectorSet(lamps);
    const t0 = evening + 10 * MIN;
    const fs = run(d, series({ lamps, from: evening, to: t0 + 10 * MIN, cabinet: (s, ts) => ({ voltageV: 230, powerW: s + 4 + (ts >= t0 ? 120 : 3) }) }));
    const hits = active(fs, 'cabinet_meter_mismatch');
    expect(hits[0]).toMatchObject({ at: t0 + 2 * MIN });
    expect(active(fs).every((f) => f.kind === 'cabinet_meter_mismatch')).toBe(true);
  });

  it('no mismatch verdict while a lamp is missing from the message; no_data fires on the third', () => {
    const d = detectorSet(lamps);
    const t0 = evening + 10 * MIN;
    const fs = run(
      d,
      series({
        lamps,
        from: evening,
        to: t0 + 10 * MIN,
        tamper: only('L-6', (_l, r, ts) => (ts >= t0 ? null : r)),
        cabinet: (s, ts) => ({ voltageV: 230, powerW: s + 4 + (ts >= t0 ? 40 : 0) }),
      }),
    );
    expect(active(fs, 'cabinet_meter_mismatch')).toEqual([]);
    const hits = active(fs, 'no_data');
    expect(hits[0]).toMatchObject({ lampId: 'L-6', at: t0 + 2 * MIN });
  });
});

describe('cabinet_offline', () => {
  it('fires after more than 3 periods of silence, and clears on the next message', () => {
    const d = detectorSet(lamps);
    const msgs = series({ lamps, from: evening, to: evening + 5 * MIN });
    run(d, msgs);
    const last = msgs.at(-1)!.ts + 500;
    expect(active(d.tick(last + 3 * MIN))).toEqual([]);
    const hits = active(d.tick(last + 3 * MIN + 1));
    expect(hits).toMatchObject([{ kind: 'cabinet_offline', cabinetId: CAB }]);
    const back = d.telemetry(CAB, series({ lamps, from: last + 4 * MIN, to: last + 5 * MIN, seq0: 99 })[0]!, last + 4 * MIN);
    expect(back.find((f) => f.kind === 'cabinet_offline')).toMatchObject({ active: false });
  });

  it('fires at once on a Last Will', () => {
    const d = detectorSet(lamps);
    const fs = d.status(CAB, { v: 1, online: false }, evening);
    expect(fs).toMatchObject([{ kind: 'cabinet_offline', active: true, at: evening }]);
    expect(d.isOffline(CAB)).toBe(true);
  });
});

describe('gateway events', () => {
  it('door_open opens on door_open, clears on door_closed; a late duplicate is ignored', () => {
    const d = detectorSet(lamps);
    const ev = (code: 'door_open' | 'door_closed', ts: number) => d.event(CAB, { v: 1, ts, code }, ts + 100);
    expect(active(ev('door_open', evening))).toMatchObject([{ kind: 'door_open', cabinetId: CAB }]);
    expect(ev('door_closed', evening + MIN).find((f) => f.kind === 'door_open')).toMatchObject({ active: false });
    expect(ev('door_open', evening).filter((f) => f.kind === 'door_open')).toEqual([]);
  });

  it('power_cut opens on power_cut and clears on power_restored; other events are not alerts', () => {
    const d = detectorSet(lamps);
    expect(active(d.event(CAB, { v: 1, ts: evening, code: 'power_cut' }, evening))).toMatchObject([{ kind: 'power_cut' }]);
    expect(d.event(CAB, { v: 1, ts: evening + MIN, code: 'power_restored' }, evening + MIN).find((f) => f.kind === 'power_cut')).toMatchObject({
      active: false,
    });
    expect(active(d.event(CAB, { v: 1, ts: evening, code: 'reboot' }, evening))).toEqual([]);
  });
});

describe('sensor_stuck', () => {
  const sensorLamps = street(12);
  const sensors = ['L-2', 'L-4', 'L-6', 'L-8', 'L-10'];

  function traffic(d: ReturnType<typeof detectorSet>, from: number, hours: number, perHour: (sensor: string) => number) {
    const out = [];
    for (const lampId of sensors) {
      const s = `S-${lampId}`;
      d.registerSensor(s, lampId);
      const n = Math.round(perHour(s) * hours);
      for (let i = 0; i < n; i++) {
        const ts = from + Math.floor(((i + 0.5) * hours * H) / n);
        d.presence(CAB, { v: 1, ts, sensorId: s, lampId, kind: 'pedestrian', count: 1 }, ts);
      }
    }
    for (let t = from; t <= from + hours * H; t += 5 * MIN) out.push(...d.tick(t));
    return out;
  }

  it('fires on a sensor that never triggers while its neighbours see traffic', () => {
    const d = detectorSet(sensorLamps);
    const fs = traffic(d, evening, 2, (s) => (s === 'S-L-6' ? 0 : 30));
    const hits = active(fs, 'sensor_stuck');
    expect(hits.length).toBeGreaterThan(0);
    expect(new Set(hits.map((f) => f.subject))).toEqual(new Set(['S-L-6']));
  });

  it('fires on a sensor that always triggers', () => {
    const d = detectorSet(sensorLamps);
    const fs = traffic(d, evening, 2, (s) => (s === 'S-L-4' ? 1800 : 30));
    expect(new Set(active(fs, 'sensor_stuck').map((f) => f.subject))).toEqual(new Set(['S-L-4']));
  });

  it('does not fire on healthy traffic, nor on a silent sensor when the whole street is quiet', () => {
    const d = detectorSet(sensorLamps);
    expect(active(traffic(d, evening, 3, () => 25), 'sensor_stuck')).toEqual([]);
    const d2 = detectorSet(sensorLamps);
    expect(active(traffic(d2, evening, 3, (s) => (s === 'S-L-6' ? 0 : 1)), 'sensor_stuck')).toEqual([]);
  });
});
