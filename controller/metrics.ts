import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ControllerApi } from './api.js';

/**
 * Prometheus metrics of the controller, in a registry of their own (never prom-client's global
 * one, so several instances live side by side in tests). Most values are read from ControllerApi
 * when Prometheus scrapes, so nothing is counted twice; ingest lag is observed from the live
 * stream (`start()` subscribes, `stop()` unsubscribes); HTTP latency is fed by the HTTP server.
 */

export interface ControllerMetricsOptions {
  controller: ControllerApi;
}

/** Seconds. From sub-second (live) to an hour (a gateway flushing its outbox after an outage). */
const LAG_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly controller: ControllerApi;
  private readonly ingestLag: Histogram<never>;
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private unsubscribe: (() => void) | null = null;

  constructor(opts: ControllerMetricsOptions) {
    this.controller = opts.controller;
    const registers = [this.registry];
    const c = this.controller;

    new Counter({
      name: 'luciole_messages_in_total',
      help: 'Valid MQTT messages received from gateways, per channel.',
      labelNames: ['channel'],
      registers,
      collect() {
        this.reset();
        for (const [channel, n] of Object.entries(c.stats().messagesIn)) this.inc({ channel }, n);
      },
    });
    new Counter({
      name: 'luciole_messages_invalid_total',
      help: 'MQTT messages refused as invalid (counted and dropped), per channel.',
      labelNames: ['channel'],
      registers,
      collect() {
        this.reset();
        for (const [channel, n] of Object.entries(c.stats().invalid)) this.inc({ channel }, n);
      },
    });
    new Counter({
      name: 'luciole_messages_out_total',
      help: 'MQTT messages sent to gateways, per channel (receipts so far: the controller counts no other).',
      labelNames: ['channel'],
      registers,
      collect() {
        this.reset();
        this.inc({ channel: 'receipt' }, c.stats().receiptsSent);
      },
    });
    new Counter({
      name: 'luciole_telemetry_duplicates_total',
      help: 'Telemetry messages received again after being stored (at-least-once delivery), ignored.',
      registers,
      collect() {
        this.reset();
        this.inc(c.stats().duplicates);
      },
    });
    new Counter({
      name: 'luciole_samples_stored_total',
      help: 'Lamp samples written to the telemetry store.',
      registers,
      collect() {
        this.reset();
        this.inc(c.stats().samplesStored);
      },
    });
    new Gauge({
      name: 'luciole_store_queue_depth',
      help: 'Telemetry and presence records waiting to be written to the store.',
      registers,
      collect() {
        this.set(c.stats().pendingWrites);
      },
    });
    new Gauge({
      name: 'luciole_cabinets',
      help: 'Cabinets known to the controller, by connection state.',
      labelNames: ['state'],
      registers,
      collect() {
        let online = 0;
        let offline = 0;
        for (const cab of c.listCabinets()) {
          if (cab.online) online++;
          else offline++;
        }
        this.set({ state: 'online' }, online);
        this.set({ state: 'offline' }, offline);
      },
    });
    new Gauge({
      name: 'luciole_alerts_open',
      help: 'Alerts not resolved (open or acknowledged), by kind and severity.',
      labelNames: ['kind', 'severity'],
      registers,
      collect() {
        this.reset();
        for (const a of c.listAlerts()) {
          if (a.state !== 'resolved') this.inc({ kind: a.kind, severity: a.severity });
        }
      },
    });
    new Gauge({
      name: 'luciole_lamps_faulty',
      help: 'Lamps whose latest reading carries a driver fault code, by code.',
      labelNames: ['code'],
      registers,
      collect() {
        this.reset();
        for (const l of c.listLamps()) if (l.fault) this.inc({ code: l.fault });
      },
    });
    this.ingestLag = new Histogram({
      name: 'luciole_ingest_lag_seconds',
      help: 'Controller clock at ingest minus the telemetry timestamp: network, broker and outbox replay delay.',
      buckets: LAG_BUCKETS,
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'luciole_http_request_duration_seconds',
      help: 'HTTP API response time, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    registerProcessMetrics(this.registry);
  }

  /** Starts observing the live stream (ingest lag). */
  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.controller.subscribe((event) => {
      if (event.type !== 'lamps') return;
      this.ingestLag.observe(Math.max(0, this.controller.clock.now() - event.ts) / 1000);
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** `route` is the matched pattern (`/api/cabinets/:id`), never the raw URL: bounded label values. */
  observeHttp(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status: String(status) }, seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * The usual process_* metrics, read at scrape time. prom-client's collectDefaultMetrics would
 * also start an event-loop monitor that nothing can stop, hence these few by hand.
 */
function registerProcessMetrics(registry: Registry): void {
  const registers = [registry];
  const startSeconds = Math.round(performance.timeOrigin / 1000);
  new Gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since the Unix epoch, seconds.',
    registers,
    collect() {
      this.set(startSeconds);
    },
  });
  new Counter({
    name: 'process_cpu_seconds_total',
    help: 'User and system CPU time spent, seconds.',
    registers,
    collect() {
      const u = process.cpuUsage();
      this.reset();
      this.inc((u.user + u.system) / 1e6);
    },
  });
  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size, bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: 'nodejs_heap_used_bytes',
    help: 'V8 heap in use, bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
}
