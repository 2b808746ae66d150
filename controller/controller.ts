import { randomUUID } from 'node:crypto';
import type { IClientOptions } from 'mqtt';
import type { Clock } from '../core/clock.js';
import { LucioleError } from '../core/errors.js';
import { RateLimitedLog, type Logger } from '../core/log.js';
import {
  allCabinetsFilter,
  cabinetTopic,
  encodePayload,
  idSchema,
  UP_CHANNELS,
  type Ack,
  type InputOf,
  type GatewayEvent,
  type PolicyRef,
  type Presence,
  type Site,
  type Status,
  type Telemetry,
} from '../protocol/index.js';
import { nightAt } from '../core/astro.js';
import { compileCalendar, type CompiledCalendar } from '../policy/calendar.js';
import type { ControllerApi } from './api.js';
import { energyWindow, nightEnergy, recentNights } from './energy.js';
import { Ingest, type IngestHandlers } from './ingest.js';
import type { LampRecord } from './inventory-schema.js';
import { LiveState } from './live-state.js';
import { MqttLink, type SharedSubscriptionOptions } from './mqtt-link.js';
import { NeighbourGraph } from './neighbours.js';
import { filterAlerts } from './alerts/alert-filter.js';
import { DEFAULT_HISTORY_POINTS, lampHistoryView, MAX_HISTORY_SPAN_MS } from './alerts/lamp-history.js';
import { DetectionHook } from './detection-hook.js';
import { OverrideCover } from './detection/override-cover.js';
import type { Notifier } from './notify/notifier.js';
import { isQueuedStore } from './telemetry/store-factory.js';
import type { PlanVersion, TownPlan } from './plan.js';
import { compileCabinetPolicies, profileOfLamp } from './policy-compiler.js';
import { PolicyService } from './policy-service.js';
import { CommandKeyStore, CommandSigner } from './command-signing.js';
import { RelayLimiter, relayCommands, type RelayContext } from './presence-relay.js';
import { Receipts } from './receipts.js';
import type { CabinetRecord, ConfigStore, PresenceRecord, TelemetryStore } from './stores.js';
import { TelemetrySink } from './telemetry-sink.js';
import type { AlertFilter, AlertView, CabinetView, EnergySummary, IngestStats, LampHistoryView, LampView, LiveEvent } from './views.js';
import { WriteBatcher } from './write-batcher.js';

export const CONTROLLER_CLIENT_ID = 'luciole-controller';

export interface CredentialIssuer {
  /** Issues a new secret for `username`, revoking the previous one. */
  issue(username: string, role: 'cabinet'): string;
}

/** How long the town's site is read from cache (see siteOrNull). */
const SITE_CACHE_MS = 1000;

export interface ControllerOptions {
  brokerUrl: string;
  username: string;
  password: string;
  configStore: ConfigStore;
  telemetryStore: TelemetryStore;
  clock: Clock;
  logger: Logger;
  credentials?: CredentialIssuer;
  /** Longest wait before a telemetry batch is written, clock ms. Default 200. */
  batchMs?: number;
  /** Most messages per write. Default 500. */
  maxBatch?: number;
  /** How often receipts are sent, clock ms. Default 1000. */
  receiptMs?: number;
  /** Expected telemetry period, seconds: completeness and offline detection. Default 60. */
  periodS?: number;
  /** Relays to one lamp at most this often, clock ms (presence only raises light: more adds nothing). Default 1000. */
  relayMinIntervalMs?: number;
  /** How long publishPlan waits for the broker's acks before returning (the messages stay queued). Default 10 s. */
  publishTimeoutMs?: number;
  mqttOptions?: IClientOptions;
  /**
   * QoS of the controller's telemetry subscription (default 1: the broker queues telemetry in the
   * controller's session while it is away). 0 is enough when the broker runs in this process
   * (`luciole serve` with the bundled broker): its queue dies with the controller anyway, and
   * storage is end to end (a gateway keeps a message until a receipt covers it, and sends it
   * again after `resendAfterS`); it spares the broker's QoS 1 bookkeeping and a PUBACK per
   * message, 11 % of the ingest ceiling (docs/performance.md). Other channels stay at QoS 1.
   */
  telemetryQos?: 0 | 1;
  /**
   * Share the uplink stream with other controllers through an MQTT 5 shared subscription
   * (Mosquitto 2, EMQX; not the bundled aedes). See docs/deployment.md for what stays correct.
   */
  shared?: SharedSubscriptionOptions;
  /** Alert notifications (webhooks, e-mail), started and stopped with the controller. */
  notifier?: Notifier;
}

const ACK_POLICY_REF = /^policy:([A-Za-z0-9_.-]{1,64})@(\d+)$/;
const MAX_ENERGY_NIGHTS = 366;
const STOP_RECEIPT_GRACE_MS = 2000;

interface InventorySnapshot {
  lamps: LampRecord[];
  lampsById: Map<string, LampRecord>;
  cabinets: Map<string, CabinetRecord>;
  graph: NeighbourGraph;
}

/**
 * The controller process's runtime: ingest of every uplink, receipts, live state, fault detection and alerts,
 * relay of presence across cabinets, and the policies published to the cabinets. The dashboard
 * talks to it through ControllerApi only. The stores are opened and closed by the caller.
 */
export class Controller implements ControllerApi {
  readonly clock: Clock;
  private readonly log: Logger;
  private readonly configStore: ConfigStore;
  private readonly telemetryStore: TelemetryStore;
  private readonly periodS: number;
  private readonly publishTimeoutMs: number;
  private readonly live: LiveState;
  private readonly ingest: Ingest;
  private readonly link: MqttLink;
  private readonly receipts: Receipts;
  private readonly telemetry: TelemetrySink;
  private readonly presence: WriteBatcher<PresenceRecord>;
  /** Fault detectors and the alerts' life cycle (cabinet_offline included). */
  private readonly detection: DetectionHook;
  private readonly overrideCover: OverrideCover;
  private readonly warnOnce: RateLimitedLog;
  private inventory: InventorySnapshot = {
    lamps: [],
    lampsById: new Map(),
    cabinets: new Map(),
    graph: new NeighbourGraph([]),
  };
  private plan: PlanVersion | null = null;
  /** The current plan's calendar, compiled once per plan: the relay asks it per detection. */
  private calendar: { plan: TownPlan; compiled: CompiledCalendar } | null = null;
  /** Zones, groups, checked and versioned plans, what-if, curves, overrides. */
  readonly policies: PolicyService;
  private readonly policyStates = new Map<string, { published: PolicyRef | null; acked: PolicyRef | null }>();
  private signer: CommandSigner | null = null;
  private readonly relayLimiter: RelayLimiter;
  private commandIdPrefix = '';
  private commandCounter = 0;
  private state: 'new' | 'started' | 'stopped' = 'new';
  private siteCache: { at: number; site: Site | null } | null = null;

  constructor(private readonly opts: ControllerOptions) {
    this.clock = opts.clock;
    this.log = opts.logger.child({ component: 'controller' });
    this.configStore = opts.configStore;
    this.telemetryStore = opts.telemetryStore;
    this.periodS = opts.periodS ?? 60;
    this.publishTimeoutMs = opts.publishTimeoutMs ?? 10_000;
    const now = (): number => this.clock.now();
    this.warnOnce = new RateLimitedLog(this.log, 60_000, now);
    this.relayLimiter = new RelayLimiter(opts.relayMinIntervalMs ?? 1000);
    this.live = new LiveState((err) => this.log.warn({ err }, 'live listener failed'));
    this.ingest = new Ingest(this.handlers(), this.log, now);
    this.link = new MqttLink({
      url: opts.brokerUrl,
      username: opts.username,
      password: opts.password,
      clientId: CONTROLLER_CLIENT_ID,
      logger: this.log,
      subscriptions: UP_CHANNELS.map((c) => ({ filter: allCabinetsFilter(c), qos: c === 'telemetry' ? (opts.telemetryQos ?? 1) : 1 })),
      onMessage: (topic, payload, retained) => this.ingest.handle(topic, payload, retained),
      onConnect: () => this.republishPolicies(),
      ...(opts.mqttOptions ? { mqttOptions: opts.mqttOptions } : {}),
      ...(opts.shared ? { shared: opts.shared } : {}),
    });
    this.receipts = new Receipts({
      clock: this.clock,
      logger: this.log,
      receiptMs: opts.receiptMs ?? 1000,
      publish: (cabinetId, payload) =>
        this.link.publish(cabinetTopic(cabinetId, 'receipt'), payload, { qos: 1, retain: false }),
    });
    this.telemetry = new TelemetrySink({
      store: this.telemetryStore,
      clock: this.clock,
      logger: this.log,
      batchMs: opts.batchMs ?? 200,
      maxBatch: opts.maxBatch ?? 500,
      onFinal: (cabinetId, seq) => this.receipts.markFinal(cabinetId, seq),
    });
    this.presence = new WriteBatcher<PresenceRecord>({
      clock: this.clock,
      batchMs: opts.batchMs ?? 200,
      maxBatch: opts.maxBatch ?? 500,
      write: (batch) => this.telemetryStore.writePresence(batch),
      onError: (err, items) => this.log.error({ err, items }, 'presence write failed; retrying'),
    });
    this.overrideCover = new OverrideCover({
      load: (at) => this.configStore.activeOverrides(at),
      cabinetOf: (lampId) => this.inventory.lampsById.get(lampId)?.cabinetId,
    });
    const telemetryStore = this.telemetryStore;
    this.detection = new DetectionHook({
      clock: this.clock,
      logger: this.log,
      site: () => this.siteOrNull(),
      defaultPeriodS: this.periodS,
      saveAlert: (a) => this.configStore.saveAlert(a),
      emit: (e) => this.live.emit(e),
      publish: (t, p, o) => this.link.publish(t, p, o),
      onCabinetOffline: (id) => {
        this.live.markOffline(id);
        this.emitCabinet(id);
      },
      overrideActive: (lampId, t) => this.overrideCover.covers(lampId, t, this.clock.now()),
      ...(isQueuedStore(telemetryStore)
        ? { storage: () => ({ available: telemetryStore.available(), queueDepth: telemetryStore.queueDepth() }) }
        : {}),
      ...(opts.notifier ? { notifier: opts.notifier } : {}),
    });
    this.policies = new PolicyService({
      configStore: this.configStore,
      telemetryStore: this.telemetryStore,
      clock: this.clock,
      logger: this.log,
      lamps: () => this.inventory.lamps,
      publish: (version) => {
        this.plan = version;
        return this.publishPolicies(version);
      },
      sendCommand: (cabinetId, command) => this.sendCommand(cabinetId, command),
      newCommandId: () => this.newCommandId(),
      assertRunning: () => {
        if (this.state !== 'started') throw new LucioleError('LUCIOLE_ERR_NOT_STARTED', 'controller is not running');
      },
    });
  }

  // ---------------- lifecycle ----------------

  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('controller already started');
    this.state = 'started';
    this.commandIdPrefix = randomUUID().slice(0, 8);
    const keys = new CommandKeyStore(this.configStore.db);
    keys.init();
    this.signer = new CommandSigner(keys, () => this.clock.now());
    this.reloadInventory();
    this.plan = this.configStore.currentPlan();
    for (const s of this.configStore.policyStates()) {
      this.policyStates.set(s.cabinetId, { published: s.published, acked: s.acked });
    }
    this.detection.start(this.configStore.alerts());
    this.policies.start();
    this.receipts.start();
    try {
      await this.link.start();
    } catch (err) {
      await this.detection.stop();
      this.receipts.stop();
      this.ingest.close();
      this.state = 'stopped';
      throw err;
    }
    this.log.info({ cabinets: this.inventory.cabinets.size, lamps: this.inventory.lamps.length }, 'controller started');
  }

  /** Writes what is batched, sends the receipts it earns, then disconnects; nothing runs afterwards. */
  async stop(): Promise<void> {
    if (this.state !== 'started') return;
    this.state = 'stopped';
    this.ingest.close();
    await this.detection.stop();
    this.receipts.stop();
    await this.telemetry.close();
    await this.presence.close();
    if (this.link.connected) {
      await withTimeout(this.receipts.sendPending(), STOP_RECEIPT_GRACE_MS);
    }
    await this.link.stop();
    this.live.clearListeners();
    this.log.info('controller stopped');
  }

  /** Reloads lamps and cabinets from the config store (call after an inventory import). */
  reloadInventory(): void {
    const lamps = this.configStore.lamps();
    const lampsById = new Map(lamps.map((l) => [l.id, l]));
    this.inventory = {
      lamps,
      lampsById,
      cabinets: new Map(this.configStore.cabinets().map((c) => [c.id, c])),
      graph: new NeighbourGraph(lamps),
    };
    this.live.retainLamps((id) => lampsById.has(id));
    this.detection.setInventory(lamps);
    const s = this.telemetryStore;
    if (isQueuedStore(s)) s.setLampZones(new Map(lamps.map((l) => [l.id, l.zone])));
  }

  // ---------------- uplinks ----------------

  private handlers(): IngestHandlers {
    return {
      telemetry: (cabinetId, msg) => this.onTelemetry(cabinetId, msg),
      presence: (cabinetId, msg) => this.onPresence(cabinetId, msg),
      status: (cabinetId, msg, retained) => this.onStatus(cabinetId, msg, retained),
      event: (cabinetId, msg) => this.onEvent(cabinetId, msg),
      ack: (cabinetId, msg) => this.onAck(cabinetId, msg),
      invalidTelemetry: (cabinetId, seq) => this.receipts.markFinal(cabinetId, seq),
    };
  }

  /** Any valid message: the cabinet is alive (the detectors resolve its offline alert). */
  private seen(cabinetId: string, now: number): void {
    if (this.live.markSeen(cabinetId, now)) this.emitCabinet(cabinetId);
  }

  private onTelemetry(cabinetId: string, msg: Telemetry): void {
    const now = this.clock.now();
    this.seen(cabinetId, now);
    this.telemetry.add({
      cabinetId,
      seq: msg.seq,
      ts: msg.ts,
      periodS: msg.periodS,
      receivedAt: now,
      cabinet: msg.cabinet,
      lamps: msg.lamps,
    });
    this.detection.telemetry(cabinetId, msg);
    const won = this.live.applyTelemetry(cabinetId, msg.ts, msg.periodS, msg.lamps, this.inventory.lampsById);
    if (won.length > 0) {
      this.live.emit({
        type: 'lamps',
        cabinetId,
        ts: msg.ts,
        lamps: won.map((r) => ({ id: r.id, level: r.level, powerW: r.powerW, fault: r.fault })),
      });
    }
  }

  private onPresence(cabinetId: string, msg: Presence): void {
    const now = this.clock.now();
    this.seen(cabinetId, now);
    this.presence.add({
      cabinetId,
      lampId: msg.lampId,
      sensorId: msg.sensorId,
      kind: msg.kind,
      count: msg.count,
      ts: msg.ts,
    });
    this.live.emit({ type: 'presence', cabinetId, lampId: msg.lampId, kind: msg.kind, ts: msg.ts });
    this.detection.presence(cabinetId, msg);
    const { commands, skipped } = relayCommands(this.relayContext(), cabinetId, msg, now, () => this.newCommandId());
    if (skipped === 'foreign_lamp' || skipped === 'unknown_lamp') {
      this.warnOnce.warn(`presence:${cabinetId}`, { cabinetId, lampId: msg.lampId, skipped }, 'presence at a lamp not of this cabinet');
    }
    for (const { cabinetId: target, command } of commands) {
      if (command.kind === 'presence' && !this.relayLimiter.allow(command.lampId, now)) continue;
      this.link
        .publish(cabinetTopic(target, 'command'), this.signedPayload(target, command), { qos: 1, retain: false })
        .catch((err: unknown) => this.log.warn({ err, cabinetId: target }, 'presence relay not sent'));
    }
  }

  private relayContext(): RelayContext {
    const inv = this.inventory;
    return {
      plan: this.plan?.plan ?? null,
      lamp: (id) => inv.lampsById.get(id),
      profileOf: profileOfLamp,
      profileOn: (plan, own, at) => this.profileOn(plan, own, at),
      relayTargets: (from, propagate) => inv.graph.relayTargets(from, propagate),
    };
  }

  /** The profile followed at `at` by a lamp whose own profile is `own`: the calendar of that night applied. */
  private profileOn(plan: TownPlan, own: string, at: number): string {
    if (!plan.calendar || plan.calendar.length === 0) return own;
    if (this.calendar?.plan !== plan) this.calendar = { plan, compiled: compileCalendar(plan.calendar) };
    const site = this.siteOrNull();
    if (!site) return own;
    try {
      return this.calendar.compiled.profileFor(own, nightAt(site, at).date);
    } catch {
      return own; // no night at this site (polar): the gateway is in fail-safe anyway
    }
  }

  private async sendCommand(cabinetId: string, command: InputOf<'command'>): Promise<void> {
    try {
      const sent = await withTimeout(
        this.link.publish(cabinetTopic(cabinetId, 'command'), this.signedPayload(cabinetId, command), { qos: 1, retain: false }),
        this.publishTimeoutMs,
      );
      // Not acknowledged by the broker in time: the client keeps it queued and sends it on reconnection.
      if (!sent) this.log.warn({ cabinetId, command: command.id }, 'command publish not acknowledged yet');
    } catch (err) {
      this.log.warn({ err, cabinetId, command: command.id }, 'command not sent');
    }
  }

  /**
   * Signed with the cabinet's command key and its next seq, right before the publish, so seqs
   * reach the gateway in the order they were given. No key (a secret not issued here): sent
   * unsigned, and the gateway refuses it; said once a minute per cabinet.
   */
  private signedPayload(cabinetId: string, command: InputOf<'command'>): string {
    const signed = this.signer?.sign(cabinetId, command) ?? null;
    if (!signed) {
      this.warnOnce.warn(`unsigned:${cabinetId}`, { cabinetId }, 'no command key for this cabinet: command sent unsigned, the gateway will refuse it');
      return encodePayload('command', command);
    }
    return encodePayload('command', signed);
  }

  private newCommandId(): string {
    return `${this.commandIdPrefix}-${(this.commandCounter++).toString(36)}`;
  }

  private onStatus(cabinetId: string, msg: Status, _retained: boolean): void {
    const now = this.clock.now();
    this.live.applyStatus(cabinetId, msg, now);
    if (msg.online) this.live.markSeen(cabinetId, now);
    else this.live.markOffline(cabinetId);
    // A retained Last Will replayed on resubscription only bumps the open alert.
    this.detection.status(cabinetId, msg);
    this.emitCabinet(cabinetId);
  }

  private onEvent(cabinetId: string, msg: GatewayEvent): void {
    this.seen(cabinetId, this.clock.now());
    this.detection.event(cabinetId, msg);
    const fields = { cabinetId, code: msg.code, lampId: msg.lampId ?? null, detail: msg.detail, ts: msg.ts };
    if (msg.code === 'policy_rejected') this.log.warn(fields, 'cabinet rejected its policy');
    else this.log.info(fields, 'cabinet event');
  }

  private onAck(cabinetId: string, msg: Ack): void {
    this.seen(cabinetId, this.clock.now());
    this.detection.heard(cabinetId);
    const policy = ACK_POLICY_REF.exec(msg.ref);
    if (policy) {
      const ref: PolicyRef = { id: policy[1]!, version: Number(policy[2]) };
      if (!msg.ok) {
        this.log.warn({ cabinetId, ref: msg.ref, error: msg.error }, 'policy refused by cabinet');
        return;
      }
      this.configStore.setPolicyAcked(cabinetId, ref);
      const s = this.policyStates.get(cabinetId) ?? { published: null, acked: null };
      this.policyStates.set(cabinetId, { ...s, acked: ref });
      this.emitCabinet(cabinetId);
      return;
    }
    const commandId = msg.ref.startsWith('command:') ? msg.ref.slice('command:'.length) : null;
    if (commandId && this.policies.onCommandAck(cabinetId, commandId, msg.ok, msg.error)) return;
    if (!msg.ok) this.log.info({ cabinetId, ref: msg.ref, error: msg.error }, 'command not applied');
  }

  private emitCabinet(cabinetId: string): void {
    const cabinet = this.getCabinet(cabinetId);
    if (cabinet) this.live.emit({ type: 'cabinet', cabinet });
  }

  // ---------------- policies ----------------

  /** Publishes every cabinet's policy of the current plan, retained: idempotent (issuedAt = plan's createdAt). */
  private async republishPolicies(): Promise<void> {
    const plan = this.plan;
    if (!plan) return;
    try {
      const n = await this.publishPolicies(plan);
      this.log.info({ plan: plan.plan.id, version: plan.version, cabinets: n }, 'policies republished');
    } catch (err) {
      this.log.error({ err }, 'policies not republished');
    }
  }

  private async publishPolicies(plan: PlanVersion): Promise<number> {
    const { site } = this.configStore.town();
    const policies = compileCabinetPolicies({ plan, site, lamps: this.inventory.lamps, issuedAt: plan.createdAt });
    await Promise.all(
      [...policies].map(async ([cabinetId, policy]) => {
        const payload = encodePayload('policy', policy);
        const acked = await withTimeout(
          this.link.publish(cabinetTopic(cabinetId, 'policy'), payload, { qos: 1, retain: true }),
          this.publishTimeoutMs,
        );
        // Not acked in time: the client keeps it queued and sends it on reconnection.
        if (!acked) this.log.warn({ cabinetId }, 'policy publish not acknowledged yet');
        const ref: PolicyRef = { id: policy.id, version: policy.version };
        this.configStore.setPolicyPublished(cabinetId, ref);
        const s = this.policyStates.get(cabinetId) ?? { published: null, acked: null };
        this.policyStates.set(cabinetId, { ...s, published: ref });
        this.emitCabinet(cabinetId);
      }),
    );
    return policies.size;
  }

  // ---------------- ControllerApi ----------------

  town(): { name: string; site: Site } {
    return this.configStore.town();
  }

  /**
   * The detectors ask for the site once per lamp sample; reading it from the config store each
   * time (a query, JSON and zod, or a centroid over every lamp) took 78 % of the controller at the
   * ingest ceiling (issue 8). A site change shows within SITE_CACHE_MS.
   */
  private siteOrNull(): Site | null {
    const now = this.clock.now();
    if (this.siteCache && now - this.siteCache.at < SITE_CACHE_MS && now >= this.siteCache.at) return this.siteCache.site;
    let site: Site | null;
    try {
      site = this.configStore.town().site;
    } catch {
      site = null;
    }
    this.siteCache = { at: now, site };
    return site;
  }

  listCabinets(): CabinetView[] {
    const ids = new Set<string>(this.inventory.cabinets.keys());
    for (const [id] of this.live.cabinets()) ids.add(id);
    const out: CabinetView[] = [];
    for (const id of [...ids].sort()) {
      const v = this.getCabinet(id);
      if (v) out.push(v);
    }
    return out;
  }

  getCabinet(id: string): CabinetView | undefined {
    const inv = this.inventory.cabinets.get(id);
    const live = this.live.cabinet(id);
    if (!inv && !live) return undefined;
    const ps = this.policyStates.get(id);
    return {
      id,
      online: live?.online ?? false,
      lastSeen: live?.lastSeen ?? null,
      mode: live?.mode ?? null,
      agent: live?.agent ?? null,
      policy: live?.policy ?? null,
      policyPublished: ps?.published ?? null,
      policyAcked: ps?.acked ?? null,
      lamps: inv?.lamps ?? live?.lamps ?? 0,
      buffered: live?.buffered ?? null,
      lat: inv?.lat ?? null,
      lon: inv?.lon ?? null,
    };
  }

  listLamps(): LampView[] {
    return this.inventory.lamps.map((l) => {
      const live = this.live.lamp(l.id);
      return {
        id: l.id,
        cabinetId: l.cabinetId,
        zone: l.zone,
        lat: l.lat,
        lon: l.lon,
        nominalPowerW: l.nominalPowerW,
        baselinePowerW: l.baselinePowerW,
        level: live?.level ?? null,
        powerW: live?.powerW ?? null,
        fault: live?.fault ?? null,
        lastTs: live?.lastTs ?? null,
      };
    });
  }

  getLamp(id: string): LampRecord | undefined {
    return this.inventory.lampsById.get(id);
  }

  async energy(nights: number): Promise<EnergySummary> {
    if (!Number.isInteger(nights) || nights < 1 || nights > MAX_ENERGY_NIGHTS) {
      throw new LucioleError('LUCIOLE_ERR_INVALID_ARGUMENT', `nights must be an integer from 1 to ${MAX_ENERGY_NIGHTS}`, 'nights');
    }
    const { site } = this.configStore.town();
    const now = this.clock.now();
    const lamps = this.inventory.lamps.map((l) => ({ id: l.id, nominalPowerW: l.nominalPowerW }));
    const out: EnergySummary['nights'] = [];
    for (const night of recentNights(site, now, nights)) {
      const { from, to } = energyWindow(night, now);
      const energy = to > from ? await this.telemetryStore.energyByLamp(from, to) : [];
      out.push(nightEnergy({ night, now, lamps, energy, periodS: this.periodS }));
    }
    return { timezone: site.timezone, site, lamps: lamps.length, nights: out };
  }

  listAlerts(filter?: AlertFilter): AlertView[] {
    const all = this.configStore.alerts();
    if (!filter) return all;
    const inv = this.inventory;
    let byCabinet: Map<string, Set<string>> | null = null;
    const zonesOf = (a: AlertView): ReadonlySet<string> => {
      const lamp = a.lampId ? inv.lampsById.get(a.lampId) : undefined;
      if (lamp) return new Set([lamp.zone]);
      if (!byCabinet) {
        byCabinet = new Map();
        for (const l of inv.lamps) {
          const z = byCabinet.get(l.cabinetId) ?? new Set<string>();
          z.add(l.zone);
          byCabinet.set(l.cabinetId, z);
        }
      }
      return byCabinet.get(a.cabinetId) ?? new Set();
    };
    return filterAlerts(all, filter, zonesOf);
  }

  getAlert(id: string): AlertView | undefined {
    return this.detection.alert(id) ?? this.configStore.alerts().find((a) => a.id === id);
  }

  acknowledgeAlert(id: string, who: string): AlertView {
    const alert = this.detection.acknowledge(id, who);
    this.configStore.audit(who, 'alert.acknowledge', `alert:${id}`);
    return alert;
  }

  resolveAlert(id: string, who: string, note: string | null): AlertView {
    const alert = this.detection.resolve(id, who, note);
    this.configStore.audit(who, 'alert.resolve', `alert:${id}`, note ?? '');
    return alert;
  }

  async lampHistory(lampId: string, from: number, to: number, maxPoints = DEFAULT_HISTORY_POINTS): Promise<LampHistoryView> {
    if (!this.inventory.lampsById.has(lampId)) throw new LucioleError('LUCIOLE_ERR_LAMP_NOT_FOUND', `no lamp "${lampId}"`, 'id');
    if (!(to > from)) throw new LucioleError('LUCIOLE_ERR_INVALID_ARGUMENT', 'to must be after from', 'to');
    if (to - from > MAX_HISTORY_SPAN_MS) throw new LucioleError('LUCIOLE_ERR_INVALID_ARGUMENT', 'at most 31 days of history at once', 'from');
    const samples = await this.telemetryStore.lampHistory(lampId, from, to);
    return lampHistoryView(lampId, from, to, samples, maxPoints);
  }

  currentPlan(): PlanVersion | null {
    return this.configStore.currentPlan();
  }

  listPlanVersions(): PlanVersion[] {
    return this.configStore.planVersions();
  }

  /**
   * Saves and publishes a plan its caller vouches for (the CLI, the demo), without the compliance
   * checks that every save through the HTTP API runs (`policies.save`).
   */
  async publishPlan(plan: TownPlan, author: string): Promise<PlanVersion> {
    const { findings: _findings, diff: _diff, cabinets: _cabinets, ...version } = await this.policies.saveAndPublish(plan, author, { check: false });
    return version;
  }

  issueCabinetCredentials(cabinetId: string, author: string): { username: string; password: string } {
    const issuer = this.opts.credentials;
    if (!issuer) throw new LucioleError('LUCIOLE_ERR_NO_CREDENTIAL_STORE', 'no credential store configured');
    if (!idSchema.safeParse(cabinetId).success) {
      throw new LucioleError('LUCIOLE_ERR_INVALID_ID', 'cabinetId must be 1 to 64 characters of A-Z a-z 0-9 _ . -', 'cabinetId');
    }
    const password = issuer.issue(cabinetId, 'cabinet');
    this.configStore.audit(author, 'cabinet.credentials.issue', cabinetId, 'new secret issued, previous revoked');
    // The secret never goes to a log: only who and for which cabinet.
    this.log.info({ cabinetId, author }, 'cabinet credentials issued');
    return { username: cabinetId, password };
  }

  stats(): IngestStats {
    const c = this.ingest.counters();
    return {
      messagesIn: c.messagesIn,
      invalid: c.invalid,
      duplicates: this.telemetry.duplicates,
      samplesStored: this.telemetry.samplesStored,
      receiptsSent: this.receipts.sent,
      pendingWrites: this.telemetry.pending + this.presence.pending,
      storageQueue: this.telemetryStore.queueDepth(),
    };
  }

  subscribe(listener: (event: LiveEvent) => void): () => void {
    return this.live.subscribe(listener);
  }
}

/** Resolves true when `p` resolves in time, false on timeout; rejects when `p` does. */
async function withTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    // Network waits are real time whatever the injected clock's speed.
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
