import { count, duration } from '../alerts/alert-text.js';
import type { Finding } from './types.js';

interface Heard {
  /** Controller time of the last message of any kind. */
  lastSeen: number;
  periodMs: number;
  offline: boolean;
}

/**
 * cabinet_offline: a Last Will, or no message at all for `silentPeriods` telemetry periods
 * (controller clock: a gateway replaying old telemetry is alive now). Any message clears it.
 */
export class CabinetOfflineDetector {
  private readonly cabinets = new Map<string, Heard>();

  constructor(
    private readonly silentPeriods: number,
    private readonly defaultPeriodMs: number,
  ) {}

  /** Any valid message from the cabinet; `periodMs` when it is telemetry. */
  heard(cabinetId: string, now: number, out: Finding[], periodMs?: number): void {
    const c = this.cabinets.get(cabinetId);
    if (c) {
      c.lastSeen = Math.max(c.lastSeen, now);
      if (periodMs !== undefined) c.periodMs = periodMs;
      c.offline = false;
    } else {
      this.cabinets.set(cabinetId, { lastSeen: now, periodMs: periodMs ?? this.defaultPeriodMs, offline: false });
    }
    out.push({ kind: 'cabinet_offline', cabinetId, lampId: null, active: false, at: now, detail: 'armoire de nouveau joignable' });
  }

  /**
   * A Last Will. `retained`: the broker replaying a stored one on subscription; it still tells
   * the cabinet is offline, but the manager only bumps an alert that is already open.
   */
  lastWill(cabinetId: string, now: number, out: Finding[]): void {
    const c = this.cabinets.get(cabinetId);
    if (c) c.offline = true;
    else this.cabinets.set(cabinetId, { lastSeen: now, periodMs: this.defaultPeriodMs, offline: true });
    out.push({
      kind: 'cabinet_offline',
      cabinetId,
      lampId: null,
      active: true,
      at: now,
      detail: 'connexion de la passerelle perdue (message Last Will du broker MQTT)',
      evidence: {
        rule: `la passerelle s'est déconnectée sans prévenir : le broker MQTT a publié son Last Will {"online":false}`,
        expected: 'passerelle en ligne',
        measured: 'passerelle hors ligne (Last Will reçu)',
        window: { from: c?.lastSeen ?? now, to: now },
        link: null,
      },
    });
  }

  /** Cabinets silent too long, checked every few seconds by the caller. */
  check(now: number, out: Finding[]): void {
    for (const [cabinetId, c] of this.cabinets) {
      const limit = this.silentPeriods * c.periodMs;
      const silent = now - c.lastSeen;
      if (silent <= limit) continue;
      c.offline = true;
      out.push({
        kind: 'cabinet_offline',
        cabinetId,
        lampId: null,
        active: true,
        at: now,
        detail: `aucun message de l'armoire depuis ${duration(silent)}`,
        evidence: {
          rule: `aucun message pendant plus de ${count(this.silentPeriods, 'période')} de télémesure`,
          expected: `un message au moins par période de ${duration(c.periodMs)}`,
          measured: `aucun message depuis ${duration(silent)}`,
          window: { from: c.lastSeen, to: now },
          link: null,
        },
      });
    }
  }

  isOffline(cabinetId: string): boolean {
    return this.cabinets.get(cabinetId)?.offline ?? false;
  }
}
