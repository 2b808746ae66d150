import { isDark } from '../core/astro.js';
import { every, type Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { alertMessageSchema, ID_PATTERN, type Site } from '../protocol/index.js';
import type { LiveState } from './live-state.js';
import type { AlertView, LiveEvent } from './views.js';

export const CABINET_OFFLINE = 'cabinet_offline';
/** A cabinet silent for this many telemetry periods is considered offline. */
export const SILENT_PERIODS = 3;

export interface OfflineAlertsOptions {
  clock: Clock;
  logger: Logger;
  live: LiveState;
  /** Default telemetry period, seconds, for cabinets that have not sent telemetry yet. */
  periodS: number;
  /** The town's site (night decides the severity); null when unknown. */
  site(): Site | null;
  saveAlert(alert: AlertView): void;
  /** Publishes retained on alertTopic(id); an empty payload clears it. */
  publishAlert(alertId: string, payload: string): Promise<void>;
  emit(event: LiveEvent): void;
  /** A cabinet's state changed (so its live view can be sent). */
  cabinetChanged(cabinetId: string): void;
}

/** The alert id of one offline episode: unique per opening, so resolved episodes stay in history. */
export function offlineAlertId(cabinetId: string, openedAt: number): string {
  const id = `${CABINET_OFFLINE}.${cabinetId}.${openedAt.toString(36)}`;
  if (ID_PATTERN.test(id)) return id;
  // Too long with a 64-char cabinet id: keep a readable prefix and a hash of the whole.
  return `${id.slice(0, 54)}.${fnv1a(id)}`;
}

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * Cabinet-offline alerts: opened on a Last Will or after SILENT_PERIODS periods of silence,
 * resolved when the cabinet is heard from again. One open alert per cabinet; a repeat bumps it.
 *
 * No longer wired into the controller: DetectionHook (detection-hook.ts) took over, with the same
 * alert ids, and restores the open alerts this class saved. Kept for controller/index.ts's exports
 * and `offlineAlertId`, until those consumers move.
 */
export class OfflineAlerts {
  private readonly openByCabinet = new Map<string, AlertView>();
  private stopTimer: (() => void) | null = null;

  constructor(private readonly opts: OfflineAlertsOptions) {}

  /** Restores the open alerts saved before a restart, then watches for silent cabinets. */
  start(saved: readonly AlertView[]): void {
    for (const a of saved) {
      if (a.kind === CABINET_OFFLINE && a.state !== 'resolved') this.openByCabinet.set(a.cabinetId, a);
    }
    if (this.stopTimer) return;
    const checkMs = Math.max(1000, (this.opts.periodS * 1000) / 2);
    this.stopTimer = every(this.opts.clock, checkMs, () => {
      try {
        this.checkSilence();
      } catch (err) {
        this.opts.logger.error({ err }, 'offline check failed');
      }
    });
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = null;
  }

  openAlert(cabinetId: string): AlertView | undefined {
    return this.openByCabinet.get(cabinetId);
  }

  /** Marks silent online cabinets offline. */
  checkSilence(): void {
    const now = this.opts.clock.now();
    const silent: Array<[string, number]> = [];
    for (const [id, c] of this.opts.live.cabinets()) {
      if (!c.online || c.lastSeen === null) continue;
      const periodS = c.periodS ?? this.opts.periodS;
      const limitMs = SILENT_PERIODS * periodS * 1000;
      if (now - c.lastSeen > limitMs) silent.push([id, now - c.lastSeen]);
    }
    for (const [id, silentMs] of silent) {
      this.opts.live.markOffline(id);
      this.open(id, `no message for ${Math.round(silentMs / 1000)} s`);
      this.opts.cabinetChanged(id);
    }
  }

  /** Opens (or bumps) the cabinet's offline alert. */
  open(cabinetId: string, detail: string): AlertView {
    const now = this.opts.clock.now();
    const existing = this.openByCabinet.get(cabinetId);
    const alert: AlertView = existing
      ? { ...existing, lastSeen: now, count: existing.count + 1, detail }
      : {
          id: offlineAlertId(cabinetId, now),
          kind: CABINET_OFFLINE,
          severity: this.severity(now),
          state: 'open',
          cabinetId,
          lampId: null,
          openedAt: now,
          lastSeen: now,
          resolvedAt: null,
          count: 1,
          detail,
        };
    this.openByCabinet.set(cabinetId, alert);
    if (!existing) this.opts.logger.warn({ cabinetId, alertId: alert.id, severity: alert.severity, detail }, 'cabinet offline');
    this.record(alert);
    const message = alertMessageSchema.parse({
      v: 1,
      id: alert.id,
      kind: alert.kind,
      severity: alert.severity,
      state: alert.state,
      cabinetId: alert.cabinetId,
      lampId: alert.lampId,
      openedAt: alert.openedAt,
      lastSeen: alert.lastSeen,
      count: alert.count,
      detail: alert.detail.slice(0, 1024),
    });
    this.publish(alert.id, JSON.stringify(message));
    return alert;
  }

  /** Resolves the cabinet's open offline alert, if any. */
  resolve(cabinetId: string): AlertView | undefined {
    const existing = this.openByCabinet.get(cabinetId);
    if (!existing) return undefined;
    this.openByCabinet.delete(cabinetId);
    const now = this.opts.clock.now();
    const alert: AlertView = { ...existing, state: 'resolved', resolvedAt: now };
    this.opts.logger.info({ cabinetId, alertId: alert.id }, 'cabinet back online');
    this.record(alert);
    this.publish(alert.id, '');
    return alert;
  }

  private severity(now: number): AlertView['severity'] {
    const site = this.opts.site();
    if (!site) return 'major';
    try {
      // Lamps may be dark in the street right now: an emergency only at night.
      return isDark(site, now) ? 'critical' : 'major';
    } catch {
      return 'major';
    }
  }

  private record(alert: AlertView): void {
    try {
      this.opts.saveAlert(alert);
    } catch (err) {
      this.opts.logger.error({ err, alertId: alert.id }, 'alert not saved');
    }
    this.opts.emit({ type: 'alert', alert });
  }

  private publish(alertId: string, payload: string): void {
    this.opts.publishAlert(alertId, payload).catch((err: unknown) => {
      this.opts.logger.warn({ err, alertId }, 'alert not published');
    });
  }
}
