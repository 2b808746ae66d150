import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { addDays, nightAt, nightForDate } from '../core/astro.js';
import type { Clock } from '../core/clock.js';
import { LucioleError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { checkPlan, type ComplianceFinding, type ComplianceLamp } from '../policy/compliance.js';
import type { ComplianceRule } from '../policy/compliance-rules.js';
import { predictNights, type NightPrediction, type RecordedDetection } from '../policy/what-if.js';
import { formatIssuePath } from '../protocol/codec.js';
import type { InputOf, LampSelection } from '../protocol/index.js';
import type { PolicyApi } from './api.js';
import type { LampRecord } from './inventory-schema.js';
import {
  clearCommands,
  isActive,
  overrideCommands,
  overrideEnd,
  overrideRequestSchema,
  resolveTarget,
  type CabinetDelivery,
  type OverrideRecord,
  type OverrideRequest,
} from './overrides.js';
import { levelCurve, type LevelCurve } from './plan-curve.js';
import { diffPlans } from './plan-diff.js';
import { townPlanSchema, type PlanVersion, type TownPlan } from './plan.js';
import { compileTownPolicy } from './policy-compiler.js';
import type {
  ComplianceReport,
  NightPolicyResult,
  PlanSaveResult,
  PlanVersionDetail,
  WhatIfResult,
} from './policy-views.js';
import type { ConfigStore, TelemetryStore } from './stores.js';
import { lampGroupSchema, listZones, zoneInfos, zoneUpdateSchema, type LampGroup, type ZoneUpdate, type ZoneView } from './zones.js';

/** A save refused by the compliance checks: 422 with every finding. */
export class PlanNoncompliantError extends LucioleError {
  constructor(readonly findings: ComplianceFinding[]) {
    const errors = findings.filter((f) => f.severity === 'error');
    const rules = [...new Set(errors.map((f) => f.rule))];
    super(
      'LUCIOLE_ERR_POLICY_NONCOMPLIANT',
      `Plan refusé : ${errors.length} non-conformité${errors.length > 1 ? 's' : ''} (${rules.join(', ')}). ${errors[0]?.message ?? ''}`.trim(),
      errors[0]?.field,
    );
  }
}

export interface PolicyServiceOptions {
  configStore: ConfigStore;
  telemetryStore: TelemetryStore;
  clock: Clock;
  logger: Logger;
  /** The inventory as the controller holds it. */
  lamps(): readonly LampRecord[];
  /** Compiles and publishes a saved version to every cabinet; resolves with the number of cabinets. */
  publish(version: PlanVersion): Promise<number>;
  /** Publishes a command to a cabinet (QoS 1); resolves once the broker has it or the wait ran out. */
  sendCommand(cabinetId: string, command: InputOf<'command'>): Promise<void>;
  newCommandId(): string;
  /** Throws when the controller cannot publish (not started): checked before anything is saved. */
  assertRunning(): void;
  /** The compliance rule table; default policy/compliance-rules DEFAULT_RULES. */
  rules?: readonly ComplianceRule[];
  /** Nights checked from tonight at each save. Default 365: every season and calendar date. */
  complianceNights?: number;
}

const WHAT_IF_NIGHTS = 7;
/** An override refused as `expired` (the gateway was away) is sent again, this many times at most. */
const MAX_RESENDS = 3;

/**
 * The policy editor's back end: zones, groups, checked and versioned plans, what-if, level curves
 * and overrides with per-cabinet delivery. The controller wires it to the broker and the stores.
 */
export class PolicyService implements PolicyApi {
  private readonly log: Logger;
  /** Override command id → the override and cabinet it carries. */
  private readonly commandIndex = new Map<string, { overrideId: string; cabinetId: string }>();

  constructor(private readonly opts: PolicyServiceOptions) {
    this.log = opts.logger.child({ component: 'policies' });
  }

  /** Learns the commands of the overrides still active, so their acks are recognised after a restart. */
  start(): void {
    for (const o of this.opts.configStore.activeOverrides(this.opts.clock.now())) this.indexCommands(o);
  }

  // ---------------- zones and groups ----------------

  zones(): ZoneView[] {
    return listZones(this.opts.configStore.zones(), this.opts.lamps(), this.opts.configStore.currentPlan()?.plan ?? null);
  }

  updateZone(name: string, update: ZoneUpdate, author: string): ZoneView {
    const parsed = parse(zoneUpdateSchema, update, 'LUCIOLE_ERR_ZONE_INVALID');
    if (!this.zones().some((z) => z.name === name)) {
      throw new LucioleError('LUCIOLE_ERR_ZONE_NOT_FOUND', `no zone "${name}" in the inventory or the plan`, 'zone');
    }
    this.opts.configStore.saveZone({ ...parsed, name }, author);
    return this.zones().find((z) => z.name === name)!;
  }

  groups(): LampGroup[] {
    return this.opts.configStore.groups();
  }

  group(id: string): LampGroup | undefined {
    return this.groups().find((g) => g.id === id);
  }

  saveGroup(group: LampGroup, author: string): LampGroup {
    const g = parse(lampGroupSchema, group, 'LUCIOLE_ERR_GROUP_INVALID');
    const known = new Set(this.opts.lamps().map((l) => l.id));
    const unknown = g.lamps.findIndex((id) => !known.has(id));
    if (unknown >= 0) {
      throw new LucioleError('LUCIOLE_ERR_LAMP_NOT_FOUND', `no lamp "${g.lamps[unknown]}" in the inventory`, `lamps.${unknown}`);
    }
    return this.opts.configStore.saveGroup(g, author);
  }

  deleteGroup(id: string, author: string): boolean {
    return this.opts.configStore.deleteGroup(id, author);
  }

  // ---------------- compliance, versions ----------------

  check(plan: TownPlan): ComplianceReport {
    const parsed = parsePlan(plan);
    const { site } = this.opts.configStore.town();
    // Only lamps whose colour temperature is known can break a colour rule.
    const lamps: ComplianceLamp[] = [];
    for (const l of this.opts.lamps()) {
      if (typeof l.colourTemperatureK === 'number') lamps.push({ id: l.id, zone: l.zone, colourTemperatureK: l.colourTemperatureK });
    }
    const findings = checkPlan({
      plan: parsed,
      site,
      zones: zoneInfos(this.opts.configStore.zones()),
      lamps,
      ...(this.opts.rules ? { rules: this.opts.rules } : {}),
      firstNight: nightAt(site, this.opts.clock.now()).date,
      nights: this.opts.complianceNights ?? 365,
    });
    const errors = findings.filter((f) => f.severity === 'error').length;
    return { ok: errors === 0, errors, warnings: findings.length - errors, findings };
  }

  async save(plan: TownPlan, author: string, note?: string): Promise<PlanSaveResult> {
    return this.saveAndPublish(plan, author, { note, check: true });
  }

  /**
   * `check: false` is for trusted callers that publish a plan they wrote themselves (the CLI, the
   * demo, tests): no compliance run, no findings. Everything coming through the API is checked.
   */
  async saveAndPublish(plan: TownPlan, author: string, opts: { note?: string | undefined; check: boolean }): Promise<PlanSaveResult> {
    this.opts.assertRunning();
    const parsed = parsePlan(plan);
    const report: ComplianceReport = opts.check ? this.check(parsed) : { ok: true, errors: 0, warnings: 0, findings: [] };
    if (!report.ok) throw new PlanNoncompliantError(report.findings);
    const store = this.opts.configStore;
    const previous = store.currentPlan();
    const version = store.savePlan(parsed, author, opts.note);
    const cabinets = await this.opts.publish(version);
    store.audit(author, 'plan.publish', `${version.plan.id}@${version.version}`, `${cabinets} cabinets`);
    this.log.info({ plan: version.plan.id, version: version.version, cabinets, author, warnings: report.warnings }, 'plan published');
    return { ...version, findings: report.findings, diff: diffPlans(previous?.plan ?? null, version.plan), cabinets };
  }

  version(v: number): PlanVersionDetail | undefined {
    const store = this.opts.configStore;
    const found = store.planVersion(v);
    if (!found) return undefined;
    let previous: PlanVersion | undefined;
    for (let p = v - 1; p >= 1 && !previous; p--) previous = store.planVersion(p);
    return { ...found, diff: diffPlans(previous?.plan ?? null, found.plan), previous: previous?.version ?? null };
  }

  async rollback(v: number, author: string): Promise<PlanSaveResult> {
    const old = this.opts.configStore.planVersion(v);
    if (!old) throw new LucioleError('LUCIOLE_ERR_PLAN_VERSION_NOT_FOUND', `no plan version ${v}`, 'version');
    return this.save(old.plan, author, `rollback to v${v}`);
  }

  // ---------------- what-if, curve ----------------

  async whatIf(draft: TownPlan): Promise<WhatIfResult> {
    const parsed = parsePlan(draft);
    const { site } = this.opts.configStore.town();
    const lampRecords = this.opts.lamps();
    const lamps = lampRecords.map((l) => ({ id: l.id, nominalPowerW: l.nominalPowerW }));
    const tonight = nightAt(site, this.opts.clock.now()).date;
    const dates: string[] = [];
    for (let k = WHAT_IF_NIGHTS; k >= 1; k--) dates.push(addDays(tonight, -k));
    const from = nightForDate(site, dates[0]!).windowStart;
    const to = nightForDate(site, dates[dates.length - 1]!).windowEnd;
    const store = this.opts.telemetryStore;
    const presence: RecordedDetection[] = store.presenceEvents ? await store.presenceEvents(from, to) : [];

    const current = this.opts.configStore.currentPlan();
    const replay = (plan: PlanVersion): NightPrediction[] =>
      predictNights({ policy: compileTownPolicy({ plan, site, lamps: lampRecords, issuedAt: 0 }), lamps, presence, nights: dates });
    const draftNights = replay({ version: 1, author: '', createdAt: 0, plan: parsed });
    const currentNights = current ? replay(current) : null;

    const nights: WhatIfResult['nights'] = draftNights.map((d, i) => {
      const night = nightForDate(site, d.date);
      const c = currentNights?.[i];
      return { date: d.date, dusk: night.dusk, dawn: night.dawn, detections: d.detections, draft: nightResult([d]), current: c ? nightResult([c]) : null };
    });
    return {
      timezone: site.timezone,
      lamps: lamps.length,
      presence: store.presenceEvents ? 'recorded' : 'unavailable',
      current: current ? { id: current.plan.id, version: current.version } : null,
      nights,
      totals: { draft: nightResult(draftNights), current: currentNights ? nightResult(currentNights) : null },
    };
  }

  curve(profile: string, date: string, plan?: TownPlan): LevelCurve {
    const source = plan ? parsePlan(plan) : this.opts.configStore.currentPlan()?.plan;
    if (!source) throw new LucioleError('LUCIOLE_ERR_PLAN_NOT_FOUND', 'no plan has been published yet: send a draft');
    return levelCurve({ plan: source, profile, date, site: this.opts.configStore.town().site });
  }

  // ---------------- overrides ----------------

  async setOverride(request: OverrideRequest, actor: string): Promise<OverrideRecord> {
    this.opts.assertRunning();
    const r = parse(overrideRequestSchema, request, 'LUCIOLE_ERR_OVERRIDE_INVALID');
    const now = this.opts.clock.now();
    const until = overrideEnd(r, now);
    const target = resolveTarget(r.target, { lamps: this.opts.lamps(), group: (id) => this.group(id) });
    const sends: Array<{ cabinetId: string; command: InputOf<'command'> }> = [];
    const cabinets: CabinetDelivery[] = [];
    for (const [cabinetId, lamps] of target.cabinets) {
      const commands = overrideCommands(lamps, r.level, until, now, () => this.opts.newCommandId());
      const ids = commands.map((c) => c.id);
      cabinets.push({ cabinetId, lamps, commandIds: ids, waiting: ids, state: 'sent', error: null, resent: 0 });
      for (const command of commands) sends.push({ cabinetId, command });
    }
    const record: OverrideRecord = {
      id: `ovr-${randomUUID().slice(0, 12)}`,
      target: r.target,
      level: r.level,
      reason: r.reason,
      actor,
      createdAt: now,
      until,
      lampCount: target.lampCount,
      cabinets,
      clearedAt: null,
      clearedBy: null,
    };
    this.opts.configStore.saveOverride(record);
    this.indexCommands(record);
    this.opts.configStore.audit(actor, 'override.set', `override:${record.id}`, JSON.stringify({ target: r.target, level: r.level, until, reason: r.reason }));
    this.log.info({ override: record.id, target: r.target, level: r.level, until, actor, cabinets: cabinets.length }, 'override set');
    for (const s of sends) await this.opts.sendCommand(s.cabinetId, s.command);
    return this.opts.configStore.override(record.id) ?? record;
  }

  overrides(): OverrideRecord[] {
    return this.opts.configStore.activeOverrides(this.opts.clock.now());
  }

  async clearOverride(id: string, actor: string): Promise<OverrideRecord> {
    this.opts.assertRunning();
    const store = this.opts.configStore;
    const now = this.opts.clock.now();
    const found = store.override(id);
    if (!found || !isActive(found, now)) throw new LucioleError('LUCIOLE_ERR_OVERRIDE_NOT_FOUND', `no active override "${id}"`, 'id');
    const cleared: OverrideRecord = { ...found, clearedAt: now, clearedBy: actor };
    store.saveOverride(cleared);
    store.audit(actor, 'override.clear', `override:${id}`, found.reason);
    this.log.info({ override: id, actor }, 'override cleared');
    const others = store.activeOverrides(now);
    for (const d of found.cabinets) {
      for (const command of clearCommands(d.lamps, now, () => this.opts.newCommandId())) await this.opts.sendCommand(d.cabinetId, command);
      // A clear ends every override of those lamps at the gateway: the others still due there are sent again, after it.
      for (const other of others) {
        if (other.cabinets.some((o) => o.cabinetId === d.cabinetId && overlaps(o.lamps, d.lamps))) await this.resend(other.id, d.cabinetId, false);
      }
    }
    return cleared;
  }

  /** An ack of a command: true when it was one of an override's. */
  onCommandAck(cabinetId: string, commandId: string, ok: boolean, error: string | undefined): boolean {
    const ref = this.commandIndex.get(commandId);
    if (!ref || ref.cabinetId !== cabinetId) return false;
    this.commandIndex.delete(commandId);
    const store = this.opts.configStore;
    const record = store.override(ref.overrideId);
    const d = record?.cabinets.find((c) => c.cabinetId === cabinetId);
    if (!record || !d || !d.waiting.includes(commandId)) return true;
    const waiting = d.waiting.filter((w) => w !== commandId);
    const now = this.opts.clock.now();
    if (!ok && error === 'expired' && isActive(record, now) && d.resent < MAX_RESENDS) {
      // The gateway was away longer than the command lived: the override is still due there.
      this.resend(record.id, cabinetId, true).catch((err: unknown) => this.log.warn({ err, override: record.id, cabinetId }, 'override not sent again'));
      return true;
    }
    const next: CabinetDelivery = ok
      ? { ...d, waiting, state: d.state === 'refused' ? 'refused' : waiting.length === 0 ? 'applied' : 'sent' }
      : { ...d, waiting, state: 'refused', error: error ?? 'refused' };
    store.saveOverride({ ...record, cabinets: record.cabinets.map((c) => (c.cabinetId === cabinetId ? next : c)) });
    return true;
  }

  /** Sends an active override to one cabinet again, for the time it has left. */
  private async resend(overrideId: string, cabinetId: string, afterRefusal: boolean): Promise<void> {
    const store = this.opts.configStore;
    const record = store.override(overrideId);
    const now = this.opts.clock.now();
    const d = record?.cabinets.find((c) => c.cabinetId === cabinetId);
    if (!record || !d || !isActive(record, now)) return;
    const commands = overrideCommands(d.lamps, record.level, record.until, now, () => this.opts.newCommandId());
    const ids = commands.map((c) => c.id);
    const next: CabinetDelivery = { ...d, commandIds: ids, waiting: ids, state: 'sent', error: null, resent: d.resent + (afterRefusal ? 1 : 0) };
    const updated = { ...record, cabinets: record.cabinets.map((c) => (c.cabinetId === cabinetId ? next : c)) };
    store.saveOverride(updated);
    for (const id of ids) this.commandIndex.set(id, { overrideId, cabinetId });
    for (const command of commands) await this.opts.sendCommand(cabinetId, command);
  }

  private indexCommands(o: OverrideRecord): void {
    for (const d of o.cabinets) for (const id of d.waiting) this.commandIndex.set(id, { overrideId: o.id, cabinetId: d.cabinetId });
  }
}

function overlaps(a: LampSelection, b: LampSelection): boolean {
  if (a === 'all' || b === 'all') return true;
  const set = new Set(a);
  return b.some((id) => set.has(id));
}

function nightResult(nights: readonly NightPrediction[]): NightPolicyResult {
  let energyWh = 0;
  let fullPowerWh = 0;
  let detections = 0;
  let boosted = 0;
  for (const n of nights) {
    energyWh += n.energyWh;
    fullPowerWh += n.fullPowerWh;
    detections += n.detections;
    boosted += n.detectionsBoosted;
  }
  return {
    energyKWh: energyWh / 1000,
    fullPowerKWh: fullPowerWh / 1000,
    detectionsBoosted: boosted,
    boostedShare: detections > 0 ? boosted / detections : null,
  };
}

function parsePlan(plan: unknown): TownPlan {
  return parse(townPlanSchema, plan, 'LUCIOLE_ERR_PLAN_INVALID');
}

function parse<T>(schema: z.ZodType<T>, input: unknown, code: string): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue ? formatIssuePath(issue.path) : '';
  throw new LucioleError(code, `${field || '(value)'}: ${issue?.message ?? 'invalid'}`, field);
}
