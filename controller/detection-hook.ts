import { isDark } from '../core/astro.js';
import { every, type Clock } from '../core/clock.js';
import { RateLimitedLog, type Logger } from '../core/log.js';
import type { GatewayEvent, Presence, Site, Status, Telemetry } from '../protocol/index.js';
import { AlertManager, type AlertChange, type AlertManagerOptions } from './alerts/alert-manager.js';
import { DetectorSet, type DetectionCounters } from './detection/detector-set.js';
import { Thresholds } from './detection/thresholds.js';
import { CONTROLLER_SUBJECT, type Finding } from './detection/types.js';
import type { LampRecord } from './inventory-schema.js';
import { LinkList, SlotGraph } from './neighbours.js';
import { MqttAlertPublisher, type PublishFn } from './notify/mqtt-alerts.js';
import type { Notifier } from './notify/notifier.js';
import type { AlertView, LiveEvent } from './views.js';

export interface DetectionHookOptions {
  clock: Clock;
  logger: Logger;
  /** The town's site (daylight, night severity); null while unknown. */
  site(): Site | null;
  /** Telemetry period assumed before a cabinet's first telemetry, seconds. */
  defaultPeriodS: number;
  thresholds?: Thresholds;
  /** Alert manager settings (auto-resolve delays, severities...). */
  alerts?: Omit<AlertManagerOptions, 'neighbours' | 'isNight' | 'onChange'>;
  /** Full history: every change of every alert (ConfigStore.saveAlert). */
  saveAlert(alert: AlertView): void;
  /** The live stream (SSE). */
  emit(event: LiveEvent): void;
  /** Publishes on the broker; `luciole/v1/alerts/{id}` retained while open, empty once resolved. */
  publish: PublishFn;
  /** Webhooks and e-mail, started and stopped with the hook. */
  notifier?: Notifier;
  /** Operator overrides known to the controller (day_burner stays quiet under one). */
  overrideActive?(lampId: string, t: number): boolean;
  /** A cabinet_offline alert opened (the controller marks its live view offline). */
  onCabinetOffline?(cabinetId: string): void;
  /** How often silence, sensor windows and auto-resolution are checked, clock ms. Default min(15 s, period / 4). */
  tickMs?: number;
  /**
   * The telemetry database's health, checked every tick (InfluxDB stores: false from a failed write
   * to the next good one; `queueDepth`: points waiting). Absent or null: nothing to watch.
   */
  storage?(): StorageHealth | null;
}

export interface StorageHealth {
  available: boolean;
  queueDepth: number;
}

/** Subject of the storage_unavailable alert (its cabinetId is CONTROLLER_SUBJECT). */
export const STORAGE_SUBJECT = 'telemetry-store';

/**
 * Fault detection and alerts, wired for the controller: feed it every valid uplink, it runs the
 * detectors, keeps the alerts' life cycle, and tells the store, the live stream, MQTT and the
 * notification channels; open alerts saved before a restart are restored. No entry point throws: ingestion goes on whatever happens here.
 */
export class DetectionHook {
  private readonly detectors: DetectorSet;
  private readonly manager: AlertManager;
  private readonly mqtt: MqttAlertPublisher;
  private readonly errors: RateLimitedLog;
  private adjacency = SlotGraph.fromLinks(new Map(), [], new Int32Array(0), new Int32Array(0), 0);
  private stopTimer: (() => void) | null = null;
  /** Controller time of the first check that found the telemetry database unavailable. */
  private storageDownSince: number | null = null;

  constructor(private readonly opts: DetectionHookOptions) {
    // Asked when alerts change and when a sensor's neighbourhood is first needed, not per reading.
    const neighbours = (id: string): readonly string[] => this.adjacency.neighbours(id);
    this.detectors = new DetectorSet({
      thresholds: opts.thresholds ?? new Thresholds(),
      site: opts.site,
      neighbours,
      defaultPeriodS: opts.defaultPeriodS,
      ...(opts.overrideActive ? { overrideActive: opts.overrideActive } : {}),
    });
    this.manager = new AlertManager({
      ...opts.alerts,
      neighbours,
      isNight: (t) => {
        const site = opts.site();
        return site !== null && isDark(site, t);
      },
      onChange: (a, c) => this.changed(a, c),
    });
    this.mqtt = new MqttAlertPublisher(opts.publish, opts.logger);
    this.errors = new RateLimitedLog(opts.logger, 60_000, () => opts.clock.now());
  }

  /** Restores the alerts left open before a restart (from ConfigStore.alerts()), then watches. */
  start(saved: readonly AlertView[]): void {
    if (this.stopTimer) return;
    this.manager.restore(saved);
    // Detectors tell a cleared condition once; those told before the restore must be told again.
    this.detectors.alertsRestored();
    this.opts.notifier?.start();
    const tickMs = this.opts.tickMs ?? Math.max(1000, Math.min(15_000, (this.opts.defaultPeriodS * 1000) / 4));
    this.stopTimer = every(this.opts.clock, tickMs, () => this.tick());
  }

  async stop(): Promise<void> {
    this.stopTimer?.();
    this.stopTimer = null;
    await this.opts.notifier?.stop();
  }

  /** The inventory changed (import): lamps, their cabinets and the neighbour graph. */
  setInventory(lamps: readonly LampRecord[]): void {
    // The records themselves, not a copy of four fields each: 100,000 objects fewer (issue 8).
    this.detectors.setInventory(lamps);
    // Every id a lamp lists is a node, known lamp or not, and a lamp listing itself is its own
    // neighbour: what the detectors were given before the graph was held as slots. Lamps keep
    // the detectors' slots (one id Map for both); ids only listed as neighbours come after.
    const lampSlots = this.detectors.lampSlots();
    const ids: string[] = new Array(this.detectors.lampCount);
    for (let s = 0; s < ids.length; s++) ids[s] = this.detectors.lampAt(s)!.id;
    const extra = new Map<string, number>();
    const slotOf = (id: string): number => {
      let s = lampSlots.get(id) ?? extra.get(id);
      if (s === undefined) {
        s = ids.length;
        extra.set(id, s);
        ids.push(id);
      }
      return s;
    };
    let links = 0;
    for (const l of lamps) links += l.neighbours.length * 2;
    const pairs = new LinkList(links);
    for (const l of lamps) {
      const a = slotOf(l.id);
      for (const n of l.neighbours) {
        const b = slotOf(n);
        pairs.add(a, b);
        pairs.add(b, a);
      }
    }
    const lookup = { get: (id: string): number | undefined => lampSlots.get(id) ?? extra.get(id) };
    this.adjacency = SlotGraph.fromLinks(lookup, ids, pairs.from, pairs.to, pairs.count);
  }

  /** The lamp's neighbours as the detectors and the alert manager see them (a new array). */
  neighbours(lampId: string): readonly string[] {
    return this.adjacency.neighbours(lampId);
  }

  telemetry(cabinetId: string, msg: Telemetry): void {
    this.guard('telemetry', () => this.detectors.telemetry(cabinetId, msg, this.opts.clock.now()));
  }

  presence(cabinetId: string, msg: Presence): void {
    this.guard('presence', () => this.detectors.presence(cabinetId, msg, this.opts.clock.now()));
  }

  event(cabinetId: string, msg: GatewayEvent): void {
    this.guard('event', () => this.detectors.event(cabinetId, msg, this.opts.clock.now()));
  }

  status(cabinetId: string, msg: Status): void {
    this.guard('status', () => this.detectors.status(cabinetId, msg, this.opts.clock.now()));
  }

  /** Any other valid uplink (ack): the cabinet is alive. */
  heard(cabinetId: string): void {
    this.guard('heard', () => this.detectors.heard(cabinetId, this.opts.clock.now()));
  }

  acknowledge(id: string, who: string): AlertView {
    return this.manager.acknowledge(id, who, this.opts.clock.now());
  }

  resolve(id: string, who: string, note: string | null): AlertView {
    return this.manager.resolve(id, who, note, this.opts.clock.now());
  }

  openAlerts(): AlertView[] {
    return this.manager.list();
  }

  /** An open alert, or one resolved recently enough to reopen (the store keeps the rest). */
  alert(id: string): AlertView | undefined {
    return this.manager.get(id);
  }

  counters(): DetectionCounters {
    return this.detectors.counters();
  }

  /** Runs the periodic checks now (the timer calls it; tests may too). */
  tick(): void {
    this.guard('tick', () => this.detectors.tick(this.opts.clock.now()));
    this.guard('storage', () => this.storageFindings(this.opts.clock.now()));
    try {
      this.manager.tick(this.opts.clock.now());
    } catch (err) {
      this.errors.warn('tick', { err }, 'alert manager tick failed');
    }
  }

  private storageFindings(now: number): Finding[] {
    const health = this.opts.storage?.() ?? null;
    if (!health) return [];
    const base = { kind: 'storage_unavailable', cabinetId: CONTROLLER_SUBJECT, lampId: null, subject: STORAGE_SUBJECT, at: now } as const;
    if (health.available) {
      // An alert restored after a restart is cleared too.
      if (this.storageDownSince === null && !this.manager.openAlert('storage_unavailable', STORAGE_SUBJECT)) return [];
      this.storageDownSince = null;
      return [{ ...base, active: false, detail: `base de télémesure de nouveau disponible (${health.queueDepth} points en attente)` }];
    }
    this.storageDownSince ??= now;
    return [
      {
        ...base,
        active: true,
        detail: `base de télémesure indisponible : ${health.queueDepth} points en attente sur disque`,
        evidence: {
          rule: 'écriture refusée par la base de télémesure (InfluxDB)',
          expected: 'écritures acceptées, file vide',
          measured: `${health.queueDepth} points en file d'attente`,
          window: { from: this.storageDownSince, to: now },
          link: null,
        },
      },
    ];
  }

  private guard(what: string, run: () => Finding[]): void {
    try {
      const findings = run();
      if (findings.length > 0) this.manager.apply(findings, this.opts.clock.now());
    } catch (err) {
      this.errors.warn(what, { err }, 'fault detection failed');
    }
  }

  private changed(alert: AlertView, change: AlertChange): void {
    try {
      this.opts.saveAlert(alert);
    } catch (err) {
      this.errors.warn('save', { err, alertId: alert.id }, 'alert not saved');
    }
    this.opts.emit({ type: 'alert', alert });
    this.mqtt.alertChanged(alert);
    this.opts.notifier?.alertChanged(alert, change);
    if (alert.kind === 'cabinet_offline' && (change === 'opened' || change === 'reopened')) this.opts.onCabinetOffline?.(alert.cabinetId);
  }
}
