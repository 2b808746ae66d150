import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteTelemetryStore } from '../sqlite-telemetry-store.js';
import { writeV1Database } from '../sqlite-v1-fixture.js';
import type { TelemetryRecord } from '../stores.js';

/** The SQLite store's hourly roll-ups against its own raw answer (energyByLamp), on real files. */

const H = 3_600_000;
const MIN = 60_000;
const T0 = Date.UTC(2025, 10, 20, 17, 0);

const msg = (cabinetId: string, seq: number, ts: number, lamps: Array<[string, number, number]>): TelemetryRecord => ({
  cabinetId,
  seq,
  ts,
  periodS: 60,
  receivedAt: ts,
  lamps: lamps.map(([id, level, energyWh]) => ({ id, level, powerW: level / 2, energyWh, fault: null })),
});

describe('SQLite hourly roll-ups', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-rollups-'));
    file = path.join(dir, 'telemetry.db');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('sums each sample once, whatever the batches, duplicates and late replays; agrees with energyByLamp', async () => {
    const store = new SqliteTelemetryStore({ file });
    await store.open();
    const all: TelemetryRecord[] = [];
    for (let k = 0; k < 150; k++) all.push(msg('C1', k + 1, T0 + k * MIN, [['A', k % 3 === 0 ? 0 : 60, 100 + k * 0.5], ['B', 30, 50 + k * 0.25]]));
    // Out of order (message 40 arrives last: a replay from the outbox), with duplicates.
    const late = all[40]!;
    await store.writeTelemetry(all.slice(0, 40));
    await store.writeTelemetry([...all.slice(41, 100), all[5]!]);
    await store.writeTelemetry(all.slice(100));
    await store.writeTelemetry([late, all[120]!]);
    const hours = await store.rollupByHour(0, Infinity);
    expect(hours.map((h) => h.hour)).toEqual([T0, T0 + H, T0 + 2 * H]);
    expect(hours.reduce((s, h) => s + h.samples, 0)).toBe(300);
    const raw = await store.energyByLamp(0, Infinity);
    const rawTotal = raw.reduce((s, e) => s + e.energyWh, 0);
    expect(hours.reduce((s, h) => s + h.energyWh, 0)).toBeCloseTo(rawTotal, 9);
    const lamps = await store.rollupByGroup({ from: 0, to: Number.MAX_SAFE_INTEGER, by: 'lamp', markedHours: [T0 + H] });
    expect(lamps.map((l) => [l.key, l.samples, l.markedSamples])).toEqual([['A', 150, 60], ['B', 150, 60]]);
    const a = lamps[0]!;
    expect(a.energyWh).toBeCloseTo(raw.find((e) => e.lampId === 'A')!.energyWh, 9);
    // Level·time and lit time: A is off one sample in three.
    expect(a.onS).toBe(100 * 60);
    expect(a.levelS).toBe(100 * 60 * 60);
    const onlyB = await store.rollupByGroup({ from: T0 + H, to: T0 + 2 * H, by: 'lamp', lampIds: ['B', 'nope'] });
    expect(onlyB.map((l) => [l.key, l.samples])).toEqual([['B', 60]]);
    const cab = await store.rollupByGroup({ from: 0, to: Number.MAX_SAFE_INTEGER, by: 'cabinet' });
    expect(cab).toHaveLength(1);
    expect(cab[0]!.energyWh).toBeCloseTo(rawTotal, 9);
    // Message 41 arrived while 40 was still missing: its two minutes are flagged as read after an
    // interruption (the late 40 then reads nothing: its energy is already in 41's delta).
    expect(cab[0]!.gapWh).toBeCloseTo(2 * (0.5 + 0.25), 9);
    await store.close();
  });

  it('flags the energy read after an interruption as gap energy; a reset counts its new value', async () => {
    const store = new SqliteTelemetryStore({ file });
    await store.open();
    await store.writeTelemetry([
      msg('C1', 1, T0, [['A', 50, 10]]),
      msg('C1', 2, T0 + MIN, [['A', 50, 11]]),
      // 30 minutes silent, then the counter shows what was used meanwhile.
      msg('C1', 3, T0 + 31 * MIN, [['A', 50, 26]]),
      // Driver replaced: the counter restarts.
      msg('C1', 4, T0 + 32 * MIN, [['A', 50, 0.5]]),
    ]);
    const [h] = await store.rollupByHour(T0, T0 + H);
    expect(h).toMatchObject({ energyWh: 1 + 15 + 0.5, gapWh: 15, samples: 4 });
    await store.close();
  });

  it('backfills the roll-ups from samples stored before they existed', async () => {
    // A database at schema version 1 with samples in it: what an upgrade finds.
    writeV1Database(file, [
      { cabinetId: 'C1', seq: 1, ts: T0, lampId: 'A', level: 50, energyWh: 10, deltaWh: 0 },
      { cabinetId: 'C1', seq: 2, ts: T0 + MIN, lampId: 'A', level: 40, energyWh: 12, deltaWh: 2 },
      { cabinetId: 'C1', seq: 3, ts: T0 + 40 * MIN, lampId: 'A', level: 40, energyWh: 20, deltaWh: 8 },
    ]);
    const again = new SqliteTelemetryStore({ file });
    await again.open();
    const [h] = await again.rollupByHour(T0, T0 + H);
    expect(h).toEqual({ hour: T0, energyWh: 10, gapWh: 8, samples: 3, levelS: 130 * 60, onS: 180 });
    await again.close();
  });
});
