import { LucioleError } from '../../core/errors.js';
import { DARK_KINDS, OUTAGE_KINDS, alertKindSchema, type AlertKind, type Finding } from '../detection/types.js';
import type { AlertHistoryEntry, AlertView } from '../views.js';
import { alertId } from './alert-id.js';
import { autoResolvedNote, foldedNote } from './alert-text.js';
import { kindFr, STATE_FR } from './labels.js';
import { DEFAULT_SEVERITY, darkRunSize, type Severity } from './severity.js';

export type AlertChange = 'opened' | 'updated' | 'escalated' | 'acknowledged' | 'resolved' | 'reopened';

export interface AlertManagerOptions {
  /** The town's lamp neighbour graph, for dark runs. */
  neighbours(lampId: string): readonly string[];
  /** Night at `t` (a cabinet offline at night is critical). */
  isNight(t: number): boolean;
  /** Every change worth telling: persisted, streamed, notified by the caller. Must not throw. */
  onChange(alert: AlertView, change: AlertChange): void;
  /** How long the condition must have cleared before the alert resolves itself, ms. Default 15 min. */
  autoResolveMs?: number;
  /** Per kind. Defaults: 0 for cabinet_offline, door_open, power_cut, storage_unavailable (their end is an explicit message). */
  autoResolveByKind?: Partial<Record<AlertKind, number>>;
  /** A fault back within this long of its resolution reopens the same alert. Default 24 h. */
  reopenWithinMs?: number;
  /** This many adjacent dark lamps make their alerts critical. Default 3. */
  darkRunCritical?: number;
  severityByKind?: Partial<Record<AlertKind, Severity>>;
  /** Lamp alerts opened this long before a cabinet outage are folded under it. Default 10 min. */
  foldLookbackMs?: number;
  /** Repeats (lastSeen, count) are told at most this often per alert. Default 60 s. */
  bumpNotifyMs?: number;
}

interface Entry {
  view: AlertView;
  key: string;
  kind: AlertKind;
  /** Controller time since which the condition has been seen cleared; null while it holds. */
  clearedSince: number | null;
  lastTold: number;
  untold: boolean;
}

const MAX_HISTORY = 200;
const MAX_FOLDED = 5000;
const SYSTEM = 'system';

function keyOf(kind: string, subject: string): string {
  return `${kind}\u0000${subject}`;
}

function subjectOf(f: Pick<Finding, 'subject' | 'lampId' | 'cabinetId'>): string {
  return f.subject ?? f.lampId ?? f.cabinetId;
}

/**
 * The alerts' life cycle, pure (time passed in). One open alert per (kind, lamp or cabinet or
 * sensor): a repeat bumps `lastSeen` and `count`. open → acknowledged (who) → resolved (who,
 * note), or resolved by itself once the condition has cleared for `autoResolveMs`; a fault back
 * soon after reopens the same alert. While a cabinet is offline or without mains, its own and
 * its lamps' findings fold under that one alert. Every transition is in the alert's `history`.
 */
export class AlertManager {
  private readonly open = new Map<string, Entry>();
  private readonly resolved = new Map<string, Entry>();
  private readonly byId = new Map<string, Entry>();
  /** Open outage alert per cabinet. */
  private readonly outage = new Map<string, Entry>();
  /** Lamps with an open dark alert. */
  private readonly dark = new Set<string>();
  private readonly autoResolveMs: number;
  private readonly reopenWithinMs: number;
  private readonly darkRunCritical: number;
  private readonly foldLookbackMs: number;
  private readonly bumpNotifyMs: number;

  constructor(private readonly opts: AlertManagerOptions) {
    this.autoResolveMs = opts.autoResolveMs ?? 15 * 60_000;
    this.reopenWithinMs = opts.reopenWithinMs ?? 24 * 3_600_000;
    this.darkRunCritical = opts.darkRunCritical ?? 3;
    this.foldLookbackMs = opts.foldLookbackMs ?? 10 * 60_000;
    this.bumpNotifyMs = opts.bumpNotifyMs ?? 60_000;
  }

  /** Takes back the alerts open before a restart (told nothing: they were told then). */
  restore(saved: readonly AlertView[]): void {
    for (const a of saved) {
      const kind = alertKindSchema.safeParse(a.kind);
      if (!kind.success || a.state === 'resolved') continue;
      const key = keyOf(a.kind, a.subject ?? a.lampId ?? a.cabinetId);
      if (this.open.has(key)) continue;
      const e: Entry = { view: { ...a }, key, kind: kind.data, clearedSince: null, lastTold: a.lastSeen, untold: false };
      this.track(e);
    }
  }

  list(): AlertView[] {
    return [...this.open.values()].map((e) => e.view);
  }

  get(id: string): AlertView | undefined {
    return this.byId.get(id)?.view;
  }

  openAlert(kind: AlertKind, subject: string): AlertView | undefined {
    return this.open.get(keyOf(kind, subject))?.view;
  }

  apply(findings: readonly Finding[], now: number): void {
    for (const f of findings) {
      if (f.active) this.raise(f, now);
      else this.clear(f, now);
    }
  }

  /** Auto-resolution, night escalation, repeats not yet told, forgetting old resolved ones. */
  tick(now: number): void {
    for (const e of [...this.open.values()]) {
      if (e.clearedSince !== null && now - e.clearedSince >= this.autoResolveFor(e.kind)) {
        this.close(e, now, SYSTEM, autoResolvedNote(now - e.clearedSince));
        continue;
      }
      if (OUTAGE_KINDS.has(e.kind) && e.view.severity !== 'critical' && this.night(now)) {
        this.setSeverity(e, 'critical', now);
        continue;
      }
      if (e.untold && now - e.lastTold >= this.bumpNotifyMs) this.tell(e, 'updated', now);
    }
    for (const [key, e] of this.resolved) {
      if ((e.view.resolvedAt ?? 0) < now - this.reopenWithinMs) {
        this.resolved.delete(key);
        if (this.byId.get(e.view.id) === e) this.byId.delete(e.view.id);
      }
    }
  }

  acknowledge(id: string, who: string, now: number): AlertView {
    const e = this.mustFind(id);
    if (e.view.state !== 'open') {
      throw new LucioleError('LUCIOLE_ERR_ALERT_STATE', `l'alerte ${id} est déjà ${STATE_FR[e.view.state]} : seule une alerte ouverte peut être prise en charge`, 'id');
    }
    e.view = { ...e.view, state: 'acknowledged', acknowledgedAt: now, acknowledgedBy: who };
    this.log(e, now, 'acknowledged', who, null);
    this.tell(e, 'acknowledged', now);
    return e.view;
  }

  resolve(id: string, who: string, note: string | null, now: number): AlertView {
    const e = this.mustFind(id);
    if (e.view.state === 'resolved') {
      throw new LucioleError('LUCIOLE_ERR_ALERT_STATE', `l'alerte ${id} est déjà résolue`, 'id');
    }
    this.close(e, now, who, note);
    return e.view;
  }

  // ---------------- internals ----------------

  private raise(f: Finding, now: number): void {
    const subject = subjectOf(f);
    const key = keyOf(f.kind, subject);
    const current = this.open.get(key);
    if (current) {
      this.bump(current, f, now);
      return;
    }
    const parent = foldable(f.kind) ? this.outage.get(f.cabinetId) : undefined;
    if (parent) {
      this.fold(parent, f.kind, f.lampId, f.at, now);
      return;
    }
    const old = this.resolved.get(key);
    if (old && (old.view.resolvedAt ?? 0) >= now - this.reopenWithinMs) {
      this.resolved.delete(key);
      old.view = {
        ...old.view,
        state: 'open',
        resolvedAt: null,
        resolvedBy: null,
        note: null,
        acknowledgedAt: null,
        acknowledgedBy: null,
        parentId: null,
        lastSeen: Math.max(old.view.lastSeen, f.at),
        count: old.view.count + 1,
        detail: f.detail,
        evidence: f.evidence ?? old.view.evidence ?? null,
      };
      old.clearedSince = null;
      this.track(old);
      old.view.severity = this.baseSeverity(old);
      this.log(old, now, 'reopened', SYSTEM, null);
      this.tell(old, 'reopened', now);
      this.afterOpen(old, now);
      return;
    }
    let id = alertId(f.kind, subject, f.at);
    for (let i = 1; this.byId.has(id); i++) id = alertId(f.kind, subject, f.at + i);
    const e: Entry = {
      key,
      kind: f.kind,
      clearedSince: null,
      lastTold: now,
      untold: false,
      view: {
        id,
        kind: f.kind,
        severity: 'minor',
        state: 'open',
        cabinetId: f.cabinetId,
        lampId: f.lampId,
        openedAt: f.at,
        lastSeen: f.at,
        resolvedAt: null,
        count: 1,
        detail: f.detail,
        ...(f.subject !== undefined ? { subject: f.subject } : {}),
        evidence: f.evidence ?? null,
        acknowledgedAt: null,
        acknowledgedBy: null,
        resolvedBy: null,
        note: null,
        parentId: null,
        history: [],
      },
    };
    this.track(e);
    e.view.severity = this.baseSeverity(e);
    this.log(e, now, 'opened', SYSTEM, null);
    this.tell(e, 'opened', now);
    this.afterOpen(e, now);
  }

  private afterOpen(e: Entry, now: number): void {
    if (OUTAGE_KINDS.has(e.kind)) this.foldExisting(e, now);
    if (DARK_KINDS.has(e.kind) && e.view.lampId) this.rerateDarkRun(e.view.lampId, now);
  }

  private bump(e: Entry, f: Finding, now: number): void {
    e.clearedSince = null;
    e.view = {
      ...e.view,
      lastSeen: Math.max(e.view.lastSeen, f.at),
      count: e.view.count + 1,
      detail: f.detail,
      evidence: f.evidence ?? e.view.evidence ?? null,
    };
    e.untold = true;
    if (now - e.lastTold >= this.bumpNotifyMs) this.tell(e, 'updated', now);
  }

  private clear(f: Finding, now: number): void {
    // Most findings are clearings with nothing open: no key to build.
    if (this.open.size === 0) return;
    const e = this.open.get(keyOf(f.kind, subjectOf(f)));
    if (!e) return;
    if (e.clearedSince === null) e.clearedSince = now;
    if (this.autoResolveFor(e.kind) === 0) {
      this.close(e, now, SYSTEM, f.detail);
    }
  }

  private close(e: Entry, now: number, who: string, note: string | null): void {
    this.untrack(e);
    this.resolved.set(e.key, e);
    this.byId.set(e.view.id, e);
    e.view = { ...e.view, state: 'resolved', resolvedAt: now, resolvedBy: who, note };
    this.log(e, now, 'resolved', who, note);
    this.tell(e, 'resolved', now);
    if (DARK_KINDS.has(e.kind) && e.view.lampId) this.rerateDarkRun(e.view.lampId, now);
  }

  /** Lamp alerts of the cabinet opened shortly before the outage: early signs of it. */
  private foldExisting(parent: Entry, now: number): void {
    const since = parent.view.openedAt - this.foldLookbackMs;
    for (const e of [...this.open.values()]) {
      const v = e.view;
      if (v.cabinetId !== parent.view.cabinetId || !foldable(e.kind) || v.openedAt < since) continue;
      this.untrack(e);
      this.resolved.set(e.key, e);
      e.view = { ...v, state: 'resolved', resolvedAt: now, resolvedBy: SYSTEM, parentId: parent.view.id, note: foldedNote(parent.view.id, kindFr(parent.kind)) };
      this.log(e, now, 'folded', SYSTEM, parent.view.id);
      this.tell(e, 'resolved', now);
      this.fold(parent, e.kind, v.lampId, v.openedAt, now);
    }
  }

  private fold(parent: Entry, kind: AlertKind, lampId: string | null, at: number, now: number): void {
    const folded = parent.view.folded ?? [];
    if (folded.some((x) => x.lampId === lampId && x.kind === kind)) return;
    if (folded.length >= MAX_FOLDED) return;
    parent.view = { ...parent.view, folded: [...folded, { kind, lampId, at }] };
    parent.untold = true;
    if (now - parent.lastTold >= this.bumpNotifyMs) this.tell(parent, 'updated', now);
  }

  private rerateDarkRun(lampId: string, now: number): void {
    // The run around the lamp, and its neighbours' runs when it just left the set.
    const starts = [lampId, ...this.opts.neighbours(lampId)];
    const done = new Set<string>();
    for (const s of starts) {
      if (!this.dark.has(s) || done.has(s)) continue;
      const size = darkRunSize(s, this.dark, (id) => this.opts.neighbours(id));
      const stack = [s];
      done.add(s);
      while (stack.length > 0) {
        const id = stack.pop()!;
        for (const kind of DARK_KINDS) {
          const e = this.open.get(keyOf(kind, id));
          if (!e) continue;
          const want = size >= this.darkRunCritical ? 'critical' : this.baseSeverity(e, false);
          if (e.view.severity !== want) this.setSeverity(e, want, now);
        }
        for (const n of this.opts.neighbours(id)) {
          if (this.dark.has(n) && !done.has(n)) {
            done.add(n);
            stack.push(n);
          }
        }
      }
    }
  }

  private baseSeverity(e: Entry, withRun = true): Severity {
    const base = this.opts.severityByKind?.[e.kind] ?? DEFAULT_SEVERITY[e.kind];
    if (OUTAGE_KINDS.has(e.kind) && this.night(e.view.openedAt)) return 'critical';
    if (withRun && DARK_KINDS.has(e.kind) && e.view.lampId) {
      const size = darkRunSize(e.view.lampId, this.dark, (id) => this.opts.neighbours(id));
      if (size >= this.darkRunCritical) return 'critical';
    }
    return base;
  }

  private setSeverity(e: Entry, s: Severity, now: number): void {
    const up = rank(s) > rank(e.view.severity);
    e.view = { ...e.view, severity: s };
    if (up) this.log(e, now, 'escalated', SYSTEM, s);
    this.tell(e, up ? 'escalated' : 'updated', now);
  }

  private night(t: number): boolean {
    try {
      return this.opts.isNight(t);
    } catch {
      return false;
    }
  }

  private autoResolveFor(kind: AlertKind): number {
    const k = this.opts.autoResolveByKind?.[kind];
    if (k !== undefined) return k;
    if (kind === 'cabinet_offline' || kind === 'door_open' || kind === 'power_cut' || kind === 'storage_unavailable') return 0;
    return this.autoResolveMs;
  }

  private track(e: Entry): void {
    this.open.set(e.key, e);
    this.byId.set(e.view.id, e);
    if (OUTAGE_KINDS.has(e.kind)) this.outage.set(e.view.cabinetId, e);
    if (DARK_KINDS.has(e.kind) && e.view.lampId) this.dark.add(e.view.lampId);
  }

  private untrack(e: Entry): void {
    this.open.delete(e.key);
    if (OUTAGE_KINDS.has(e.kind) && this.outage.get(e.view.cabinetId) === e) {
      // Another outage kind may still hold the cabinet.
      this.outage.delete(e.view.cabinetId);
      for (const k of OUTAGE_KINDS) {
        const other = this.open.get(keyOf(k, e.view.cabinetId));
        if (other) this.outage.set(e.view.cabinetId, other);
      }
    }
    if (DARK_KINDS.has(e.kind) && e.view.lampId) {
      const lamp = e.view.lampId;
      if (![...DARK_KINDS].some((k) => this.open.has(keyOf(k, lamp)))) this.dark.delete(lamp);
    }
  }

  private log(e: Entry, at: number, action: AlertHistoryEntry['action'], by: string, note: string | null): void {
    const h = [...(e.view.history ?? []), { at, action, by, note }];
    e.view = { ...e.view, history: h.length > MAX_HISTORY ? [h[0]!, ...h.slice(h.length - MAX_HISTORY + 1)] : h };
  }

  private tell(e: Entry, change: AlertChange, now: number): void {
    e.lastTold = now;
    e.untold = false;
    this.opts.onChange(e.view, change);
  }

  private mustFind(id: string): Entry {
    const e = this.byId.get(id);
    if (!e) throw new LucioleError('LUCIOLE_ERR_ALERT_NOT_FOUND', `aucune alerte ${id}`, 'id');
    return e;
  }
}

/**
 * What an outage explains: everything the cabinet and its lamps report while it is offline or
 * without mains (dark lamps, missing data, a 0 V supply), but not an open door (a visit, or a
 * break-in, whatever the mains) nor the other outage kind.
 */
function foldable(kind: AlertKind): boolean {
  return !OUTAGE_KINDS.has(kind) && kind !== 'door_open';
}

function rank(s: Severity): number {
  return s === 'critical' ? 2 : s === 'major' ? 1 : 0;
}
