import Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { LucioleError } from '../core/errors.js';
import type { FaultCode } from '../protocol/index.js';
import { SeqRangeSet } from './seq-ranges.js';
import type {
  GroupRollup,
  HourRollup,
  LampEnergy,
  LampSample,
  PresenceEvent,
  PresenceRecord,
  RollupQuery,
  TelemetryRecord,
  TelemetryStore,
  WriteResult,
} from './stores.js';

/**
 * The embedded telemetry store: one SQLite file, for a town that needs no InfluxDB.
 *
 * Durability: WAL with synchronous=FULL, one transaction per `writeTelemetry` call; once its
 * promise resolves the batch survives kill -9 and power loss, which is what lets the controller
 * send a `receipt` and the gateway drop the messages from its outbox.
 *
 * Writes run on a worker thread by default (`writer: 'thread'`): better-sqlite3 is synchronous,
 * and a commit with its fsync took up to 140 ms on a loaded machine, during which the controller
 * relayed no presence and acknowledged nothing. The main thread still decides (which messages
 * are new, each sample's delta and gap) with its own read connection, and hands the worker the
 * message rows' statements plus the samples as typed arrays; the worker makes the sample rows and
 * roll-up upserts from those (`samplesStatements`) and runs it all in one transaction.
 * `writer: 'inline'` runs the same on the main thread.
 *
 * Pipelined writes: a `writeTelemetry` call is prepared at once, even while earlier writes are
 * still committing, so the main thread's work overlaps the writer's (at the ingest ceiling they
 * alternated, each idle half the time). It decides against what is committed plus what is in
 * flight: each lamp's latest sample is kept as the in-flight writes will leave it, and a message
 * already in a write in flight counts as a duplicate. So a write depends on the ones before it,
 * and the writer runs them in order: when one fails, every later write prepared in the same
 * *epoch* is refused unrun (their promises reject; the callers retry), the in-memory state is
 * dropped and reloaded from the database, and writes prepared from then on start a new epoch.
 * A duplicate found in flight therefore resolves only once the write holding it has committed.
 *
 * Exactly once: a message row is `INSERT OR IGNORE`d on (cabinet_id, seq); its lamp samples are
 * written only when that row was new.
 *
 * Packed layout: a message's lamp samples are one `sample_sets` row (cabinet, ts, and the lamps as
 * a JSON array of `PackedSample`), indexed by (cabinet_id, ts) and (ts), not one row and one index
 * entry per lamp: the per-lamp B-tree inserts were what held the ingest ceiling (issue 8).
 * `lamp_cabinets` lists which cabinets' rows ever held a lamp (a lamp history reads only those),
 * and `lamp_samples` is a view with the former columns, for people who query the file.
 *
 * `delta_wh`, the energy a lamp used since its previous sample, is computed at write time from
 * the cumulative counter, against the latest stored sample of that lamp (held in memory, loaded
 * the first time a lamp is seen after open from its newest hourly roll-up, which keeps the
 * newest sample's ts and counter, and outlives raw retention):
 *   - first sample ever of a lamp: delta 0 (nothing to compare with);
 *   - counter lower than the previous one (driver replaced, counter reset): delta = the new
 *     counter value, the energy used since the reset;
 *   - sample not newer than the latest known one (a late replay from a gateway's outbox):
 *     delta 0, and the latest known sample is not moved back. The energy of that period is
 *     already inside the delta of the newer sample, so nothing is counted twice or lost;
 *   - otherwise: new counter − previous counter.
 * So the sum of delta_wh over a window is the lamp's consumption, reset-aware, when messages
 * arrive in time order. `energyByLamp` does not sum it: it applies the same rule at query time,
 * each sample against the one just before it in time, so that the answer does not depend on the
 * arrival order (late replays, a lamp's first message arriving after later ones) and is the
 * InfluxDB stores' answer too (the telemetry contract suite checks both). delta_wh stays, for
 * existing readers.
 *
 * Hourly roll-ups (energy reports, issue 5): each write also adds its samples, in the same
 * transaction, to `lamp_hours` (per lamp and UTC hour) and `cabinet_hours` (per cabinet and hour):
 * delta_wh, the part of it read after an interruption (gap_wh: more than 1.5 periods since the
 * lamp's previous sample), the sample count, level × period and the lit time. Both are multi-row
 * upserts of the batch's sums, never a statement per lamp. Reports read them, not raw samples;
 * `prune` leaves them (they are the long-term record).
 *
 * Retention: `prune(before)` deletes raw rows older than `before`. So that a pruned seq replayed
 * later is not stored a second time, the highest pruned seq of each cabinet is kept as a floor:
 * a seq at or below it counts as a duplicate (final) and `storedSeqRanges` includes [0, floor].
 */

export interface SqliteTelemetryStoreOptions {
  file: string;
  /** How long raw samples are meant to be kept, days (default 90); `retentionCutoff` uses it. */
  rawRetentionDays?: number;
  /** Where write transactions run (default `thread`: a worker thread, off the event loop). */
  writer?: 'thread' | 'inline';
}

/** One statement of a write transaction. */
interface SqlOp {
  sql: string;
  params: SqlValue[];
}

/**
 * A write's lamp samples, as the main thread hands them to the writer: numbers in typed arrays
 * (moved, not copied, to the writer thread), so that building the `sample_sets` JSON and the
 * roll-up sums, and copying their values across, happen off the event loop.
 */
interface PackedSamples {
  /** Per message holding lamps: its cabinet. */
  cabinets: string[];
  /** Per such message: ts, periodS, number of lamps. */
  messages: Float64Array<ArrayBuffer>;
  /** Per lamp sample, in message order. */
  ids: string[];
  /** Per lamp sample: level, powerW, energyWh, delta_wh, gap (1: more than 1.5 periods since the lamp's previous sample). */
  values: Float64Array<ArrayBuffer>;
  /** The samples with a fault: [index in `ids`, code], in index order. */
  faults: Array<[number, string]>;
}

/**
 * Makes the statements that store `PackedSamples`: the `sample_sets` rows and the hourly roll-up
 * upserts (multi-row, never a statement per lamp). Runs in the writer thread, so it is shipped
 * as source and uses nothing outside its own body.
 */
function samplesStatements(): (p: PackedSamples) => Array<{ sql: string; params: Array<string | number | null> }> {
  const HOUR = 3_600_000;
  // Rows per multi-row INSERT: 500 × 10 = 5,000 variables at most, far under SQLite's 32,766.
  const CHUNK = 500;
  const SUMS =
    'energy_wh = energy_wh + excluded.energy_wh, gap_wh = gap_wh + excluded.gap_wh, samples = samples + excluded.samples, level_s = level_s + excluded.level_s, on_s = on_s + excluded.on_s';
  const tables = {
    sets: { head: 'INSERT INTO sample_sets (cabinet_id, ts, samples) VALUES ', width: 3, tail: '' },
    lampHours: {
      head: 'INSERT INTO lamp_hours (lamp_id, hour, cabinet_id, energy_wh, gap_wh, samples, level_s, on_s, last_ts, last_energy_wh) VALUES ',
      width: 10,
      // The newest sample of the hour wins (every right-hand side reads the row before the update).
      tail: ` ON CONFLICT(lamp_id, hour) DO UPDATE SET ${SUMS}, cabinet_id = excluded.cabinet_id,
        last_energy_wh = CASE WHEN last_ts IS NULL OR excluded.last_ts > last_ts THEN excluded.last_energy_wh ELSE last_energy_wh END,
        last_ts = CASE WHEN last_ts IS NULL OR excluded.last_ts > last_ts THEN excluded.last_ts ELSE last_ts END`,
    },
    cabinetHours: {
      head: 'INSERT INTO cabinet_hours (hour, cabinet_id, energy_wh, gap_wh, samples, level_s, on_s) VALUES ',
      width: 7,
      tail: ` ON CONFLICT(hour, cabinet_id) DO UPDATE SET ${SUMS}`,
    },
  };
  type Table = (typeof tables)[keyof typeof tables];
  type Value = string | number | null;
  interface Sums {
    id: string;
    hour: number;
    cabinetId: string;
    energyWh: number;
    gapWh: number;
    samples: number;
    levelS: number;
    onS: number;
    lastTs: number;
    lastEnergyWh: number;
  }
  const sqlByRows = new Map<string, string>();
  const chunked = (out: Array<{ sql: string; params: Value[] }>, t: Table, values: Value[]): void => {
    const rows = values.length / t.width;
    for (let start = 0; start < rows; start += CHUNK) {
      const count = Math.min(CHUNK, rows - start);
      const key = `${t.head}${count}`;
      let sql = sqlByRows.get(key);
      if (sql === undefined) {
        const tuple = `(${new Array<string>(t.width).fill('?').join(',')})`;
        sql = `${t.head}${new Array<string>(count).fill(tuple).join(',')}${t.tail}`;
        sqlByRows.set(key, sql);
      }
      out.push({ sql, params: start === 0 && count === rows ? values : values.slice(start * t.width, (start + count) * t.width) });
    }
  };
  /** Sums by hour, then lamp or cabinet id. */
  const rowOf = (byHour: Map<number, Map<string, Sums>>, id: string, hour: number, cabinetId: string, ts: number, energyWh: number): Sums => {
    let ids = byHour.get(hour);
    if (!ids) byHour.set(hour, (ids = new Map()));
    let h = ids.get(id);
    if (!h) ids.set(id, (h = { id, hour, cabinetId, energyWh: 0, gapWh: 0, samples: 0, levelS: 0, onS: 0, lastTs: ts, lastEnergyWh: energyWh }));
    return h;
  };
  const add = (h: Sums, delta: number, gap: boolean, level: number, periodS: number): void => {
    h.energyWh += delta;
    if (gap) h.gapWh += delta;
    h.samples++;
    h.levelS += level * periodS;
    if (level > 0) h.onS += periodS;
  };
  return (p) => {
    const out: Array<{ sql: string; params: Value[] }> = [];
    const sets: Value[] = [];
    const lampHours = new Map<number, Map<string, Sums>>();
    const cabinetHours = new Map<number, Map<string, Sums>>();
    const v = p.values;
    let i = 0;
    let nextFault = 0;
    for (let m = 0; m < p.cabinets.length; m++) {
      const cabinetId = p.cabinets[m]!;
      const ts = p.messages[m * 3]!;
      const periodS = p.messages[m * 3 + 1]!;
      const count = p.messages[m * 3 + 2]!;
      const hour = Math.floor(ts / HOUR) * HOUR;
      const cab = rowOf(cabinetHours, cabinetId, hour, cabinetId, ts, 0);
      const rows: unknown[] = new Array(count);
      for (let k = 0; k < count; k++, i++) {
        const id = p.ids[i]!;
        const level = v[i * 5]!;
        const energyWh = v[i * 5 + 2]!;
        const delta = v[i * 5 + 3]!;
        const gap = v[i * 5 + 4] === 1;
        let fault: string | null = null;
        if (nextFault < p.faults.length && p.faults[nextFault]![0] === i) fault = p.faults[nextFault++]![1];
        rows[k] = [id, level, v[i * 5 + 1], energyWh, delta, fault];
        const h = rowOf(lampHours, id, hour, cabinetId, ts, energyWh);
        h.cabinetId = cabinetId;
        if (ts > h.lastTs) {
          h.lastTs = ts;
          h.lastEnergyWh = energyWh;
        }
        add(h, delta, gap, level, periodS);
        add(cab, delta, gap, level, periodS);
      }
      sets.push(cabinetId, ts, JSON.stringify(rows));
    }
    chunked(out, tables.sets, sets);
    const lampValues: Value[] = [];
    for (const ids of lampHours.values()) {
      for (const h of ids.values()) lampValues.push(h.id, h.hour, h.cabinetId, h.energyWh, h.gapWh, h.samples, h.levelS, h.onS, h.lastTs, h.lastEnergyWh);
    }
    chunked(out, tables.lampHours, lampValues);
    const cabinetValues: Value[] = [];
    for (const ids of cabinetHours.values()) {
      for (const h of ids.values()) cabinetValues.push(h.hour, h.id, h.energyWh, h.gapWh, h.samples, h.levelS, h.onS);
    }
    chunked(out, tables.cabinetHours, cabinetValues);
    return out;
  };
}

/**
 * Runs a list of statements in one durable transaction, in call order; resolves with the changes
 * of each of `ops`. `epoch`: a write that depends on the writes before it; once a write of epoch e has
 * failed, any later write of an epoch ≤ e is refused unrun. `null`: independent, always run.
 */
interface SqlWriter {
  /** `samples`: more statements, made by `samplesStatements` in the writer, run after `ops`. */
  run(ops: SqlOp[], epoch: number | null, samples?: PackedSamples): Promise<number[]>;
  close(): Promise<void>;
}

const ABORTED = 'not run: an earlier write it depends on failed';

const PRAGMAS = ['journal_mode = WAL', 'synchronous = FULL', 'busy_timeout = 5000'];

/** The same transaction on the main thread's connection. */
class InlineWriter implements SqlWriter {
  private readonly statements = new Map<string, Database.Statement<SqlValue[]>>();
  private readonly tx: (ops: SqlOp[]) => number[];
  private failedEpoch = -1;
  private readonly samplesOps = samplesStatements();

  constructor(private readonly db: Database.Database) {
    this.tx = db.transaction((ops: SqlOp[]) => ops.map((op) => this.statement(op.sql).run(...op.params).changes));
  }

  async run(ops: SqlOp[], epoch: number | null, samples?: PackedSamples): Promise<number[]> {
    if (epoch !== null && epoch <= this.failedEpoch) throw new LucioleError('LUCIOLE_ERR_STORE_WRITE', `telemetry write ${ABORTED}`);
    try {
      return samples ? this.tx([...ops, ...this.samplesOps(samples)]).slice(0, ops.length) : this.tx(ops);
    } catch (e) {
      if (epoch !== null) this.failedEpoch = Math.max(this.failedEpoch, epoch);
      throw e;
    }
  }

  async close(): Promise<void> {
    this.statements.clear();
  }

  private statement(sql: string): Database.Statement<SqlValue[]> {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = this.db.prepare<SqlValue[]>(sql)));
    return st;
  }
}

/**
 * The body of the writer thread, shipped as source (`eval` worker) so that it runs the same from
 * the TypeScript sources under test and from dist: it uses nothing but its own scope.
 */
function writerThreadMain(): void {
  const wt = require('node:worker_threads');
  const Db = require(wt.workerData.driver);
  const db = new Db(wt.workerData.file);
  for (const p of wt.workerData.pragmas) db.pragma(p);
  const statements = new Map();
  const samplesOps = (globalThis as unknown as { samplesStatements: typeof samplesStatements }).samplesStatements();
  const tx = db.transaction(function (ops: Array<{ sql: string; params: unknown[] }>) {
    const changes = [];
    for (const op of ops) {
      let st = statements.get(op.sql);
      if (!st) {
        st = db.prepare(op.sql);
        statements.set(op.sql, st);
      }
      changes.push(st.run(...op.params).changes);
    }
    return changes;
  });
  let failedEpoch = -1;
  wt.parentPort.on('message', function (m: { id: number; epoch: number | null; ops?: Array<{ sql: string; params: unknown[] }>; samples?: PackedSamples }) {
    if (!m.ops) {
      db.close();
      wt.parentPort.close();
      return;
    }
    if (m.epoch !== null && m.epoch <= failedEpoch) {
      wt.parentPort.postMessage({ id: m.id, error: wt.workerData.aborted });
      return;
    }
    try {
      const changes = m.samples ? tx(m.ops.concat(samplesOps(m.samples))).slice(0, m.ops.length) : tx(m.ops);
      wt.parentPort.postMessage({ id: m.id, changes });
    } catch (e) {
      if (m.epoch !== null) failedEpoch = Math.max(failedEpoch, m.epoch);
      wt.parentPort.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
    }
  });
}
interface WriterReply {
  id: number;
  changes?: number[];
  error?: string;
}

/** Write transactions on a worker thread with its own connection: commits never block the event loop. */
class ThreadWriter implements SqlWriter {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(c: number[]): void; reject(e: Error): void }>();
  private dead: Error | null = null;
  private readonly exited: Promise<void>;

  constructor(private readonly worker: Worker) {
    worker.on('message', (m: WriterReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new LucioleError('LUCIOLE_ERR_STORE_WRITE', `telemetry write failed: ${m.error}`));
      else p.resolve(m.changes ?? []);
    });
    worker.on('error', (e) => this.fail(e));
    this.exited = new Promise((resolve) => {
      worker.once('exit', () => {
        this.fail(new LucioleError('LUCIOLE_ERR_STORE_CLOSED', 'telemetry writer thread exited'));
        resolve();
      });
    });
  }

  static start(file: string): ThreadWriter {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    // Bundlers may wrap named functions with a `__name` helper: give the eval'd source one.
    const source = `const __name = (f) => f; globalThis.samplesStatements = ${samplesStatements.toString()}; (${writerThreadMain.toString()})();`;
    return new ThreadWriter(new Worker(source, { eval: true, workerData: { file, driver, pragmas: PRAGMAS, aborted: ABORTED } }));
  }

  run(ops: SqlOp[], epoch: number | null, samples?: PackedSamples): Promise<number[]> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<number[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (samples) this.worker.postMessage({ id, epoch, ops, samples }, [samples.messages.buffer, samples.values.buffer]);
      else this.worker.postMessage({ id, epoch, ops });
    });
  }

  async close(): Promise<void> {
    if (!this.dead) this.worker.postMessage({ id: -1, epoch: null });
    await this.exited;
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE telemetry_messages (
    cabinet_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    period_s INTEGER NOT NULL,
    lamps INTEGER NOT NULL,
    cabinet_voltage_v REAL,
    cabinet_power_w REAL,
    cabinet_energy_wh REAL,
    PRIMARY KEY (cabinet_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX telemetry_messages_ts ON telemetry_messages(ts);
  CREATE TABLE lamp_samples (
    lamp_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    cabinet_id TEXT NOT NULL,
    level REAL NOT NULL,
    power_w REAL NOT NULL,
    energy_wh REAL NOT NULL,
    delta_wh REAL NOT NULL,
    fault TEXT
  );
  CREATE INDEX lamp_samples_lamp_ts ON lamp_samples(lamp_id, ts);
  CREATE INDEX lamp_samples_ts ON lamp_samples(ts);
  CREATE TABLE presence (
    ts INTEGER NOT NULL,
    cabinet_id TEXT NOT NULL,
    lamp_id TEXT NOT NULL,
    sensor_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    count INTEGER NOT NULL
  );
  CREATE INDEX presence_ts ON presence(ts);
  CREATE TABLE seq_floor (
    cabinet_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
  );
  `,
  // Hourly roll-ups for the energy reports (issue 5), backfilled from the samples already stored.
  `
  CREATE TABLE lamp_hours (
    lamp_id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    cabinet_id TEXT NOT NULL,
    energy_wh REAL NOT NULL,
    gap_wh REAL NOT NULL,
    samples INTEGER NOT NULL,
    level_s REAL NOT NULL,
    on_s REAL NOT NULL,
    PRIMARY KEY (lamp_id, hour)
  ) WITHOUT ROWID;
  CREATE TABLE cabinet_hours (
    hour INTEGER NOT NULL,
    cabinet_id TEXT NOT NULL,
    energy_wh REAL NOT NULL,
    gap_wh REAL NOT NULL,
    samples INTEGER NOT NULL,
    level_s REAL NOT NULL,
    on_s REAL NOT NULL,
    PRIMARY KEY (hour, cabinet_id)
  ) WITHOUT ROWID;
  INSERT INTO lamp_hours (lamp_id, hour, cabinet_id, energy_wh, gap_wh, samples, level_s, on_s)
  SELECT lamp_id, hour, MAX(cabinet_id), TOTAL(delta_wh),
         TOTAL(CASE WHEN dt > 1500 * period_s THEN delta_wh ELSE 0 END), COUNT(*),
         TOTAL(level * period_s), TOTAL(CASE WHEN level > 0 THEN period_s ELSE 0 END)
  FROM (
    SELECT s.lamp_id, (s.ts / 3600000) * 3600000 AS hour, s.cabinet_id, s.delta_wh, s.level,
           COALESCE((SELECT m.period_s FROM telemetry_messages m
                     WHERE m.cabinet_id = s.cabinet_id AND m.ts = s.ts LIMIT 1), 60) AS period_s,
           s.ts - LAG(s.ts) OVER (PARTITION BY s.lamp_id ORDER BY s.ts) AS dt
    FROM lamp_samples s
  )
  GROUP BY lamp_id, hour;
  INSERT INTO cabinet_hours (hour, cabinet_id, energy_wh, gap_wh, samples, level_s, on_s)
  SELECT hour, cabinet_id, TOTAL(energy_wh), TOTAL(gap_wh), SUM(samples), TOTAL(level_s), TOTAL(on_s)
  FROM lamp_hours GROUP BY hour, cabinet_id;
  `,
  // Ingest ceiling (issue 8): the (ts) index on lamp_samples cost a second index entry per
  // sample. Time windows now go lamp by lamp through (lamp_id, ts), over the list of lamps ever
  // stored (one row per lamp, written the first time a lamp is seen after open).
  `
  CREATE TABLE IF NOT EXISTS sample_lamps (lamp_id TEXT PRIMARY KEY) WITHOUT ROWID;
  INSERT OR IGNORE INTO sample_lamps (lamp_id) SELECT DISTINCT lamp_id FROM lamp_samples;
  DROP INDEX IF EXISTS lamp_samples_ts;
  `,
  // Ingest ceiling (issue 8), packed layout: one row per message holding its lamps, instead of one
  // row and one (lamp_id, ts) index entry per lamp sample, which kept the writer thread busy 84 % of
  // the time at 137,000 lamp-samples/s. Each lamp's latest counter (for the next delta after a
  // restart) moves to its newest hourly roll-up row; lamp_cabinets says which cabinets' rows hold a
  // lamp. `lamp_samples` stays readable as a view.
  `
  ALTER TABLE lamp_hours ADD COLUMN last_ts INTEGER;
  ALTER TABLE lamp_hours ADD COLUMN last_energy_wh REAL;
  UPDATE lamp_hours SET (last_ts, last_energy_wh) = (
    SELECT s.ts, s.energy_wh FROM lamp_samples s
    WHERE s.lamp_id = lamp_hours.lamp_id AND s.ts >= lamp_hours.hour AND s.ts < lamp_hours.hour + 3600000
    ORDER BY s.ts DESC LIMIT 1);
  CREATE TABLE sample_sets (
    cabinet_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    samples TEXT NOT NULL
  );
  INSERT INTO sample_sets (cabinet_id, ts, samples)
  SELECT cabinet_id, ts, json_group_array(json_array(lamp_id, level, power_w, energy_wh, delta_wh, fault))
  FROM lamp_samples GROUP BY cabinet_id, ts ORDER BY ts;
  CREATE INDEX sample_sets_cabinet_ts ON sample_sets(cabinet_id, ts);
  CREATE INDEX sample_sets_ts ON sample_sets(ts);
  CREATE TABLE lamp_cabinets (
    lamp_id TEXT NOT NULL,
    cabinet_id TEXT NOT NULL,
    PRIMARY KEY (lamp_id, cabinet_id)
  ) WITHOUT ROWID;
  INSERT INTO lamp_cabinets (lamp_id, cabinet_id) SELECT DISTINCT lamp_id, cabinet_id FROM lamp_samples;
  DROP TABLE lamp_samples;
  DROP TABLE sample_lamps;
  CREATE VIEW lamp_samples AS
  SELECT j.value ->> 0 AS lamp_id, s.ts AS ts, s.cabinet_id AS cabinet_id, j.value ->> 1 AS level,
         j.value ->> 2 AS power_w, j.value ->> 3 AS energy_wh, j.value ->> 4 AS delta_wh, j.value ->> 5 AS fault
  FROM sample_sets s, json_each(s.samples) j;
  `,
];

const MESSAGE_COLUMNS = ['cabinet_id', 'seq', 'ts', 'received_at', 'period_s', 'lamps', 'cabinet_voltage_v', 'cabinet_power_w', 'cabinet_energy_wh'];
/** 400 × 9 = 3,600 variables. */
const MESSAGE_CHUNK = 400;
const PUT_FLOOR = 'INSERT INTO seq_floor (cabinet_id, seq) VALUES (?, ?) ON CONFLICT(cabinet_id) DO UPDATE SET seq = excluded.seq';
const PRESENCE_COLUMNS = ['ts', 'cabinet_id', 'lamp_id', 'sensor_id', 'kind', 'count'];
const LAMP_CABINET_CHUNK = 500;
const PRESENCE_CHUNK = 500;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** A sample more than this many periods after its lamp's previous one closes a gap. */
const GAP_PERIODS = 1.5;
type SqlValue = string | number | null;

/** One lamp of a `sample_sets` row: [id, level %, power W, counter Wh, delta_wh, fault]. */
type PackedSample = [string, number, number, number, number, string | null];

interface Latest {
  ts: number;
  energyWh: number;
  /** The cabinet whose message held it: a lamp seen under another one is listed in lamp_cabinets. */
  cabinetId: string;
}

export class SqliteTelemetryStore implements TelemetryStore {
  /** Two: the next write is prepared while one commits (see "Pipelined writes"). */
  readonly maxWritesInFlight = 2;
  readonly rawRetentionDays: number;
  private readonly file: string;
  private db: Database.Database | null = null;
  private st: ReturnType<typeof prepareStatements> | null = null;
  /** Latest stored sample per lamp, for delta_wh. */
  private readonly latest = new Map<string, Latest>();
  private readonly floors = new Map<string, number>();
  /** Multi-row INSERT statements' SQL keyed by table and row count. */
  private readonly inserts = new Map<string, string>();
  private readonly writerKind: 'thread' | 'inline';
  private writer: SqlWriter | null = null;
  /** Settles once every write handed to the writer so far has (the writer runs them in order). */
  private tail: Promise<unknown> = Promise.resolve();
  /** A prune running: it decides from committed state only, so new writes wait for it. */
  private barrier: Promise<void> | null = null;
  /** See "Pipelined writes" above. */
  private epoch = 0;
  /** `cabinetId\nseq` of the messages in writes in flight, with the epoch of their write. */
  private readonly inFlight = new Map<string, number>();

  constructor(opts: SqliteTelemetryStoreOptions) {
    this.file = opts.file;
    this.rawRetentionDays = opts.rawRetentionDays ?? 90;
    this.writerKind = opts.writer ?? 'thread';
  }

  /** The `before` to pass to `prune` at `now` for the configured retention. */
  retentionCutoff(now: number): number {
    return now - this.rawRetentionDays * DAY_MS;
  }

  async open(): Promise<void> {
    if (this.db) return;
    const db = new Database(this.file);
    try {
      for (const p of PRAGMAS) db.pragma(p);
      migrate(db);
      this.st = prepareStatements(db);
      for (const row of this.st.floors.iterate()) this.floors.set(row.cabinet_id, row.seq);
      this.writer = this.writerKind === 'thread' ? ThreadWriter.start(this.file) : new InlineWriter(db);
    } catch (e) {
      db.close();
      this.st = null;
      throw e;
    }
    this.db = db;
    this.tail = Promise.resolve();
    this.barrier = null;
  }

  /** Hands a transaction to the writer, after every one handed before. */
  private submit(ops: SqlOp[], epoch: number | null, samples?: PackedSamples): Promise<number[]> {
    const run = this.writer!.run(ops, epoch, samples);
    this.tail = run.catch(() => undefined);
    return run;
  }

  async writeTelemetry(batch: readonly TelemetryRecord[]): Promise<WriteResult> {
    this.requireOpen();
    while (this.barrier) await this.barrier;
    this.requireOpen();
    const epoch = this.epoch;
    const { ops, samples, keys, staged, result } = this.prepareTelemetry(batch);
    for (const [id, l] of staged) this.latest.set(id, l);
    for (const k of keys) this.inFlight.set(k, epoch);
    try {
      // Also when nothing is new: a duplicate of a message in flight is final only once that
      // write commits, and this empty transaction is refused if it fails.
      await this.submit(ops, epoch, samples);
    } catch (e) {
      if (epoch === this.epoch) {
        this.epoch++;
        this.latest.clear();
      }
      throw e;
    } finally {
      for (const k of keys) if (this.inFlight.get(k) === epoch) this.inFlight.delete(k);
    }
    return result;
  }

  /**
   * Decides a write against committed and in-flight state; changes nothing. `staged`: each lamp's
   * latest sample once this write is in; `keys`: the messages it stores.
   */
  private prepareTelemetry(batch: readonly TelemetryRecord[]): {
    ops: SqlOp[];
    samples: PackedSamples | undefined;
    keys: string[];
    staged: Map<string, Latest>;
    result: WriteResult;
  } {
    const st = this.st!;
    // Latest-sample updates become visible only once the transaction commits.
    const staged = new Map<string, Latest>();
    const ops: SqlOp[] = [];
    const messages: SqlValue[] = [];
    const inBatch = new Set<string>();
    /** (lamp, cabinet) pairs not listed yet in lamp_cabinets, flat. */
    const lampCabinets: SqlValue[] = [];
    let lampsInBatch = 0;
    for (const rec of batch) lampsInBatch += rec.lamps.length;
    const packed: PackedSamples = {
      cabinets: [],
      messages: new Float64Array(batch.length * 3),
      ids: [],
      values: new Float64Array(lampsInBatch * 5),
      faults: [],
    };
    let stored = 0;
    let duplicates = 0;
    let samples = 0;
    for (const rec of batch) {
      const floor = this.floors.get(rec.cabinetId);
      const key = `${rec.cabinetId}\n${rec.seq}`;
      // In flight in this epoch: stored once that write commits (this one then resolves after it).
      // In flight in an older epoch: that write will be refused, so this one stores it.
      if (
        (floor !== undefined && rec.seq <= floor) ||
        inBatch.has(key) ||
        this.inFlight.get(key) === this.epoch ||
        st.hasMessage.get(rec.cabinetId, rec.seq) !== undefined
      ) {
        duplicates++;
        continue;
      }
      inBatch.add(key);
      messages.push(
        rec.cabinetId,
        rec.seq,
        rec.ts,
        rec.receivedAt,
        rec.periodS,
        rec.lamps.length,
        rec.cabinet?.voltageV ?? null,
        rec.cabinet?.powerW ?? null,
        rec.cabinet?.energyWh ?? null,
      );
      stored++;
      if (rec.lamps.length === 0) continue;
      this.loadLatest(rec.lamps, staged);
      const m = packed.cabinets.length;
      packed.cabinets.push(rec.cabinetId);
      packed.messages[m * 3] = rec.ts;
      packed.messages[m * 3 + 1] = rec.periodS;
      packed.messages[m * 3 + 2] = rec.lamps.length;
      const gapMs = GAP_PERIODS * rec.periodS * 1000;
      for (const lamp of rec.lamps) {
        const prev = staged.get(lamp.id) ?? this.latest.get(lamp.id);
        let delta = 0;
        let gap = 0;
        if (!prev || prev.cabinetId !== rec.cabinetId) lampCabinets.push(lamp.id, rec.cabinetId);
        if (!prev) {
          staged.set(lamp.id, { ts: rec.ts, energyWh: lamp.energyWh, cabinetId: rec.cabinetId });
        } else if (rec.ts > prev.ts) {
          delta = lamp.energyWh < prev.energyWh ? lamp.energyWh : lamp.energyWh - prev.energyWh;
          if (rec.ts - prev.ts > gapMs) gap = 1;
          staged.set(lamp.id, { ts: rec.ts, energyWh: lamp.energyWh, cabinetId: rec.cabinetId });
        }
        const i = packed.ids.length;
        packed.ids.push(lamp.id);
        const v = packed.values;
        v[i * 5] = lamp.level;
        v[i * 5 + 1] = lamp.powerW;
        v[i * 5 + 2] = lamp.energyWh;
        v[i * 5 + 3] = delta;
        v[i * 5 + 4] = gap;
        if (lamp.fault !== null) packed.faults.push([i, lamp.fault]);
      }
      samples += rec.lamps.length;
    }
    if (stored > 0) {
      this.insertOps(ops, 'telemetry_messages', MESSAGE_COLUMNS, MESSAGE_CHUNK, messages, 'ON CONFLICT DO NOTHING');
      this.insertOps(ops, 'lamp_cabinets', ['lamp_id', 'cabinet_id'], LAMP_CABINET_CHUNK, lampCabinets, 'ON CONFLICT DO NOTHING');
    }
    return { ops, samples: packed.ids.length > 0 ? packed : undefined, keys: [...inBatch], staged, result: { stored, duplicates, samples } };
  }

  async writePresence(batch: readonly PresenceRecord[]): Promise<void> {
    this.requireOpen();
    if (batch.length === 0) return;
    const values: SqlValue[] = new Array(batch.length * PRESENCE_COLUMNS.length);
    let k = 0;
    for (const p of batch) {
      values[k++] = p.ts;
      values[k++] = p.cabinetId;
      values[k++] = p.lampId;
      values[k++] = p.sensorId;
      values[k++] = p.kind;
      values[k++] = p.count;
    }
    const ops: SqlOp[] = [];
    this.insertOps(ops, 'presence', PRESENCE_COLUMNS, PRESENCE_CHUNK, values);
    while (this.barrier) await this.barrier;
    this.requireOpen();
    await this.submit(ops, null);
  }

  async storedSeqRanges(cabinetId: string): Promise<Array<[number, number]>> {
    this.requireOpen();
    const set = new SeqRangeSet();
    const floor = this.floors.get(cabinetId);
    if (floor !== undefined) set.addRange(0, floor);
    for (const seq of this.st!.seqs.iterate(cabinetId)) set.add(seq);
    return set.ranges();
  }

  /**
   * Each sample in the window against the one just before it in time, so that the answer does not
   * depend on arrival order. One pass over the message rows in time order from the start of the
   * hour holding `from`: rows before `from` only set each lamp's previous counter; a lamp with none
   * there takes the newest sample of its last roll-up hour before that (one index probe).
   */
  async energyByLamp(from: number, to: number): Promise<LampEnergy[]> {
    this.requireOpen();
    const st = this.st!;
    // SQLite binds no Infinity: an open window ends at the largest integer.
    const lo = clampTs(from);
    const hi = clampTs(to);
    if (!(hi > lo)) return [];
    const hourStart = Math.floor(lo / HOUR_MS) * HOUR_MS;
    const prev = new Map<string, number>();
    const acc = new Map<string, { energyWh: number; samples: number }>();
    for (const row of st.setsBetween.iterate(hourStart, hi)) {
      const inside = row.ts >= lo;
      for (const [id, , , energyWh] of JSON.parse(row.samples) as PackedSample[]) {
        if (!inside) {
          prev.set(id, energyWh);
          continue;
        }
        let a = acc.get(id);
        if (!a) {
          acc.set(id, (a = { energyWh: 0, samples: 0 }));
          if (!prev.has(id)) {
            const before = st.lastBeforeHour.get(id, hourStart);
            if (before !== undefined) prev.set(id, before);
          }
        }
        const p = prev.get(id);
        if (p !== undefined) a.energyWh += energyWh < p ? energyWh : energyWh - p;
        a.samples++;
        prev.set(id, energyWh);
      }
    }
    return [...acc.keys()].sort().map((lampId) => ({ lampId, ...acc.get(lampId)! }));
  }

  /**
   * The rows of the cabinets that ever sent this lamp, through (cabinet_id, ts). Each row's JSON is
   * searched for the lamp's element and only that element is parsed: a week of one lamp reads
   * 10,080 rows of 50 lamps, and parsing them whole (or `json_each` in SQL) took 170 ms.
   */
  async lampHistory(lampId: string, from: number, to: number): Promise<LampSample[]> {
    this.requireOpen();
    // Elements are `[id, …]` and the id is a JSON string: this is where one starts, and only there.
    const needle = `[${JSON.stringify(lampId)},`;
    const out: LampSample[] = [];
    for (const row of this.st!.historySets.iterate({ lamp: lampId, from: clampTs(from), to: clampTs(to) })) {
      for (const x of samplesOf(row.samples, needle, lampId)) {
        out.push({ ts: row.ts, level: x[1], powerW: x[2], energyWh: x[3], fault: x[5] as FaultCode | null });
      }
    }
    return out;
  }

  async rollupByHour(from: number, to: number): Promise<HourRollup[]> {
    this.requireOpen();
    return this.st!.byHour.all({ from: clampTs(from), to: clampTs(to) });
  }

  async rollupByGroup(query: RollupQuery): Promise<GroupRollup[]> {
    this.requireOpen();
    const params = {
      from: clampTs(query.from),
      to: clampTs(query.to),
      marked: JSON.stringify(query.markedHours ?? []),
    };
    if (query.by === 'cabinet') return this.st!.byCabinet.all(params);
    if (query.lampIds === undefined) return this.st!.byLamp.all(params);
    return this.st!.byLampIds.all({ ...params, ids: JSON.stringify([...new Set(query.lampIds)]) });
  }

  async presenceCounts(from: number, to: number): Promise<Array<{ lampId: string; count: number }>> {
    this.requireOpen();
    return this.st!.presenceCounts.all(from, to);
  }

  async presenceEvents(from: number, to: number): Promise<PresenceEvent[]> {
    this.requireOpen();
    return this.st!.presenceEvents.all({ from: clampTs(from), to: clampTs(to) });
  }

  async prune(before: number): Promise<number> {
    this.requireOpen();
    while (this.barrier) await this.barrier;
    let release!: () => void;
    this.barrier = new Promise((resolve) => (release = resolve));
    try {
      await this.tail;
      this.requireOpen();
      const st = this.st!;
      const newFloors = new Map<string, number>();
      const ops: SqlOp[] = [];
      for (const row of st.prunableFloors.all(before)) {
        const seq = Math.max(row.seq, this.floors.get(row.cabinet_id) ?? -1);
        ops.push({ sql: PUT_FLOOR, params: [row.cabinet_id, seq] });
        newFloors.set(row.cabinet_id, seq);
      }
      const floorOps = ops.length;
      ops.push({ sql: 'DELETE FROM telemetry_messages WHERE ts < ?', params: [before] });
      ops.push({ sql: 'DELETE FROM sample_sets WHERE ts < ?', params: [before] });
      ops.push({ sql: 'DELETE FROM presence WHERE ts < ?', params: [before] });
      const changes = await this.submit(ops, null);
      for (const [c, seq] of newFloors) this.floors.set(c, seq);
      return changes.slice(floorOps).reduce((a, b) => a + b, 0);
    } finally {
      this.barrier = null;
      release();
    }
  }

  /** Every write is committed before it resolves: nothing ever waits. */
  queueDepth(): number {
    return 0;
  }

  async close(): Promise<void> {
    if (!this.db) return;
    while (this.barrier) await this.barrier;
    await this.tail;
    const writer = this.writer;
    this.writer = null;
    await writer?.close();
    if (!this.db) return;
    this.db.close();
    this.db = null;
    this.st = null;
    this.inserts.clear();
    this.latest.clear();
    this.floors.clear();
    this.inFlight.clear();
  }

  private requireOpen(): Database.Database {
    if (!this.db) throw new LucioleError('LUCIOLE_ERR_STORE_CLOSED', 'telemetry store is not open');
    return this.db;
  }

  /**
   * Fills `staged` with the latest stored sample of each lamp not known yet, from its newest hourly
   * roll-up: one query for all.
   */
  private loadLatest(lamps: ReadonlyArray<{ id: string }>, staged: Map<string, Latest>): void {
    let unknown: string[] | null = null;
    for (const l of lamps) {
      if (!this.latest.has(l.id) && !staged.has(l.id)) (unknown ??= []).push(l.id);
    }
    if (!unknown) return;
    for (const row of this.st!.latestOf.iterate(JSON.stringify(unknown))) {
      staged.set(row.lampId, { ts: row.ts, energyWh: row.energyWh, cabinetId: row.cabinetId });
    }
  }

  /**
   * Appends to `ops` the multi-row INSERTs (up to `chunk` rows each) of a flat row-major `values`
   * array; `onConflict`: a clause appended to each.
   */
  private insertOps(ops: SqlOp[], table: string, columns: readonly string[], chunk: number, values: SqlValue[], onConflict = ''): void {
    const width = columns.length;
    const rows = values.length / width;
    for (let start = 0; start < rows; start += chunk) {
      const count = Math.min(chunk, rows - start);
      const key = `${table}:${count}`;
      let sql = this.inserts.get(key);
      if (sql === undefined) {
        const tuple = `(${new Array<string>(width).fill('?').join(',')})`;
        sql = `INSERT INTO ${table} (${columns.join(',')}) VALUES ${new Array<string>(count).fill(tuple).join(',')} ${onConflict}`;
        this.inserts.set(key, sql);
      }
      const params = start === 0 && count === rows ? values : values.slice(start * width, (start + count) * width);
      ops.push({ sql, params });
    }
  }
}

/** The elements of lamp `id` in a `sample_sets` row (`needle`: `[` + its JSON string + `,`). */
function samplesOf(json: string, needle: string, id: string): PackedSample[] {
  const found: PackedSample[] = [];
  for (let at = json.indexOf(needle); at >= 0; at = json.indexOf(needle, at + needle.length)) {
    try {
      found.push(JSON.parse(json.slice(at, json.indexOf(']', at) + 1)) as PackedSample);
    } catch {
      // A ']' inside a string of the element: read the row whole.
      return (JSON.parse(json) as PackedSample[]).filter((x) => x[0] === id);
    }
  }
  return found;
}

function clampTs(t: number): number {
  return Number.isFinite(t) ? t : t > 0 ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new LucioleError(
      'LUCIOLE_ERR_DB_VERSION',
      `telemetry database schema version ${current} is newer than this program (${MIGRATIONS.length})`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

function prepareStatements(db: Database.Database) {
  return {
    hasMessage: db.prepare<[string, number], number>('SELECT 1 FROM telemetry_messages WHERE cabinet_id = ? AND seq = ?').pluck(),
    // Latest stored sample of each lamp of a JSON array of ids, from its newest roll-up hour that
    // has one (hours pruned before migration 4 have none): one primary-key probe per lamp.
    latestOf: db.prepare<[string], { lampId: string; ts: number; energyWh: number; cabinetId: string }>(
      `SELECT j.value AS lampId, h.last_ts AS ts, h.last_energy_wh AS energyWh, h.cabinet_id AS cabinetId
       FROM json_each(?) j
       JOIN lamp_hours h ON h.lamp_id = j.value AND h.hour = (
         SELECT hour FROM lamp_hours WHERE lamp_id = j.value AND last_ts IS NOT NULL ORDER BY hour DESC LIMIT 1)`,
    ),
    seqs: db.prepare<[string], number>('SELECT seq FROM telemetry_messages WHERE cabinet_id = ? ORDER BY seq').pluck(),
    floors: db.prepare<[], { cabinet_id: string; seq: number }>('SELECT cabinet_id, seq FROM seq_floor'),
    prunableFloors: db.prepare<[number], { cabinet_id: string; seq: number }>(
      'SELECT cabinet_id, MAX(seq) AS seq FROM telemetry_messages WHERE ts < ? GROUP BY cabinet_id',
    ),
    // In time order; rowid breaks ties in arrival order.
    setsBetween: db.prepare<[number, number], { ts: number; samples: string }>(
      'SELECT ts, samples FROM sample_sets WHERE ts >= ? AND ts < ? ORDER BY ts, rowid',
    ),
    lastBeforeHour: db
      .prepare<[string, number], number>(
        'SELECT last_energy_wh FROM lamp_hours WHERE lamp_id = ? AND hour < ? AND last_ts IS NOT NULL ORDER BY hour DESC LIMIT 1',
      )
      .pluck(),
    historySets: db.prepare<{ lamp: string; from: number; to: number }, { ts: number; samples: string }>(
      `SELECT s.ts AS ts, s.samples AS samples
       FROM lamp_cabinets c
       JOIN sample_sets s ON s.cabinet_id = c.cabinet_id AND s.ts >= @from AND s.ts < @to
       WHERE c.lamp_id = @lamp
       ORDER BY s.ts, s.rowid`,
    ),
    // cabinet_hours is keyed (hour, cabinet_id): a window is one range scan of the primary key.
    byHour: db.prepare<{ from: number; to: number }, HourRollup>(
      `SELECT hour, TOTAL(energy_wh) AS energyWh, TOTAL(gap_wh) AS gapWh, SUM(samples) AS samples,
              TOTAL(level_s) AS levelS, TOTAL(on_s) AS onS
       FROM cabinet_hours WHERE hour >= @from AND hour < @to GROUP BY hour ORDER BY hour`,
    ),
    byCabinet: db.prepare<{ from: number; to: number; marked: string }, GroupRollup>(
      `WITH marked(hour) AS MATERIALIZED (SELECT value FROM json_each(@marked))
       SELECT cabinet_id AS key, TOTAL(energy_wh) AS energyWh, TOTAL(gap_wh) AS gapWh, SUM(samples) AS samples,
              TOTAL(level_s) AS levelS, TOTAL(on_s) AS onS,
              TOTAL(CASE WHEN hour IN marked THEN samples ELSE 0 END) AS markedSamples
       FROM cabinet_hours WHERE hour >= @from AND hour < @to GROUP BY cabinet_id ORDER BY cabinet_id`,
    ),
    byLamp: db.prepare<{ from: number; to: number; marked: string }, GroupRollup>(
      `WITH marked(hour) AS MATERIALIZED (SELECT value FROM json_each(@marked))
       SELECT lamp_id AS key, TOTAL(energy_wh) AS energyWh, TOTAL(gap_wh) AS gapWh, SUM(samples) AS samples,
              TOTAL(level_s) AS levelS, TOTAL(on_s) AS onS,
              TOTAL(CASE WHEN hour IN marked THEN samples ELSE 0 END) AS markedSamples
       FROM lamp_hours WHERE hour >= @from AND hour < @to GROUP BY lamp_id ORDER BY lamp_id`,
    ),
    // One primary-key range per listed lamp.
    byLampIds: db.prepare<{ from: number; to: number; marked: string; ids: string }, GroupRollup>(
      `WITH marked(hour) AS MATERIALIZED (SELECT value FROM json_each(@marked))
       SELECT h.lamp_id AS key, TOTAL(h.energy_wh) AS energyWh, TOTAL(h.gap_wh) AS gapWh, SUM(h.samples) AS samples,
              TOTAL(h.level_s) AS levelS, TOTAL(h.on_s) AS onS,
              TOTAL(CASE WHEN h.hour IN marked THEN h.samples ELSE 0 END) AS markedSamples
       FROM json_each(@ids) j JOIN lamp_hours h ON h.lamp_id = j.value AND h.hour >= @from AND h.hour < @to
       GROUP BY h.lamp_id ORDER BY h.lamp_id`,
    ),
    presenceCounts: db.prepare<[number, number], { lampId: string; count: number }>(
      `SELECT lamp_id AS lampId, SUM(count) AS count
       FROM presence WHERE ts >= ? AND ts < ? GROUP BY lamp_id ORDER BY lamp_id`,
    ),
    presenceEvents: db.prepare<{ from: number; to: number }, PresenceEvent>(
      `SELECT lamp_id AS lampId, ts, kind FROM presence WHERE ts >= @from AND ts < @to ORDER BY ts`,
    ),
  };
}
