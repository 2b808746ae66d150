import { FieldType, InfluxDB, type ISchemaOptions } from 'influx';
import type { Clock } from '../../core/clock.js';
import { LucioleError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { presenceKindSchema, type FaultCode } from '../../protocol/index.js';
import { SeqRangeSet } from '../seq-ranges.js';
import type { LampEnergy, LampSample, PresenceEvent, TelemetryStore } from '../stores.js';
import { energyFromCounters, type CounterSeries } from './counter-energy.js';
import { influx1Sink } from './influx-http.js';
import type { LampZones } from './influx-points.js';
import { QueuedInfluxStore } from './queued-influx-store.js';
import type { WriteQueueOptions } from './write-queue.js';

/**
 * Telemetry in InfluxDB 1.x (tested against Debian's 1.6.7), data model in influx-points.ts.
 *
 * `open()` makes the database, two retention policies (`raw`, the default, kept
 * `rawRetentionDays`; `hourly`, kept `rollupRetentionDays`) and three continuous queries that
 * roll `lamp`, `cabinet` and `presence` up per hour into `hourly.lamp_hourly`,
 * `hourly.cabinet_hourly`, `hourly.presence_hourly` (RESAMPLE FOR 2h, so data up to ~2 h late is
 * still rolled up; `backfillRollups(from, to)` redoes any range, e.g. after a longer outage).
 * It needs the server: it refuses to start (LUCIOLE_ERR_STORAGE_UNAVAILABLE) when it is down.
 *
 * Writes go through the durable WriteQueue: `writeTelemetry` resolves once the batch is in
 * InfluxDB or fsynced into the spill directory, never while it is only in memory.
 *
 * Queries use the `influx` client (its schema below declares the integer fields, which the client
 * needs to write them without a field-type conflict; our own writes are line protocol with the
 * same types). Energy is computed here from the counters (counter-energy.ts).
 */

export interface InfluxDb1StoreOptions {
  url: string;
  database: string;
  username?: string | undefined;
  password?: string | undefined;
  /** Spill directory for the write queue, under the data dir. */
  spillDir: string;
  clock: Clock;
  logger: Logger;
  lampZones?: LampZones | undefined;
  rawRetentionDays?: number;
  rollupRetentionDays?: number;
  /** `storedSeqRanges` looks this far back. Default 7 days. */
  seqWindowMs?: number;
  /** `energyByLamp` looks this far before `from` for each lamp's previous counter. Default 31 days. */
  energyLookbackMs?: number;
  queue?: Partial<Omit<WriteQueueOptions, 'sink' | 'dir' | 'clock' | 'logger'>>;
}

export const RAW_RP = 'raw';
export const HOURLY_RP = 'hourly';
const DAY_MS = 86_400_000;

export const INFLUX1_SCHEMA: ISchemaOptions[] = [
  {
    measurement: 'lamp',
    tags: ['cabinet', 'lamp', 'zone'],
    fields: {
      level: FieldType.FLOAT,
      power_w: FieldType.FLOAT,
      energy_wh: FieldType.FLOAT,
      seq: FieldType.INTEGER,
      fault: FieldType.STRING,
    },
  },
  {
    measurement: 'cabinet',
    tags: ['cabinet'],
    fields: {
      seq: FieldType.INTEGER,
      lamps: FieldType.INTEGER,
      period_s: FieldType.INTEGER,
      voltage_v: FieldType.FLOAT,
      power_w: FieldType.FLOAT,
      energy_wh: FieldType.FLOAT,
    },
  },
  { measurement: 'presence', tags: ['cabinet', 'kind', 'lamp', 'sensor', 'zone'], fields: { count: FieldType.INTEGER } },
];

/** The hourly roll-ups: `SELECT … INTO` bodies, shared by the continuous queries and backfillRollups. */
function rollups(db: string): Array<{ name: string; select: string; from: string }> {
  const q = (rp: string, m: string): string => `"${db}"."${rp}"."${m}"`;
  return [
    {
      name: 'lamp_hourly',
      select:
        `SELECT mean(level) AS level, mean(power_w) AS power_w, first(energy_wh) AS energy_first_wh, ` +
        `last(energy_wh) AS energy_wh, count(energy_wh) AS samples INTO ${q(HOURLY_RP, 'lamp_hourly')}`,
      from: q(RAW_RP, 'lamp'),
    },
    {
      name: 'cabinet_hourly',
      select:
        `SELECT mean(power_w) AS power_w, mean(voltage_v) AS voltage_v, last(energy_wh) AS energy_wh, ` +
        `count(seq) AS messages INTO ${q(HOURLY_RP, 'cabinet_hourly')}`,
      from: q(RAW_RP, 'cabinet'),
    },
    {
      name: 'presence_hourly',
      select: `SELECT sum(count) AS count INTO ${q(HOURLY_RP, 'presence_hourly')}`,
      from: q(RAW_RP, 'presence'),
    },
  ];
}

interface RawSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

interface RawResult {
  series?: RawSeries[];
  error?: string;
  partial?: boolean;
}

export class InfluxDb1Store extends QueuedInfluxStore implements TelemetryStore {
  private readonly db: string;
  private readonly rawDays: number;
  private readonly rollupDays: number;
  private readonly seqWindowMs: number;
  private readonly lookbackMs: number;
  private influx: InfluxDB | null = null;

  constructor(private readonly opts: InfluxDb1StoreOptions) {
    super();
    this.db = opts.database;
    this.rawDays = opts.rawRetentionDays ?? 90;
    this.rollupDays = opts.rollupRetentionDays ?? 3650;
    this.seqWindowMs = opts.seqWindowMs ?? 7 * DAY_MS;
    this.lookbackMs = opts.energyLookbackMs ?? 31 * DAY_MS;
  }

  async open(): Promise<void> {
    if (this.influx) return;
    const u = new URL(this.opts.url);
    const influx = new InfluxDB({
      host: u.hostname,
      port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80,
      protocol: u.protocol === 'https:' ? 'https' : 'http',
      ...(u.pathname !== '/' ? { path: u.pathname.replace(/\/$/, '') } : {}),
      database: this.db,
      ...(this.opts.username ? { username: this.opts.username, password: this.opts.password ?? '' } : {}),
      schema: INFLUX1_SCHEMA,
      pool: { maxRetries: 0, requestTimeout: 30_000 },
    });
    try {
      await this.setUp(influx);
    } catch (err) {
      throw new LucioleError(
        'LUCIOLE_ERR_STORAGE_UNAVAILABLE',
        `InfluxDB 1.x at ${u.host} could not be set up: ${err instanceof Error ? err.message : String(err)}`,
        'influxUrl',
      );
    }
    await this.startWrites(
      {
        ...this.opts.queue,
        sink: influx1Sink({
          url: this.opts.url,
          database: this.db,
          retentionPolicy: RAW_RP,
          username: this.opts.username,
          password: this.opts.password,
        }),
        dir: this.opts.spillDir,
        clock: this.opts.clock,
        logger: this.opts.logger,
      },
      this.opts.lampZones,
    );
    this.influx = influx;
  }

  protected onClosed(): void {
    this.influx = null;
  }

  async storedSeqRanges(cabinetId: string): Promise<Array<[number, number]>> {
    const writer = this.requireWriter();
    const since = this.opts.clock.now() - this.seqWindowMs;
    const [res] = await this.query([
      `SELECT seq FROM ${this.raw('cabinet')} WHERE cabinet = ${str(cabinetId)} AND time >= ${ms(since)}`,
    ]);
    const found = new SeqRangeSet();
    for (const s of res?.series ?? []) {
      const col = s.columns.indexOf('seq');
      for (const row of s.values) {
        const v = row[col];
        if (typeof v === 'number' && Number.isInteger(v) && v >= 0) found.add(v);
      }
    }
    writer.remember(cabinetId, found);
    writer.addKnownSeqs(cabinetId, found);
    return found.ranges();
  }

  async energyByLamp(from: number, to: number): Promise<LampEnergy[]> {
    this.requireWriter();
    const statements = [`SELECT energy_wh FROM ${this.raw('lamp')} WHERE ${window(from, to)} GROUP BY lamp`];
    if (from > 0) {
      statements.push(
        `SELECT last(energy_wh) FROM ${this.raw('lamp')} WHERE ${window(Math.max(0, from - this.lookbackMs), from)} GROUP BY lamp`,
      );
    }
    const [inside, before] = await this.query(statements);
    const prev = new Map<string, number>();
    for (const s of before?.series ?? []) {
      const v = s.values[0]?.[1];
      if (s.tags?.lamp !== undefined && typeof v === 'number') prev.set(s.tags.lamp, v);
    }
    const series: CounterSeries[] = [];
    for (const s of inside?.series ?? []) {
      const lampId = s.tags?.lamp;
      if (lampId === undefined) continue;
      const col = s.columns.indexOf('energy_wh');
      series.push({ lampId, before: prev.get(lampId) ?? null, counters: s.values.map((r) => Number(r[col])) });
    }
    return energyFromCounters(series);
  }

  async lampHistory(lampId: string, from: number, to: number): Promise<LampSample[]> {
    this.requireWriter();
    const [res] = await this.query([
      `SELECT level, power_w, energy_wh, fault FROM ${this.raw('lamp')} WHERE lamp = ${str(lampId)} AND ${window(from, to)}`,
    ]);
    const s = res?.series?.[0];
    if (!s) return [];
    const c = columnsOf(s, ['time', 'level', 'power_w', 'energy_wh', 'fault']);
    return s.values.map((r) => ({
      ts: Number(r[c.time!]),
      level: Number(r[c.level!]),
      powerW: Number(r[c.power_w!]),
      energyWh: Number(r[c.energy_wh!]),
      fault: (c.fault === undefined ? null : (r[c.fault] ?? null)) as FaultCode | null,
    }));
  }

  async presenceCounts(from: number, to: number): Promise<Array<{ lampId: string; count: number }>> {
    this.requireWriter();
    const [res] = await this.query([`SELECT sum("count") FROM ${this.raw('presence')} WHERE ${window(from, to)} GROUP BY lamp`]);
    const out: Array<{ lampId: string; count: number }> = [];
    for (const s of res?.series ?? []) {
      const v = s.values[0]?.[1];
      if (s.tags?.lamp !== undefined && typeof v === 'number') out.push({ lampId: s.tags.lamp, count: v });
    }
    return out.sort((a, b) => (a.lampId < b.lampId ? -1 : a.lampId > b.lampId ? 1 : 0));
  }

  /** Each detection in the window, oldest first (the what-if replays them). */
  async presenceEvents(from: number, to: number): Promise<PresenceEvent[]> {
    this.requireWriter();
    const [res] = await this.query([`SELECT "count" FROM ${this.raw('presence')} WHERE ${window(from, to)} GROUP BY lamp, kind`]);
    const out: PresenceEvent[] = [];
    for (const s of res?.series ?? []) {
      const kind = presenceKindSchema.safeParse(s.tags?.kind);
      const lampId = s.tags?.lamp;
      // Points written by something else than Luciole, without a known kind: not a detection.
      if (!kind.success || !lampId) continue;
      const c = columnsOf(s, ['time']);
      for (const r of s.values) out.push({ lampId, ts: Number(r[c.time!]), kind: kind.data });
    }
    return out.sort(byTimeThenLamp);
  }

  /**
   * Deletes raw points older than `before` (the `raw` retention policy also does it on its own).
   * Returns messages + lamp samples + presence points removed, counted just before.
   */
  async prune(before: number): Promise<number> {
    this.requireWriter();
    const w = `time < ${ms(before)}`;
    const counts = await this.query([
      `SELECT count(seq) FROM ${this.raw('cabinet')} WHERE ${w}`,
      `SELECT count(energy_wh) FROM ${this.raw('lamp')} WHERE ${w}`,
      `SELECT count("count") FROM ${this.raw('presence')} WHERE ${w}`,
    ]);
    let removed = 0;
    for (const r of counts) removed += Number(r.series?.[0]?.values[0]?.[1] ?? 0);
    // DELETE takes no retention policy: the raw measurement names are not used by the roll-ups.
    await this.query([`DELETE FROM "cabinet" WHERE ${w}`, `DELETE FROM "lamp" WHERE ${w}`, `DELETE FROM "presence" WHERE ${w}`]);
    return removed;
  }

  /** Recomputes the hourly roll-ups for whole hours overlapping [from, to) (after an outage longer than the CQs' 2 h). */
  async backfillRollups(from: number, to: number): Promise<void> {
    this.requireWriter();
    const start = Math.floor(from / 3_600_000) * 3_600_000;
    const end = Math.ceil(to / 3_600_000) * 3_600_000;
    await this.query(
      rollups(this.db).map((r) => `${r.select} FROM ${r.from} WHERE ${window(start, end)} GROUP BY time(1h), *`),
    );
  }

  private raw(measurement: string): string {
    return `"${this.db}"."${RAW_RP}"."${measurement}"`;
  }

  private async setUp(influx: InfluxDB): Promise<void> {
    await influx.createDatabase(this.db);
    const existing = new Map((await influx.showRetentionPolicies(this.db)).map((p) => [p.name, p]));
    const policies = [
      { name: RAW_RP, duration: `${this.rawDays}d`, isDefault: true },
      { name: HOURLY_RP, duration: `${this.rollupDays}d`, isDefault: false },
    ];
    for (const p of policies) {
      const options = { database: this.db, duration: p.duration, replication: 1, isDefault: p.isDefault };
      const have = existing.get(p.name);
      if (!have) await influx.createRetentionPolicy(p.name, options);
      else if (have.duration !== `${this.durationHours(p.duration)}h0m0s` || have.default !== p.isDefault) {
        await influx.alterRetentionPolicy(p.name, options);
      }
    }
    const cqs = await influx.showContinousQueries(this.db);
    const have = new Map(cqs.map((c) => [c.name, c.query]));
    for (const r of rollups(this.db)) {
      const body = `${r.select} FROM ${r.from} GROUP BY time(1h), *`;
      const current = have.get(r.name);
      if (current !== undefined) {
        // SHOW gives the statement back normalised; recreate only if ours is not in it.
        if (normalise(current).includes(normalise(`INTO "${this.db}"."${HOURLY_RP}"`))) continue;
        await influx.dropContinuousQuery(r.name, this.db);
      }
      await influx.createContinuousQuery(r.name, body, this.db, 'RESAMPLE EVERY 1h FOR 2h');
    }
  }

  private durationHours(d: string): number {
    return Number(d.slice(0, -1)) * 24;
  }

  private async query(statements: string[]): Promise<RawResult[]> {
    const influx = this.influx;
    if (!influx) throw new LucioleError('LUCIOLE_ERR_STORE_CLOSED', 'telemetry store is not open');
    const raw = (await influx.queryRaw(statements.join('; '), { precision: 'ms', method: 'POST' })) as { results?: RawResult[] };
    const results = raw.results ?? [];
    for (const r of results) {
      if (r.error) throw new LucioleError('LUCIOLE_ERR_STORAGE_QUERY', `InfluxDB: ${r.error}`);
      // A truncated answer would give wrong energy: refuse it (set the server's max-row-limit to 0).
      if (r.partial) throw new LucioleError('LUCIOLE_ERR_STORAGE_QUERY', 'InfluxDB truncated the answer (max-row-limit)');
    }
    return results;
  }

}

function ms(t: number): string {
  return `${Math.trunc(t)}ms`;
}

/** from <= time < to; an infinite `to` means no upper bound. */
function window(from: number, to: number): string {
  const lower = `time >= ${ms(Math.max(0, from))}`;
  return Number.isFinite(to) ? `${lower} AND time < ${ms(to)}` : lower;
}

/** An InfluxQL string literal. */
function str(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function columnsOf(s: RawSeries, names: string[]): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const n of names) {
    const i = s.columns.indexOf(n);
    out[n] = i >= 0 ? i : undefined;
  }
  return out;
}

function normalise(q: string): string {
  return q.replace(/\s+/g, ' ').toLowerCase();
}

function byTimeThenLamp(a: PresenceEvent, b: PresenceEvent): number {
  return a.ts - b.ts || (a.lampId < b.lampId ? -1 : a.lampId > b.lampId ? 1 : 0);
}
