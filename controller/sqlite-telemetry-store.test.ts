import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { LampReading } from '../protocol/index.js';
import { SqliteTelemetryStore } from './sqlite-telemetry-store.js';
import { writeV1Database } from './sqlite-v1-fixture.js';
import type { TelemetryRecord } from './stores.js';

const T0 = 1_763_758_800_000;
const MIN = 60_000;

function lamp(id: string, energyWh: number, extra: Partial<LampReading> = {}): LampReading {
  return { id, level: 50, powerW: 20, energyWh, fault: null, ...extra };
}

function msg(cabinetId: string, seq: number, lamps: LampReading[], ts = T0 + seq * MIN): TelemetryRecord {
  return { cabinetId, seq, ts, periodS: 60, receivedAt: ts + 50, lamps };
}

describe('SqliteTelemetryStore', () => {
  let dir: string;
  let file: string;
  let store: SqliteTelemetryStore;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-telemetry-'));
    file = path.join(dir, 'telemetry.db');
    store = new SqliteTelemetryStore({ file });
    await store.open();
  });

  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores a message once however often it is written', async () => {
    const m = msg('C1', 1, [lamp('A', 100), lamp('B', 200)]);
    expect(await store.writeTelemetry([m])).toEqual({ stored: 1, duplicates: 0, samples: 2 });
    expect(await store.writeTelemetry([m, msg('C1', 2, [lamp('A', 110)])])).toEqual({
      stored: 1,
      duplicates: 1,
      samples: 1,
    });
    // Same seq from another cabinet is a different message.
    expect(await store.writeTelemetry([msg('C2', 1, [lamp('Z', 5)])])).toMatchObject({ stored: 1, duplicates: 0 });
    expect(await store.lampHistory('A', 0, Infinity)).toHaveLength(2);
    expect(await store.lampHistory('B', 0, Infinity)).toEqual([
      { ts: T0 + MIN, level: 50, powerW: 20, energyWh: 200, fault: null },
    ]);
  });

  it('returns merged stored seq ranges after gaps', async () => {
    const batch = [1, 2, 3, 5, 6, 9].map((s) => msg('C1', s, [lamp('A', s)]));
    await store.writeTelemetry(batch);
    await store.writeTelemetry([msg('C2', 4, [])]);
    expect(await store.storedSeqRanges('C1')).toEqual([
      [1, 3],
      [5, 6],
      [9, 9],
    ]);
    expect(await store.storedSeqRanges('C2')).toEqual([[4, 4]]);
    expect(await store.storedSeqRanges('nobody')).toEqual([]);
  });

  it('computes energy from counters, through a counter reset', async () => {
    // A: 1000 → 1010 → 1025 → reset to 3 → 8. B: 500 → 520.
    await store.writeTelemetry([
      msg('C1', 1, [lamp('A', 1000), lamp('B', 500)]),
      msg('C1', 2, [lamp('A', 1010), lamp('B', 520)]),
      msg('C1', 3, [lamp('A', 1025)]),
    ]);
    await store.writeTelemetry([msg('C1', 4, [lamp('A', 3, { fault: 'driver_failure' })]), msg('C1', 5, [lamp('A', 8)])]);
    expect(await store.energyByLamp(0, Infinity)).toEqual([
      { lampId: 'A', energyWh: 10 + 15 + 3 + 5, samples: 5 },
      { lampId: 'B', energyWh: 20, samples: 2 },
    ]);
    // Window [seq 3, seq 5): samples of seq 3 and 4 only.
    expect(await store.energyByLamp(T0 + 3 * MIN, T0 + 5 * MIN)).toEqual([{ lampId: 'A', energyWh: 15 + 3, samples: 2 }]);
    const history = await store.lampHistory('A', T0 + 4 * MIN, T0 + 5 * MIN);
    expect(history).toEqual([{ ts: T0 + 4 * MIN, level: 50, powerW: 20, energyWh: 3, fault: 'driver_failure' }]);
  });

  it('gives a late replayed sample delta 0 and keeps counting from the newest one', async () => {
    await store.writeTelemetry([msg('C1', 1, [lamp('A', 100)]), msg('C1', 3, [lamp('A', 130)])]);
    // seq 2 was stuck in the gateway outbox and arrives after seq 3.
    expect(await store.writeTelemetry([msg('C1', 2, [lamp('A', 115)])])).toMatchObject({ stored: 1, samples: 1 });
    await store.writeTelemetry([msg('C1', 4, [lamp('A', 140)])]);
    expect(await store.energyByLamp(0, Infinity)).toEqual([{ lampId: 'A', energyWh: 30 + 0 + 10, samples: 4 }]);
    const db = new Database(file, { readonly: true });
    const deltas = db.prepare('SELECT ts, delta_wh AS d FROM lamp_samples WHERE lamp_id = ? ORDER BY ts').all('A');
    db.close();
    expect(deltas).toEqual([
      { ts: T0 + MIN, d: 0 },
      { ts: T0 + 2 * MIN, d: 0 },
      { ts: T0 + 3 * MIN, d: 30 },
      { ts: T0 + 4 * MIN, d: 10 },
    ]);
  });

  it('keeps data, dedupe and energy continuity across close and re-open', async () => {
    await store.writeTelemetry([msg('C1', 1, [lamp('A', 100)]), msg('C1', 2, [lamp('A', 110)])]);
    await store.close();
    store = new SqliteTelemetryStore({ file });
    await store.open();
    expect(await store.storedSeqRanges('C1')).toEqual([[1, 2]]);
    expect(await store.writeTelemetry([msg('C1', 2, [lamp('A', 110)])])).toEqual({ stored: 0, duplicates: 1, samples: 0 });
    // The new instance loads A's latest counter (110) from the file: the delta is 15, not 0.
    await store.writeTelemetry([msg('C1', 3, [lamp('A', 125)])]);
    expect(await store.energyByLamp(0, Infinity)).toEqual([{ lampId: 'A', energyWh: 25, samples: 3 }]);
  });

  it('writes a large cabinet in chunks with exact counts', async () => {
    const lamps = Array.from({ length: 1234 }, (_, i) => lamp(`L${i}`, i));
    expect(await store.writeTelemetry([msg('C1', 1, lamps)])).toEqual({ stored: 1, duplicates: 0, samples: 1234 });
    const next = lamps.map((l) => ({ ...l, energyWh: l.energyWh + 2 }));
    await store.writeTelemetry([msg('C1', 2, next)]);
    const energy = await store.energyByLamp(0, Infinity);
    expect(energy).toHaveLength(1234);
    expect(energy.every((e) => e.energyWh === 2 && e.samples === 2)).toBe(true);
  });

  it('counts presence per lamp in a window', async () => {
    await store.writePresence([
      { cabinetId: 'C1', lampId: 'A', sensorId: 'S1', kind: 'pedestrian', count: 1, ts: T0 },
      { cabinetId: 'C1', lampId: 'A', sensorId: 'S1', kind: 'cyclist', count: 2, ts: T0 + 1000 },
      { cabinetId: 'C1', lampId: 'B', sensorId: 'S2', kind: 'vehicle', count: 1, ts: T0 + 2000 },
      { cabinetId: 'C1', lampId: 'B', sensorId: 'S2', kind: 'vehicle', count: 1, ts: T0 + 9000 },
    ]);
    expect(await store.presenceCounts(T0, T0 + 5000)).toEqual([
      { lampId: 'A', count: 3 },
      { lampId: 'B', count: 1 },
    ]);
  });

  it('prunes old raw rows and still treats pruned seqs as stored', async () => {
    await store.writeTelemetry([1, 2, 3, 4].map((s) => msg('C1', s, [lamp('A', s * 10)])));
    await store.writePresence([{ cabinetId: 'C1', lampId: 'A', sensorId: 'S1', kind: 'unknown', count: 1, ts: T0 }]);
    // Deletes seq 1 and 2 (2 messages + 2 samples) and the presence row.
    expect(await store.prune(T0 + 3 * MIN)).toBe(5);
    expect(await store.lampHistory('A', 0, Infinity)).toHaveLength(2);
    expect(await store.storedSeqRanges('C1')).toEqual([[0, 4]]);
    expect(await store.writeTelemetry([msg('C1', 1, [lamp('A', 10)])])).toEqual({ stored: 0, duplicates: 1, samples: 0 });
    await store.close();
    store = new SqliteTelemetryStore({ file, rawRetentionDays: 30 });
    await store.open();
    expect(await store.writeTelemetry([msg('C1', 2, [lamp('A', 20)])])).toMatchObject({ duplicates: 1 });
    expect(store.retentionCutoff(T0)).toBe(T0 - 30 * 86_400_000);
  });

  it('commits a write durably: a second connection sees it at once', async () => {
    await store.writeTelemetry([msg('C1', 7, [lamp('A', 1)])]);
    const db = new Database(file, { readonly: true });
    const row = db.prepare('SELECT COUNT(*) AS n FROM telemetry_messages').get() as { n: number };
    const mode = db.pragma('journal_mode', { simple: true });
    db.close();
    expect(row.n).toBe(1);
    expect(mode).toBe('wal');
  });

  it('rejects use before open', async () => {
    const closed = new SqliteTelemetryStore({ file: path.join(dir, 'other.db') });
    await expect(closed.energyByLamp(0, 1)).rejects.toMatchObject({ code: 'LUCIOLE_ERR_STORE_CLOSED' });
  });

  it('thread and inline writers store the same, and only the thread writer lets the event loop run during a write', async () => {
    const big = Array.from({ length: 200 }, (_, m) =>
      msg(`C${m % 20}`, Math.floor(m / 20) + 1, Array.from({ length: 50 }, (_, l) => lamp(`L${m % 20}-${l}`, 1000 + m * 10 + l))),
    );
    const inline = new SqliteTelemetryStore({ file: path.join(dir, 'inline.db'), writer: 'inline' });
    await inline.open();
    try {
      const answers = [];
      for (const s of [store, inline]) {
        let ticks = 0;
        let spinning = true;
        const spin = (): void => {
          if (!spinning) return;
          ticks++;
          setImmediate(spin);
        };
        setImmediate(spin);
        const result = await s.writeTelemetry([...big, big[0]!]);
        spinning = false;
        answers.push({
          result,
          ticks,
          history: await s.lampHistory('L3-7', 0, Infinity),
          energy: await s.energyByLamp(0, Infinity),
          hours: await s.rollupByHour(0, Infinity),
          seqs: await s.storedSeqRanges('C5'),
        });
      }
      const [thread, same] = answers;
      expect(thread!.result).toEqual({ stored: 200, duplicates: 1, samples: 10_000 });
      expect(same!.result).toEqual(thread!.result);
      expect(same!.history).toEqual(thread!.history);
      expect(same!.energy).toEqual(thread!.energy);
      expect(same!.hours).toEqual(thread!.hours);
      expect(same!.seqs).toEqual(thread!.seqs);
      expect(thread!.history).toHaveLength(10);
      // The inline commit holds the event loop; the worker's does not.
      expect(same!.ticks).toBe(0);
      expect(thread!.ticks).toBeGreaterThan(0);
    } finally {
      await inline.close();
    }
  });

  it('serialises concurrent writes: a duplicate across two calls in flight is stored once', async () => {
    const m = msg('C1', 3, [lamp('A', 5)]);
    const [a, b] = await Promise.all([store.writeTelemetry([m]), store.writeTelemetry([m])]);
    expect([a, b]).toEqual([
      { stored: 1, duplicates: 0, samples: 1 },
      { stored: 0, duplicates: 1, samples: 0 },
    ]);
  });

  for (const writer of ['thread', 'inline'] as const) {
    describe(`pipelined writes (${writer} writer)`, () => {
      let piped: SqliteTelemetryStore;
      let pipedFile: string;
      beforeEach(async () => {
        pipedFile = path.join(dir, `piped-${writer}.db`);
        piped = new SqliteTelemetryStore({ file: pipedFile, writer });
        await piped.open();
      });
      afterEach(async () => {
        await piped.close();
      });
      /** Every insert of cabinet BOOM fails, as a full disk would, until the trigger is dropped. */
      const failBoom = (on: boolean): void => {
        const db = new Database(pipedFile);
        db.exec(
          on
            ? `CREATE TRIGGER boom BEFORE INSERT ON telemetry_messages WHEN NEW.cabinet_id = 'BOOM' BEGIN SELECT RAISE(ABORT, 'disk full'); END;`
            : 'DROP TRIGGER boom',
        );
        db.close();
      };

      it('a write prepared on top of a failed one is refused unrun, and the state comes back from the file', async () => {
        await piped.writeTelemetry([msg('C1', 1, [lamp('A', 100)])]);
        failBoom(true);
        // Not awaited: the second is prepared while the first is in flight, against A = 110.
        const first = piped.writeTelemetry([msg('BOOM', 1, []), msg('C1', 2, [lamp('A', 110)])]);
        const second = piped.writeTelemetry([msg('C1', 3, [lamp('A', 130)])]);
        await expect(first).rejects.toThrow(/disk full/);
        await expect(second).rejects.toThrow(/earlier write it depends on failed/);
        failBoom(false);
        // What the gateway sends again, and one write prepared after the failure.
        expect(await piped.writeTelemetry([msg('C1', 2, [lamp('A', 110)]), msg('C1', 3, [lamp('A', 130)])])).toEqual({ stored: 2, duplicates: 0, samples: 2 });
        const view = new Database(pipedFile, { readonly: true });
        const deltas = view.prepare('SELECT delta_wh FROM lamp_samples WHERE lamp_id = ? ORDER BY ts').pluck().all('A');
        view.close();
        expect(deltas).toEqual([0, 10, 20]);
        expect(await piped.rollupByGroup({ from: 0, to: Infinity, by: 'lamp' })).toMatchObject([{ key: 'A', energyWh: 30, samples: 3 }]);
        expect(await piped.storedSeqRanges('C1')).toEqual([[1, 3]]);
        expect(await piped.storedSeqRanges('BOOM')).toEqual([]);
      });

      it('a duplicate of a message in flight resolves only after it commits, and fails with it', async () => {
        failBoom(true);
        const first = piped.writeTelemetry([msg('BOOM', 7, [lamp('X', 1)])]);
        const again = piped.writeTelemetry([msg('BOOM', 7, [lamp('X', 1)])]);
        await expect(first).rejects.toThrow(/disk full/);
        await expect(again).rejects.toThrow(/earlier write it depends on failed/);
        failBoom(false);
        const ok = piped.writeTelemetry([msg('BOOM', 7, [lamp('X', 1)])]);
        const dup = piped.writeTelemetry([msg('BOOM', 7, [lamp('X', 1)])]);
        expect(await Promise.all([ok, dup])).toEqual([
          { stored: 1, duplicates: 0, samples: 1 },
          { stored: 0, duplicates: 1, samples: 0 },
        ]);
        expect(await piped.lampHistory('X', 0, Infinity)).toHaveLength(1);
      });

      it('many writes in flight at once store exactly what serial writes would', async () => {
        const writes = Array.from({ length: 40 }, (_, k) => piped.writeTelemetry([msg('C1', k + 1, [lamp('A', 100 + k * 3), lamp('B', 50 + k)])]));
        // One of them repeated while the first copy is in flight.
        writes.push(piped.writeTelemetry([msg('C1', 5, [lamp('A', 112), lamp('B', 54)])]));
        const results = await Promise.all(writes);
        expect(results.reduce((n, r) => n + r.stored, 0)).toBe(40);
        expect(results.at(-1)).toEqual({ stored: 0, duplicates: 1, samples: 0 });
        expect(await piped.rollupByGroup({ from: 0, to: Infinity, by: 'lamp' })).toMatchObject([
          { key: 'A', energyWh: 39 * 3, samples: 40 },
          { key: 'B', energyWh: 39, samples: 40 },
        ]);
        expect(await piped.prune(T0 + 11 * MIN)).toBe(20);
        expect(await piped.storedSeqRanges('C1')).toEqual([[0, 40]]);
      });
    });
  }

  it('migrates a database of the first release (one row per lamp sample) to the packed layout', async () => {
    await store.close();
    fs.rmSync(file);
    // The schema and rows as the first release wrote them (user_version 1).
    writeV1Database(
      file,
      [1, 2, 3].flatMap((q) => [
        { cabinetId: 'C1', seq: q, ts: T0 + q * MIN, lampId: 'A', level: 50, energyWh: q * 10, deltaWh: q === 1 ? 0 : 10, fault: q === 3 ? 'lamp_failure' : null },
        { cabinetId: 'C1', seq: q, ts: T0 + q * MIN, lampId: 'B', level: 50, energyWh: q * 100, deltaWh: q === 1 ? 0 : 100 },
      ]),
    );
    store = new SqliteTelemetryStore({ file });
    await store.open();
    const check = new Database(file, { readonly: true });
    const version = check.pragma('user_version', { simple: true });
    const tables = check.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    const sets = check.prepare('SELECT COUNT(*) FROM sample_sets').pluck().get();
    check.close();
    expect(version).toBe(4);
    expect(tables).not.toContain('lamp_samples');
    expect(sets).toBe(3);
    expect(await store.lampHistory('A', 0, Infinity)).toEqual([
      { ts: T0 + MIN, level: 50, powerW: 25, energyWh: 10, fault: null },
      { ts: T0 + 2 * MIN, level: 50, powerW: 25, energyWh: 20, fault: null },
      { ts: T0 + 3 * MIN, level: 50, powerW: 25, energyWh: 30, fault: 'lamp_failure' },
    ]);
    expect(await store.energyByLamp(T0 + 2 * MIN, Infinity)).toEqual([
      { lampId: 'A', energyWh: 20, samples: 2 },
      { lampId: 'B', energyWh: 200, samples: 2 },
    ]);
    expect(await store.rollupByGroup({ from: 0, to: Infinity, by: 'lamp' })).toMatchObject([
      { key: 'A', energyWh: 20, samples: 3 },
      { key: 'B', energyWh: 200, samples: 3 },
    ]);
    // The latest counter comes back from the migrated roll-up: A's next delta is 45 − 30.
    await store.writeTelemetry([msg('C1', 4, [lamp('A', 45)])]);
    const view = new Database(file, { readonly: true });
    const deltas = view.prepare('SELECT ts, delta_wh AS d FROM lamp_samples WHERE lamp_id = ? ORDER BY ts').all('A');
    view.close();
    expect(deltas).toEqual([
      { ts: T0 + MIN, d: 0 },
      { ts: T0 + 2 * MIN, d: 10 },
      { ts: T0 + 3 * MIN, d: 10 },
      { ts: T0 + 4 * MIN, d: 15 },
    ]);
    expect(await store.storedSeqRanges('C1')).toEqual([[1, 4]]);
    // Seq 1 and 2 are older: 2 messages and their 2 sample rows.
    expect(await store.prune(T0 + 3 * MIN)).toBe(4);
    expect(await store.lampHistory('B', 0, Infinity)).toHaveLength(1);
    expect(await store.energyByLamp(0, Infinity)).toEqual([
      { lampId: 'A', energyWh: 15, samples: 2 },
      { lampId: 'B', energyWh: 0, samples: 1 },
    ]);
  });

  it('after a restart, a lamp whose samples were pruned counts its next delta from its newest roll-up hour', async () => {
    await store.writeTelemetry([msg('C1', 1, [lamp('A', 100)]), msg('C1', 2, [lamp('A', 130)])]);
    expect(await store.prune(T0 + 10 * MIN)).toBe(4);
    await store.close();
    store = new SqliteTelemetryStore({ file });
    await store.open();
    await store.writeTelemetry([msg('C1', 3, [lamp('A', 150)])]);
    const hours = await store.rollupByGroup({ from: 0, to: Infinity, by: 'lamp' });
    expect(hours).toMatchObject([{ key: 'A', energyWh: 30 + 20, samples: 3 }]);
    const view = new Database(file, { readonly: true });
    const deltas = view.prepare('SELECT delta_wh FROM lamp_samples').pluck().all();
    view.close();
    expect(deltas).toEqual([20]);
  });

  it('keeps the newest counter of an hour when a late sample of that hour arrives after it', async () => {
    await store.writeTelemetry([msg('C1', 1, [lamp('A', 100)]), msg('C1', 3, [lamp('A', 130)])]);
    await store.writeTelemetry([msg('C1', 2, [lamp('A', 115)])]);
    await store.close();
    store = new SqliteTelemetryStore({ file });
    await store.open();
    await store.writeTelemetry([msg('C1', 4, [lamp('A', 140)])]);
    const history = await store.lampHistory('A', 0, Infinity);
    expect(history.map((h) => h.energyWh)).toEqual([100, 115, 130, 140]);
    expect(await store.rollupByGroup({ from: 0, to: Infinity, by: 'lamp' })).toMatchObject([{ key: 'A', energyWh: 40, samples: 4 }]);
  });

  it("finds a lamp's elements in the packed rows exactly: no prefix match, odd strings read whole", async () => {
    await store.writeTelemetry([
      msg('C1', 1, [lamp('L1', 10), lamp('L10', 100), lamp('L100', 1000)]),
      // Not a protocol fault code: a string the element search cannot cut at its first ']'.
      msg('C1', 2, [lamp('L10', 101, { fault: 'x]y' as LampReading['fault'] }), lamp('L1', 11)]),
    ]);
    expect((await store.lampHistory('L1', 0, Infinity)).map((h) => h.energyWh)).toEqual([10, 11]);
    expect(await store.lampHistory('L10', 0, Infinity)).toEqual([
      { ts: T0 + MIN, level: 50, powerW: 20, energyWh: 100, fault: null },
      { ts: T0 + 2 * MIN, level: 50, powerW: 20, energyWh: 101, fault: 'x]y' },
    ]);
    expect(await store.lampHistory('L', 0, Infinity)).toEqual([]);
  });

  it('finds the history of a lamp that moved to another cabinet in both cabinets', async () => {
    await store.writeTelemetry([msg('C1', 1, [lamp('A', 10), lamp('B', 1)]), msg('C2', 1, [lamp('A', 25)], T0 + 2 * MIN)]);
    expect((await store.lampHistory('A', 0, Infinity)).map((h) => h.energyWh)).toEqual([10, 25]);
    expect(await store.energyByLamp(0, Infinity)).toEqual([
      { lampId: 'A', energyWh: 15, samples: 2 },
      { lampId: 'B', energyWh: 0, samples: 1 },
    ]);
  });
});
