import { flux, InfluxDB, type ParameterizedQuery, type QueryApi } from '@influxdata/influxdb-client';
import type { Clock } from '../../core/clock.js';
import { LucioleError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { presenceKindSchema, type FaultCode } from '../../protocol/index.js';
import { SeqRangeSet } from '../seq-ranges.js';
import type { LampEnergy, LampSample, PresenceEvent, TelemetryStore } from '../stores.js';
import { energyFromCounters, type CounterSeries } from './counter-energy.js';
import { influx2Sink, withSlash } from './influx-http.js';
import type { LampZones } from './influx-points.js';
import { QueuedInfluxStore } from './queued-influx-store.js';
import type { WriteQueueOptions } from './write-queue.js';

/**
 * Telemetry in InfluxDB 2.x: the same data model as 1.x (influx-points.ts) in one bucket, queried
 * with Flux through `@influxdata/influxdb-client`. The org, the bucket (its retention is the raw
 * retention) and a token with read/write on it are made by the town's administrator; hourly
 * roll-ups are a Flux task (docs/influxdb.md gives it). `open()` checks that the bucket answers.
 * Writes: the same durable WriteQueue as 1.x.
 */

export interface InfluxDb2StoreOptions {
  url: string;
  org: string;
  bucket: string;
  token: string;
  spillDir: string;
  clock: Clock;
  logger: Logger;
  lampZones?: LampZones | undefined;
  seqWindowMs?: number;
  energyLookbackMs?: number;
  queue?: Partial<Omit<WriteQueueOptions, 'sink' | 'dir' | 'clock' | 'logger'>>;
}

const DAY_MS = 86_400_000;
/** Flux has no open-ended range: the latest time it can represent stands for "no upper bound". */
const FAR_FUTURE = Date.parse('2262-01-01T00:00:00Z');

export class InfluxDb2Store extends QueuedInfluxStore implements TelemetryStore {
  private readonly seqWindowMs: number;
  private readonly lookbackMs: number;
  private queryApi: QueryApi | null = null;

  constructor(private readonly opts: InfluxDb2StoreOptions) {
    super();
    this.seqWindowMs = opts.seqWindowMs ?? 7 * DAY_MS;
    this.lookbackMs = opts.energyLookbackMs ?? 31 * DAY_MS;
  }

  async open(): Promise<void> {
    if (this.queryApi) return;
    const client = new InfluxDB({ url: this.opts.url, token: this.opts.token, timeout: 30_000 });
    const queryApi = client.getQueryApi(this.opts.org);
    try {
      await queryApi.collectRows(flux`from(bucket: ${this.opts.bucket}) |> range(start: -1m) |> limit(n: 1)`);
    } catch (err) {
      throw new LucioleError(
        'LUCIOLE_ERR_STORAGE_UNAVAILABLE',
        `InfluxDB 2.x bucket ${this.opts.bucket} of org ${this.opts.org} is not reachable: ${err instanceof Error ? err.message : String(err)}`,
        'influxUrl',
      );
    }
    await this.startWrites(
      {
        ...this.opts.queue,
        sink: influx2Sink({ url: this.opts.url, org: this.opts.org, bucket: this.opts.bucket, token: this.opts.token }),
        dir: this.opts.spillDir,
        clock: this.opts.clock,
        logger: this.opts.logger,
      },
      this.opts.lampZones,
    );
    this.queryApi = queryApi;
  }

  protected onClosed(): void {
    this.queryApi = null;
  }

  async storedSeqRanges(cabinetId: string): Promise<Array<[number, number]>> {
    const writer = this.requireWriter();
    const start = new Date(this.opts.clock.now() - this.seqWindowMs);
    const rows = await this.rows(flux`from(bucket: ${this.opts.bucket})
  |> range(start: ${start})
  |> filter(fn: (r) => r._measurement == "cabinet" and r._field == "seq" and r.cabinet == ${cabinetId})
  |> keep(columns: ["_value"])`);
    const found = new SeqRangeSet();
    for (const r of rows) {
      const v = Number(r._value);
      if (Number.isInteger(v) && v >= 0) found.add(v);
    }
    writer.remember(cabinetId, found);
    writer.addKnownSeqs(cabinetId, found);
    return found.ranges();
  }

  async energyByLamp(from: number, to: number): Promise<LampEnergy[]> {
    this.requireWriter();
    const [start, stop] = range(from, to);
    const inside = await this.rows(flux`from(bucket: ${this.opts.bucket})
  |> range(start: ${start}, stop: ${stop})
  |> filter(fn: (r) => r._measurement == "lamp" and r._field == "energy_wh")
  |> group(columns: ["lamp"])
  |> sort(columns: ["_time"])
  |> keep(columns: ["lamp", "_time", "_value"])`);
    const prev = new Map<string, number>();
    if (from > 0) {
      const before = await this.rows(flux`from(bucket: ${this.opts.bucket})
  |> range(start: ${new Date(Math.max(0, from - this.lookbackMs))}, stop: ${start})
  |> filter(fn: (r) => r._measurement == "lamp" and r._field == "energy_wh")
  |> group(columns: ["lamp"])
  |> sort(columns: ["_time"])
  |> last()
  |> keep(columns: ["lamp", "_value"])`);
      for (const r of before) prev.set(String(r.lamp), Number(r._value));
    }
    const byLamp = new Map<string, number[]>();
    for (const r of inside) {
      const id = String(r.lamp);
      let list = byLamp.get(id);
      if (!list) byLamp.set(id, (list = []));
      list.push(Number(r._value));
    }
    const series: CounterSeries[] = [];
    for (const [lampId, counters] of byLamp) series.push({ lampId, before: prev.get(lampId) ?? null, counters });
    return energyFromCounters(series);
  }

  async lampHistory(lampId: string, from: number, to: number): Promise<LampSample[]> {
    this.requireWriter();
    const [start, stop] = range(from, to);
    const rows = await this.rows(flux`from(bucket: ${this.opts.bucket})
  |> range(start: ${start}, stop: ${stop})
  |> filter(fn: (r) => r._measurement == "lamp" and r.lamp == ${lampId})
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])`);
    return rows.map((r) => ({
      ts: Date.parse(String(r._time)),
      level: Number(r.level),
      powerW: Number(r.power_w),
      energyWh: Number(r.energy_wh),
      fault: (typeof r.fault === 'string' && r.fault !== '' ? r.fault : null) as FaultCode | null,
    }));
  }

  async presenceCounts(from: number, to: number): Promise<Array<{ lampId: string; count: number }>> {
    this.requireWriter();
    const [start, stop] = range(from, to);
    const rows = await this.rows(flux`from(bucket: ${this.opts.bucket})
  |> range(start: ${start}, stop: ${stop})
  |> filter(fn: (r) => r._measurement == "presence" and r._field == "count")
  |> group(columns: ["lamp"])
  |> sum()`);
    return rows
      .map((r) => ({ lampId: String(r.lamp), count: Number(r._value) }))
      .sort((a, b) => (a.lampId < b.lampId ? -1 : a.lampId > b.lampId ? 1 : 0));
  }

  /** Each detection in the window, oldest first (the what-if replays them). */
  async presenceEvents(from: number, to: number): Promise<PresenceEvent[]> {
    this.requireWriter();
    const [start, stop] = range(from, to);
    const rows = await this.rows(flux`from(bucket: ${this.opts.bucket})
  |> range(start: ${start}, stop: ${stop})
  |> filter(fn: (r) => r._measurement == "presence" and r._field == "count")
  |> keep(columns: ["_time", "lamp", "kind"])`);
    const out: PresenceEvent[] = [];
    for (const r of rows) {
      const kind = presenceKindSchema.safeParse(r.kind);
      // Points written by something else than Luciole, without a known kind: not a detection.
      if (!kind.success || typeof r.lamp !== 'string') continue;
      out.push({ lampId: r.lamp, ts: Date.parse(String(r._time)), kind: kind.data });
    }
    return out.sort((a, b) => a.ts - b.ts || (a.lampId < b.lampId ? -1 : a.lampId > b.lampId ? 1 : 0));
  }

  /** Deletes raw points older than `before` through the delete API; returns the points counted just before. */
  async prune(before: number): Promise<number> {
    this.requireWriter();
    const stop = new Date(before);
    const counted = await this.rows(flux`from(bucket: ${this.opts.bucket})
  |> range(start: ${new Date(0)}, stop: ${stop})
  |> filter(fn: (r) => (r._measurement == "lamp" and r._field == "energy_wh") or (r._measurement == "cabinet" and r._field == "seq") or (r._measurement == "presence" and r._field == "count"))
  |> group()
  |> count()`);
    const removed = Number(counted[0]?._value ?? 0);
    for (const m of ['lamp', 'cabinet', 'presence']) {
      const endpoint = new URL('api/v2/delete', withSlash(this.opts.url));
      endpoint.searchParams.set('org', this.opts.org);
      endpoint.searchParams.set('bucket', this.opts.bucket);
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { authorization: `Token ${this.opts.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ start: '1970-01-01T00:00:00Z', stop: stop.toISOString(), predicate: `_measurement="${m}"` }),
      });
      if (res.status !== 204) {
        throw new LucioleError('LUCIOLE_ERR_STORAGE_QUERY', `InfluxDB delete answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
      }
    }
    return removed;
  }

  private async rows(q: ParameterizedQuery): Promise<Array<Record<string, unknown>>> {
    const api = this.queryApi;
    if (!api) throw new LucioleError('LUCIOLE_ERR_STORE_CLOSED', 'telemetry store is not open');
    return api.collectRows<Record<string, unknown>>(q);
  }

}

function range(from: number, to: number): [Date, Date] {
  return [new Date(Math.max(0, from)), new Date(Number.isFinite(to) ? Math.min(to, FAR_FUTURE) : FAR_FUTURE)];
}
