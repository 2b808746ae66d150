import Database from 'better-sqlite3';
import { LucioleError } from '../core/errors.js';
import type { FaultCode } from '../protocol/index.js';
import { SeqRangeSet } from './seq-ranges.js';
import type {
  LampEnergy,
  LampSample,
  PresenceEvent,
  PresenceRecord,
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
 * Exactly once: a message row is `INSERT OR IGNORE`d on (cabinet_id, seq); its lamp samples are
 * written only when that row was new. Lamp rows go in with multi-row INSERT statements (one per
 * chunk of up to SAMPLE_CHUNK lamps), never one statement per lamp.
 *
 * `delta_wh`, the energy a lamp used since its previous sample, is computed at write time from
 * the cumulative counter, against the latest stored sample of that lamp (held in memory, loaded
 * from the database the first time a lamp is seen after open):
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
 * Retention: `prune(before)` deletes raw rows older than `before`. So that a pruned seq replayed
 * later is not stored a second time, the highest pruned seq of each cabinet is kept as a floor:
 * a seq at or below it counts as a duplicate (final) and `storedSeqRanges` includes [0, floor].
 */

export interface SqliteTelemetryStoreOptions {
  file: string;
  /** How long raw samples are meant to be kept, days (default 90); `retentionCutoff` uses it. */
  rawRetentionDays?: number;
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
];

const SAMPLE_COLUMNS = ['lamp_id', 'ts', 'cabinet_id', 'level', 'power_w', 'energy_wh', 'delta_wh', 'fault'];
const PRESENCE_COLUMNS = ['ts', 'cabinet_id', 'lamp_id', 'sensor_id', 'kind', 'count'];
/** Rows per multi-row INSERT: 500 × 8 = 4,000 variables, far under SQLite's 32,766. */
const SAMPLE_CHUNK = 500;
const PRESENCE_CHUNK = 500;
const DAY_MS = 86_400_000;

type SqlValue = string | number | null;

interface Latest {
  ts: number;
  energyWh: number;
}

export class SqliteTelemetryStore implements TelemetryStore {
  readonly rawRetentionDays: number;
  private readonly file: string;
  private db: Database.Database | null = null;
  private st: ReturnType<typeof prepareStatements> | null = null;
  /** Latest stored sample per lamp, for delta_wh. */
  private readonly latest = new Map<string, Latest>();
  private readonly floors = new Map<string, number>();
  /** Multi-row INSERT statements keyed by table and row count. */
  private readonly inserts = new Map<string, Database.Statement<SqlValue[]>>();

  constructor(opts: SqliteTelemetryStoreOptions) {
    this.file = opts.file;
    this.rawRetentionDays = opts.rawRetentionDays ?? 90;
  }

  /** The `before` to pass to `prune` at `now` for the configured retention. */
  retentionCutoff(now: number): number {
    return now - this.rawRetentionDays * DAY_MS;
  }

  async open(): Promise<void> {
    if (this.db) return;
    const db = new Database(this.file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      migrate(db);
      this.st = prepareStatements(db);
      for (const row of this.st.floors.iterate()) this.floors.set(row.cabinet_id, row.seq);
    } catch (e) {
      db.close();
      this.st = null;
      throw e;
    }
    this.db = db;
  }

  async writeTelemetry(batch: readonly TelemetryRecord[]): Promise<WriteResult> {
    const db = this.requireOpen();
    const st = this.st!;
    // Latest-sample updates become visible only once the transaction commits.
    const staged = new Map<string, Latest>();
    const result = db.transaction((): WriteResult => {
      let stored = 0;
      let duplicates = 0;
      let samples = 0;
      for (const rec of batch) {
        const floor = this.floors.get(rec.cabinetId);
        if (floor !== undefined && rec.seq <= floor) {
          duplicates++;
          continue;
        }
        const inserted = st.insertMessage.run(
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
        if (inserted.changes === 0) {
          duplicates++;
          continue;
        }
        stored++;
        if (rec.lamps.length === 0) continue;
        this.loadLatest(rec.lamps, staged);
        const values: SqlValue[] = new Array(rec.lamps.length * SAMPLE_COLUMNS.length);
        let k = 0;
        for (const lamp of rec.lamps) {
          const prev = staged.get(lamp.id) ?? this.latest.get(lamp.id);
          let delta = 0;
          if (!prev) {
            staged.set(lamp.id, { ts: rec.ts, energyWh: lamp.energyWh });
          } else if (rec.ts > prev.ts) {
            delta = lamp.energyWh < prev.energyWh ? lamp.energyWh : lamp.energyWh - prev.energyWh;
            staged.set(lamp.id, { ts: rec.ts, energyWh: lamp.energyWh });
          }
          values[k++] = lamp.id;
          values[k++] = rec.ts;
          values[k++] = rec.cabinetId;
          values[k++] = lamp.level;
          values[k++] = lamp.powerW;
          values[k++] = lamp.energyWh;
          values[k++] = delta;
          values[k++] = lamp.fault;
        }
        this.insertRows('lamp_samples', SAMPLE_COLUMNS, SAMPLE_CHUNK, values);
        samples += rec.lamps.length;
      }
      return { stored, duplicates, samples };
    })();
    for (const [id, l] of staged) this.latest.set(id, l);
    return result;
  }

  async writePresence(batch: readonly PresenceRecord[]): Promise<void> {
    const db = this.requireOpen();
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
    db.transaction(() => this.insertRows('presence', PRESENCE_COLUMNS, PRESENCE_CHUNK, values))();
  }

  async storedSeqRanges(cabinetId: string): Promise<Array<[number, number]>> {
    this.requireOpen();
    const set = new SeqRangeSet();
    const floor = this.floors.get(cabinetId);
    if (floor !== undefined) set.addRange(0, floor);
    for (const seq of this.st!.seqs.iterate(cabinetId)) set.add(seq);
    return set.ranges();
  }

  async energyByLamp(from: number, to: number): Promise<LampEnergy[]> {
    this.requireOpen();
    // SQLite binds no Infinity: an open window ends at the largest integer.
    return this.st!.energy.all({ from: clampTs(from), to: clampTs(to) });
  }

  async lampHistory(lampId: string, from: number, to: number): Promise<LampSample[]> {
    this.requireOpen();
    return this.st!.history.all(lampId, from, to).map((r) => ({ ...r, fault: r.fault as FaultCode | null }));
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
    const db = this.requireOpen();
    const st = this.st!;
    const newFloors = new Map<string, number>();
    const removed = db.transaction((): number => {
      for (const row of st.prunableFloors.all(before)) {
        const seq = Math.max(row.seq, this.floors.get(row.cabinet_id) ?? -1);
        st.putFloor.run(row.cabinet_id, seq);
        newFloors.set(row.cabinet_id, seq);
      }
      return (
        st.pruneMessages.run(before).changes +
        st.pruneSamples.run(before).changes +
        st.prunePresence.run(before).changes
      );
    })();
    for (const [c, seq] of newFloors) this.floors.set(c, seq);
    return removed;
  }

  /** Every write is committed before it resolves: nothing ever waits. */
  queueDepth(): number {
    return 0;
  }

  async close(): Promise<void> {
    if (!this.db) return;
    this.db.close();
    this.db = null;
    this.st = null;
    this.inserts.clear();
    this.latest.clear();
    this.floors.clear();
  }

  private requireOpen(): Database.Database {
    if (!this.db) throw new LucioleError('LUCIOLE_ERR_STORE_CLOSED', 'telemetry store is not open');
    return this.db;
  }

  /** Fills `staged` with the latest stored sample of each lamp not known yet: one query for all. */
  private loadLatest(lamps: ReadonlyArray<{ id: string }>, staged: Map<string, Latest>): void {
    let unknown: string[] | null = null;
    for (const l of lamps) {
      if (!this.latest.has(l.id) && !staged.has(l.id)) (unknown ??= []).push(l.id);
    }
    if (!unknown) return;
    for (const row of this.st!.latestOf.iterate(JSON.stringify(unknown))) {
      staged.set(row.lampId, { ts: row.ts, energyWh: row.energyWh });
    }
  }

  /** Inserts a flat row-major `values` array with cached multi-row INSERTs of up to `chunk` rows. */
  private insertRows(table: string, columns: readonly string[], chunk: number, values: SqlValue[]): void {
    const width = columns.length;
    const rows = values.length / width;
    for (let start = 0; start < rows; start += chunk) {
      const count = Math.min(chunk, rows - start);
      const key = `${table}:${count}`;
      let stmt = this.inserts.get(key);
      if (!stmt) {
        const tuple = `(${new Array<string>(width).fill('?').join(',')})`;
        stmt = this.db!.prepare<SqlValue[]>(
          `INSERT INTO ${table} (${columns.join(',')}) VALUES ${new Array<string>(count).fill(tuple).join(',')}`,
        );
        this.inserts.set(key, stmt);
      }
      const slice = start === 0 && count === rows ? values : values.slice(start * width, (start + count) * width);
      stmt.run(...slice);
    }
  }
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
    insertMessage: db.prepare<[string, number, number, number, number, number, SqlValue, SqlValue, SqlValue]>(
      `INSERT OR IGNORE INTO telemetry_messages
         (cabinet_id, seq, ts, received_at, period_s, lamps, cabinet_voltage_v, cabinet_power_w, cabinet_energy_wh)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // Latest sample of each lamp of a JSON array of ids: one index probe per lamp, one statement.
    latestOf: db.prepare<[string], { lampId: string; ts: number; energyWh: number }>(
      `SELECT j.value AS lampId, s.ts AS ts, s.energy_wh AS energyWh
       FROM json_each(?) j
       JOIN lamp_samples s ON s.rowid = (
         SELECT rowid FROM lamp_samples WHERE lamp_id = j.value ORDER BY ts DESC LIMIT 1)`,
    ),
    seqs: db.prepare<[string], number>('SELECT seq FROM telemetry_messages WHERE cabinet_id = ? ORDER BY seq').pluck(),
    floors: db.prepare<[], { cabinet_id: string; seq: number }>('SELECT cabinet_id, seq FROM seq_floor'),
    prunableFloors: db.prepare<[number], { cabinet_id: string; seq: number }>(
      'SELECT cabinet_id, MAX(seq) AS seq FROM telemetry_messages WHERE ts < ? GROUP BY cabinet_id',
    ),
    putFloor: db.prepare<[string, number]>(
      'INSERT INTO seq_floor (cabinet_id, seq) VALUES (?, ?) ON CONFLICT(cabinet_id) DO UPDATE SET seq = excluded.seq',
    ),
    pruneMessages: db.prepare<[number]>('DELETE FROM telemetry_messages WHERE ts < ?'),
    pruneSamples: db.prepare<[number]>('DELETE FROM lamp_samples WHERE ts < ?'),
    prunePresence: db.prepare<[number]>('DELETE FROM presence WHERE ts < ?'),
    // Each sample in the window against the one just before it in time (one index probe per lamp
    // for the sample before the window): the same answer whatever order the messages arrived in.
    energy: db.prepare<{ from: number; to: number }, LampEnergy>(
      `WITH inside AS (
         SELECT lamp_id, ts, energy_wh FROM lamp_samples WHERE ts >= @from AND ts < @to
       ), lamps AS (
         SELECT DISTINCT lamp_id FROM inside
       ), before AS (
         SELECT s.lamp_id, s.ts, s.energy_wh FROM lamps l
         JOIN lamp_samples s ON s.rowid = (
           SELECT rowid FROM lamp_samples WHERE lamp_id = l.lamp_id AND ts < @from ORDER BY ts DESC LIMIT 1)
       ), ordered AS (
         SELECT lamp_id, ts, energy_wh, LAG(energy_wh) OVER (PARTITION BY lamp_id ORDER BY ts) AS prev
         FROM (SELECT * FROM inside UNION ALL SELECT * FROM before)
       )
       SELECT lamp_id AS lampId,
              TOTAL(CASE WHEN prev IS NULL THEN 0 WHEN energy_wh < prev THEN energy_wh ELSE energy_wh - prev END) AS energyWh,
              COUNT(*) AS samples
       FROM ordered WHERE ts >= @from GROUP BY lamp_id ORDER BY lamp_id`,
    ),
    history: db.prepare<[string, number, number], Omit<LampSample, 'fault'> & { fault: string | null }>(
      `SELECT ts, level, power_w AS powerW, energy_wh AS energyWh, fault
       FROM lamp_samples WHERE lamp_id = ? AND ts >= ? AND ts < ? ORDER BY ts`,
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
