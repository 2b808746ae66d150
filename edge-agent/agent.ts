import fs from 'node:fs';
import path from 'node:path';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { every, systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { RateLimitedLog, type Logger } from '../core/log.js';
import {
  cabinetTopic,
  channels,
  decodePayload,
  encodePayload,
  type Channel,
  type Command,
  type InputOf,
  type Policy,
  type Status,
  type Telemetry,
  type UpChannel,
} from '../protocol/index.js';
import type { EdgeConfig } from './config.js';
import type { DimmingEngine, DimmingEngineOptions } from './dimming/types.js';
import { createDimmingEngine } from './dimming/engine.js';
import { clockUnsynced } from './clock-sync.js';
import { checkCommand, commandKeyFromSecret } from './command-auth.js';
import type { DriverEvent, LampDriver, PresenceDetection } from './driver.js';
import { ackError, commandIdOfRaw, policyRefOfRaw } from './downlink-refs.js';
import { isStorageError, nodeFs, type EdgeFs } from './fs-port.js';
import { failsafeOutput, LampWatchdog } from './lamp-watchdog.js';
import { Outbox } from './outbox.js';
import { ReplayPacer } from './replay-pacer.js';
import { SensorLimiter } from './sensor-limiter.js';
import { StateStore } from './state-store.js';
import { UplinkQueue, type QueuedItem } from './uplink-queue.js';

export const AGENT_NAME = 'luciole-edge/0.1.0';
export const WILL_PAYLOAD = '{"v":1,"online":false}';
/** Presence published while offline waits in MQTT.js's memory queue; past this it is dropped. */
const MAX_OFFLINE_PRESENCE = 1000;
const OFFLINE_STATUS_TIMEOUT_MS = 2000;
/** Lamp ticks missed in a row before the watchdog drives the fail-safe levels itself. */
const WATCHDOG_MISSED_TICKS = 5;
/** How often unreceipted telemetry is looked at for a resend, at most (network ms). */
const RESEND_CHECK_MS = 5000;

export interface EdgeAgentOptions {
  config: EdgeConfig;
  clock: Clock;
  driver: LampDriver;
  logger: Logger;
  /** Merged over the agent's own MQTT options (tests shorten reconnectPeriod). */
  mqttOptions?: Partial<IClientOptions>;
  /**
   * Real time for the network: replay pacing and resends. A link's capacity is real whatever the
   * simulated clock says. Default the system clock.
   */
  networkClock?: Clock;
  /** The file calls of the outbox, uplink queue and state (tests make the disk fail). */
  fs?: EdgeFs;
  /** Builds the dimming engine (tests pass a failing one to prove the fail-safe). */
  createEngine?: (opts: DimmingEngineOptions) => DimmingEngine;
}

export interface EdgeAgentStats {
  /** Downlinks that failed to decode or validate. */
  malformed: number;
  policiesRejected: number;
  commandsRefused: number;
  /** Telemetry dropped from a full outbox (oldest first). */
  telemetryDropped: number;
  presenceDropped: number;
  /** Detections over a sensor's rate limit, dropped. */
  presenceRateLimited: number;
  /** Commands refused as unsigned, badly signed or replayed. */
  commandsUnauthenticated: number;
  /** Writes to disk that failed (full disk): the gateway went on lighting. */
  storageErrors: number;
  /** Ticks where the engine failed for at least one lamp, which got its fail-safe level. */
  engineFailures: number;
  /** Times the watchdog found the lamp tick stalled and drove the fail-safe levels. */
  watchdogTrips: number;
  /** Events or acks refused by a full uplink queue. */
  uplinkRefused: number;
  /** Telemetry messages sent from the outbox (first sends, replays and resends). */
  telemetrySent: number;
  /** Handler errors that were caught (a bug, or the driver failing). */
  errors: number;
}

interface Running {
  engine: DimmingEngine;
  state: StateStore;
  outbox: Outbox;
  uplinks: UplinkQueue;
  pacer: ReplayPacer;
  watchdog: LampWatchdog;
  sensors: SensorLimiter;
  commandKey: Buffer;
  client: MqttClient;
  topics: Record<Channel, string>;
  lampSet: ReadonlySet<string>;
  applied: Map<string, number>;
  /** Network time each outbox seq was last sent. */
  lastSentAt: Map<number, number>;
  unsynced: boolean;
  /** Applies levels again when a presence ramp ends, so the boost is reached within rampUpMs. */
  rampTimer: TimerHandle | null;
  /** The latest instant a ramp in progress ends. */
  rampDue: number;
  undo: (() => void)[];
}

/**
 * The gateway process: drives the lamps from the dimming engine, speaks PROTOCOL.md to the
 * broker, and keeps working with no network (stored policy, on-disk telemetry outbox).
 */
export class EdgeAgent {
  private run: Running | null = null;
  private isConnected = false;
  private offlinePresence = 0;
  private lastStatusKey = '';
  private connectWaiters: (() => void)[] = [];
  private readonly counters: EdgeAgentStats = {
    malformed: 0,
    policiesRejected: 0,
    commandsRefused: 0,
    telemetryDropped: 0,
    presenceDropped: 0,
    presenceRateLimited: 0,
    commandsUnauthenticated: 0,
    storageErrors: 0,
    engineFailures: 0,
    watchdogTrips: 0,
    uplinkRefused: 0,
    telemetrySent: 0,
    errors: 0,
  };
  private readonly log: Logger;
  private readonly rl: RateLimitedLog;

  constructor(private readonly opts: EdgeAgentOptions) {
    this.log = opts.logger.child({ component: 'edge-agent', cabinetId: opts.config.cabinetId });
    this.rl = new RateLimitedLog(this.log, 60_000, () => opts.clock.now());
  }

  get engine(): DimmingEngine {
    if (!this.run) throw new Error('edge agent not started');
    return this.run.engine;
  }

  get connected(): boolean {
    return this.isConnected;
  }

  outboxCount(): number {
    return this.run ? this.run.outbox.count() : 0;
  }

  outboxBytes(): number {
    return this.run ? this.run.outbox.bytes() : 0;
  }

  /** Events and acks not yet acknowledged by the broker. */
  uplinkCount(): number {
    return this.run ? this.run.uplinks.count() : 0;
  }

  stats(): Readonly<EdgeAgentStats> {
    const run = this.run;
    return {
      ...this.counters,
      presenceRateLimited: run ? run.sensors.dropped : this.counters.presenceRateLimited,
      watchdogTrips: run ? run.watchdog.tripped : this.counters.watchdogTrips,
    };
  }

  /** Resolves at the next (re)connection, or now if connected. */
  whenConnected(): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    return new Promise((resolve) => this.connectWaiters.push(resolve));
  }

  async start(): Promise<void> {
    if (this.run) throw new Error('edge agent already started');
    const { config, clock, driver } = this.opts;
    const net = this.opts.networkClock ?? systemClock();
    const fs = this.opts.fs ?? nodeFs;
    const now = clock.now();

    const outbox = new Outbox(path.join(config.dataDir, 'outbox'), config.outboxMaxBytes, fs);
    const opened = outbox.open();
    if (opened.discarded > 0) this.log.warn({ discarded: opened.discarded }, 'unreadable outbox files removed');
    const uplinks = new UplinkQueue({ dir: path.join(config.dataDir, 'uplink'), maxItems: config.uplinkQueueMax, fs });
    const upOpened = uplinks.open();
    if (upOpened.discarded > 0) this.log.warn({ discarded: upOpened.discarded }, 'unreadable uplink files removed');
    const state = new StateStore(path.join(config.dataDir, 'state'), { fs });
    const loaded = state.load(now, outbox.maxSeq());
    if (loaded.policyError) this.log.warn({ error: loaded.policyError }, 'stored policy invalid: fail-safe');
    if (loaded.seqError) this.log.warn({ error: loaded.seqError }, 'seq record unreadable: seqs restart from the clock');
    if (loaded.commandSeqError) this.log.warn({ error: loaded.commandSeqError }, 'command seq record unreadable: replays stopped by expiry and ids only until the next command');

    const lampIds = driver.lampIds();
    const engine = (this.opts.createEngine ?? createDimmingEngine)({ site: config.site, lampIds, failsafeLevel: config.failsafeLevel });
    const stored = state.policy();
    if (stored) {
      try {
        engine.setPolicy(stored);
      } catch (e) {
        this.log.warn({ err: e }, 'stored policy refused by the engine: fail-safe');
        engine.setPolicy(null);
      }
    }
    for (const o of state.overrides(now)) engine.setOverride(o);

    const topics = Object.fromEntries(
      Object.keys(channels).map((c) => [c, cabinetTopic(config.cabinetId, c as Channel)]),
    ) as Record<Channel, string>;
    const tls = readTls(config);
    const client = connect(config.brokerUrl, {
      clientId: `edge-${config.cabinetId}`,
      clean: false,
      username: config.username,
      password: config.password,
      keepalive: 30,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      // Subscriptions are made on every connect (below), so the retained policy arrives once.
      resubscribe: false,
      will: { topic: topics.status, payload: Buffer.from(WILL_PAYLOAD), qos: 1, retain: true },
      ...tls,
      ...this.opts.mqttOptions,
    });

    const run: Running = {
      engine,
      state,
      outbox,
      uplinks,
      pacer: new ReplayPacer({ clock: net, ratePerS: config.replayRatePerS, send: (seq) => this.sendFromOutbox(run, seq, net) }),
      watchdog: new LampWatchdog({
        clock,
        checkMs: config.tickMs,
        missedChecks: WATCHDOG_MISSED_TICKS,
        trip: () => this.driveFailsafe(run),
      }),
      sensors: new SensorLimiter(config.presenceLimit.max, config.presenceLimit.windowS * 1000),
      commandKey: commandKeyFromSecret(config.password),
      client,
      topics,
      lampSet: new Set(lampIds),
      applied: new Map(),
      lastSentAt: new Map(),
      unsynced: false,
      rampTimer: null,
      rampDue: 0,
      undo: [],
    };
    this.run = run;
    this.lastStatusKey = '';

    try {
      client.on('connect', () => this.guard('connect', () => this.onConnect(run)));
      client.on('close', () => {
        if (this.run !== run) return;
        if (this.isConnected) this.log.info('disconnected from broker');
        this.isConnected = false;
        // What was waiting is enqueued again, from the outbox, at the next connection.
        run.pacer.clear();
      });
      client.on('error', (err) => this.rl.warn('mqtt-error', { err: err.message }, 'mqtt error'));
      client.on('message', (topic, payload) => this.guard('message', () => this.onMessage(run, topic, payload)));

      run.undo.push(driver.onPresence((d) => this.guard('presence', () => this.onLocalPresence(run, d))));
      run.undo.push(driver.onEvent((e) => this.guard('driver-event', () => this.onDriverEvent(e))));
      driver.start();
      run.undo.push(() => driver.stop());
      run.undo.push(() => {
        if (run.rampTimer) clock.clearTimer(run.rampTimer);
        run.rampTimer = null;
      });

      this.applyLevels(run);
      run.undo.push(every(clock, config.tickMs, () => this.guard('tick', () => this.tick(run))));
      run.watchdog.start();
      run.undo.push(() => run.watchdog.stop());
      run.undo.push(every(clock, config.periodS * 1000, () => this.guard('telemetry', () => this.sendTelemetry(run))));
      run.pacer.start();
      run.undo.push(() => run.pacer.stop());
      const resendMs = config.resendAfterS * 1000;
      run.undo.push(every(net, Math.min(RESEND_CHECK_MS, resendMs), () => this.guard('resend', () => this.resendStale(run, net, resendMs))));

      // On disk until the broker has it: sent at the first connection.
      this.publishDurable(run, 'event', { v: 1, ts: now, code: 'reboot', lampId: null, detail: AGENT_NAME });
    } catch (e) {
      // Half-started: undo what was done so a retry starts clean.
      this.stopLocal(run, false);
      this.run = null;
      await client.endAsync(true);
      throw e;
    }
    this.log.info(
      { lamps: lampIds.length, policy: policyRef(stored), buffered: outbox.count(), uplinks: uplinks.count() },
      'edge agent started',
    );
  }

  /** Clean shutdown: retained offline status (a clean DISCONNECT fires no Last Will), state saved. */
  async stop(): Promise<void> {
    const run = this.run;
    if (!run) return;
    this.stopLocal(run);
    if (this.isConnected) {
      try {
        const payload = encodePayload('status', this.status(run, false));
        await withTimeout(
          run.client.publishAsync(run.topics.status, payload, { qos: 1, retain: true }),
          OFFLINE_STATUS_TIMEOUT_MS,
        );
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'offline status not confirmed');
      }
      await run.client.endAsync();
    } else {
      await run.client.endAsync(true);
    }
    this.isConnected = false;
    this.run = null;
    this.log.info('edge agent stopped');
  }

  /** Test hook: a crash as the broker sees it, socket cut with no DISCONNECT, so the Last Will fires. */
  async kill(): Promise<void> {
    const run = this.run;
    if (!run) return;
    this.stopLocal(run, false);
    run.client.stream?.destroy();
    await run.client.endAsync(true);
    this.isConnected = false;
    this.run = null;
  }

  private stopLocal(run: Running, persist = true): void {
    for (const undo of run.undo.splice(0).reverse()) undo();
    if (persist) {
      try {
        run.state.saveOverrides(run.engine.activeOverrides(this.opts.clock.now()));
      } catch (e) {
        this.log.error({ err: e }, 'could not save overrides');
      }
    }
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.counters.errors++;
      this.rl.warn(`error:${what}`, { err: (e as Error).message }, `${what} handler failed`);
    }
  }

  // ---------- connection ----------

  private onConnect(run: Running): void {
    if (this.run !== run) return;
    this.isConnected = true;
    this.offlinePresence = 0;
    // MQTT.js leaves Nagle on: small QoS 1 messages would wait for the previous ACK.
    (run.client.stream as { setNoDelay?: (noDelay: boolean) => void } | undefined)?.setNoDelay?.(true);
    this.log.info({ buffered: run.outbox.count() }, 'connected to broker');
    this.publishStatus(run);
    run.client.subscribe([run.topics.policy, run.topics.command, run.topics.receipt], { qos: 1 }, (err) => {
      if (err) this.rl.warn('subscribe', { err: err.message }, 'subscribe failed');
    });
    // Events and acks of an earlier connection or an earlier life, oldest first.
    for (const item of run.uplinks.unsent()) this.handOver(run, item);
    // Everything not yet receipted, oldest first, with its original ts, at the capped rate.
    run.pacer.clear();
    run.pacer.enqueue(run.outbox.seqList());
    for (const w of this.connectWaiters.splice(0)) w();
  }

  private onMessage(run: Running, topic: string, payload: Buffer): void {
    if (this.run !== run) return;
    if (topic === run.topics.policy) this.onPolicy(run, payload);
    else if (topic === run.topics.command) this.onCommand(run, payload);
    else if (topic === run.topics.receipt) this.onReceipt(run, payload);
  }

  // ---------- downlinks ----------

  private onPolicy(run: Running, payload: Buffer): void {
    // An empty retained payload: no policy published for this cabinet.
    if (payload.length === 0) return;
    const now = this.opts.clock.now();
    const decoded = decodePayload('policy', payload);
    if (!decoded.ok) {
      this.counters.malformed++;
      this.rejectPolicy(run, policyRefOfRaw(payload), decoded.error.message, false);
      return;
    }
    const policy = decoded.value;
    const ref = `policy:${policy.id}@${policy.version}`;
    const current = run.engine.getPolicy();
    if (!current || JSON.stringify(current) !== JSON.stringify(policy)) {
      try {
        run.engine.setPolicy(policy);
      } catch (e) {
        this.rejectPolicy(run, ref, (e as Error).message);
        return;
      }
      // Applied even if the disk is full: lost at a restart, the retained policy comes back at the next connection.
      this.persist('policy', () => run.state.savePolicy(policy));
      this.log.info({ policy: ref }, 'policy applied');
      this.applyLevels(run);
    }
    this.publishDurable(run, 'ack', { v: 1, ts: now, ref, ok: true });
    this.publishStatusIfChanged(run);
  }

  /**
   * `durable` false for a payload that failed validation: answered best effort (memory), so a
   * flood of garbage never becomes a flood of disk writes.
   */
  private rejectPolicy(run: Running, ref: string, error: string, durable = true): void {
    const now = this.opts.clock.now();
    this.counters.policiesRejected++;
    this.rl.warn('policy-rejected', { ref, error }, 'policy rejected, previous one kept');
    const send = durable ? this.publishDurable.bind(this) : this.publish.bind(this);
    send(run, 'ack', { v: 1, ts: now, ref, ok: false, error: ackError(error) });
    send(run, 'event', { v: 1, ts: now, code: 'policy_rejected', lampId: null, detail: ackError(`${ref}: ${error}`) });
  }

  private onCommand(run: Running, payload: Buffer): void {
    const now = this.opts.clock.now();
    const decoded = decodePayload('command', payload);
    if (!decoded.ok) {
      this.counters.malformed++;
      this.rl.warn('command-invalid', { error: decoded.error.message }, 'invalid command');
      const id = commandIdOfRaw(payload);
      if (id) this.refuseCommand(run, id, decoded.error.message, false);
      return;
    }
    const cmd = decoded.value;
    // Signed for this cabinet with its key, and newer than anything accepted: else nothing more is looked at.
    const auth = checkCommand(run.commandKey, this.opts.config.cabinetId, cmd, run.state.commandSeq());
    if (!auth.ok) {
      this.counters.commandsUnauthenticated++;
      this.rl.warn(`command-${auth.error}`, { id: cmd.id, seq: cmd.seq }, `command refused: ${auth.error}`);
      return this.refuseCommand(run, cmd.id, auth.error, false);
    }
    try {
      // On disk before it counts: a restart must not accept this seq again.
      run.state.saveCommandSeq(auth.seq);
    } catch (e) {
      this.counters.storageErrors++;
      this.rl.warn('command-seq', { err: (e as Error).message }, 'command seq not saved: command refused');
      return this.refuseCommand(run, cmd.id, 'state_not_saved');
    }
    if (cmd.expiresAt < now) return this.refuseCommand(run, cmd.id, 'expired');
    if (run.state.isApplied(cmd.id)) return this.refuseCommand(run, cmd.id, 'duplicate');
    const problem = this.unknownLamps(run, cmd);
    if (problem) return this.refuseCommand(run, cmd.id, problem);

    this.applyCommand(run, cmd, now);
    this.persist('applied-command', () => run.state.markApplied(cmd.id, cmd.expiresAt, now));
    this.applyLevels(run);
    this.publishDurable(run, 'ack', { v: 1, ts: now, ref: `command:${cmd.id}`, ok: true });
    this.publishStatusIfChanged(run);
  }

  private applyCommand(run: Running, cmd: Command, now: number): void {
    switch (cmd.kind) {
      case 'override':
        // durationS is required and bounded (31 days) by the schema: an override always ends by itself.
        run.engine.setOverride({ commandId: cmd.id, lamps: cmd.lamps, level: cmd.level, until: now + cmd.durationS * 1000 });
        this.persist('overrides', () => run.state.saveOverrides(run.engine.activeOverrides(now)));
        break;
      case 'clear-override':
        run.engine.clearOverrides(cmd.lamps);
        this.persist('overrides', () => run.state.saveOverrides(run.engine.activeOverrides(now)));
        break;
      case 'presence':
        run.engine.presence(cmd.lampId, now, cmd.hops, cmd.roadUser);
        this.followRamp(run);
        break;
    }
  }

  private unknownLamps(run: Running, cmd: Command): string | null {
    const ids = cmd.kind === 'presence' ? [cmd.lampId] : cmd.lamps === 'all' ? [] : cmd.lamps;
    const unknown = ids.filter((id) => !run.lampSet.has(id));
    if (unknown.length === 0) return null;
    return `unknown lamp${unknown.length > 1 ? 's' : ''}: ${unknown.slice(0, 10).join(', ')}`;
  }

  /** `durable` false for an invalid or unauthenticated command: answered best effort, never written to disk. */
  private refuseCommand(run: Running, id: string, error: string, durable = true): void {
    this.counters.commandsRefused++;
    (durable ? this.publishDurable.bind(this) : this.publish.bind(this))(run, 'ack', { v: 1, ts: this.opts.clock.now(), ref: `command:${id}`, ok: false, error: ackError(error) });
  }

  private onReceipt(run: Running, payload: Buffer): void {
    const decoded = decodePayload('receipt', payload);
    if (!decoded.ok) {
      this.counters.malformed++;
      this.rl.warn('receipt-invalid', { error: decoded.error.message }, 'invalid receipt');
      return;
    }
    if (run.outbox.settle(decoded.value.seqs) > 0) this.forgetSettled(run);
  }

  private forgetSettled(run: Running): void {
    for (const seq of run.lastSentAt.keys()) if (!run.outbox.has(seq)) run.lastSentAt.delete(seq);
  }

  // ---------- local work ----------

  private tick(run: Running): void {
    this.applyLevels(run);
    this.publishStatusIfChanged(run);
  }

  /**
   * Drives every lamp from the engine at the clock's `now`: levels are recomputed from the clock at
   * each tick, so a clock step is followed at the next tick with no stale state. A lamp whose level
   * the engine cannot give (it throws, or not a number) gets its fail-safe level; with a clock that
   * cannot be trusted every lamp does, continuously.
   */
  private applyLevels(run: Running): void {
    const now = this.opts.clock.now();
    this.checkClock(run, now);
    let failed = 0;
    let lastError = '';
    let failsafe = -1;
    for (const id of run.engine.lampIds) {
      let raw: number;
      if (run.unsynced) {
        raw = failsafe >= 0 ? failsafe : (failsafe = this.failsafeNow(run, now));
      } else {
        try {
          raw = run.engine.levelAt(id, now);
          if (!Number.isFinite(raw)) throw new Error(`engine gave level ${raw} for ${id}`);
        } catch (e) {
          failed++;
          lastError = (e as Error).message;
          raw = failsafe >= 0 ? failsafe : (failsafe = this.failsafeNow(run, now));
        }
      }
      // Tenths of a percent: finer than any driver's steps, and ramps do not chatter.
      const level = Math.round(raw * 10) / 10;
      if (run.applied.get(id) === level) continue;
      this.opts.driver.setLevel(id, level);
      run.applied.set(id, level);
    }
    if (failed > 0) {
      this.counters.engineFailures++;
      this.rl.warn('engine', { err: lastError, lamps: failed }, 'dimming engine failed: fail-safe levels');
    }
    run.watchdog.beat();
  }

  /** The fail-safe level at `now`: the policy's site and level when one is known, else the config's. */
  private failsafeNow(run: Running, now: number): number {
    const { config } = this.opts;
    let policy: Policy | null = null;
    try {
      policy = run.engine.getPolicy();
    } catch {
      policy = null;
    }
    return failsafeOutput(policy?.site ?? config.site, policy?.failsafeLevel ?? config.failsafeLevel, now, run.unsynced);
  }

  /** The watchdog found the tick stalled: fail-safe levels, straight to the driver. */
  private driveFailsafe(run: Running): void {
    if (this.run !== run) return;
    const now = this.opts.clock.now();
    this.checkClock(run, now);
    const level = Math.round(this.failsafeNow(run, now) * 10) / 10;
    this.rl.warn('watchdog', { level }, 'lamp tick stalled: watchdog drives the fail-safe levels');
    // The driver's own lamp list: the engine may be what failed.
    for (const id of run.lampSet) {
      try {
        this.opts.driver.setLevel(id, level);
        run.applied.set(id, level);
      } catch (e) {
        this.counters.errors++;
        this.rl.warn('watchdog-driver', { err: (e as Error).message }, 'driver refused a fail-safe level');
      }
    }
  }

  private checkClock(run: Running, now: number): void {
    let synced: boolean | undefined;
    try {
      synced = this.opts.driver.clockSynced?.();
    } catch {
      synced = false;
    }
    const unsynced = clockUnsynced(now, synced);
    if (unsynced === run.unsynced) return;
    run.unsynced = unsynced;
    if (unsynced) {
      this.log.warn({ now, driverSynced: synced ?? null }, 'clock not synchronised: fail-safe lighting, continuously');
      this.publishDurable(run, 'event', {
        v: 1,
        ts: now,
        code: 'clock_unsynced',
        lampId: null,
        detail: synced === false ? 'the driver reports the clock unsynchronised' : `clock reads ${now}, before 2024-01-01`,
      });
    } else {
      this.log.info({ now }, 'clock synchronised again: back to the policy');
    }
  }

  private persist(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (!isStorageError(e)) throw e;
      this.counters.storageErrors++;
      this.rl.warn(`storage:${what}`, { err: (e as Error).message }, `${what} not saved (disk): kept in memory`);
    }
  }

  private sendTelemetry(run: Running): void {
    const { clock, driver, config } = this.opts;
    const now = clock.now();
    const reading = driver.read(now);
    let seq: number;
    try {
      seq = run.state.nextSeq();
    } catch (e) {
      // Without a seq on disk it could be reused after a restart: no telemetry this period.
      this.counters.storageErrors++;
      this.rl.warn('storage:seq', { err: (e as Error).message }, 'seq not reserved (disk): telemetry skipped');
      return;
    }
    const msg: Telemetry = {
      v: 1,
      seq,
      ts: now,
      periodS: config.periodS,
      ...(reading.cabinet ? { cabinet: reading.cabinet } : {}),
      lamps: reading.lamps,
    };
    const payload = encodePayload('telemetry', msg);
    let dropped: number[];
    try {
      dropped = run.outbox.append(msg).dropped;
    } catch (e) {
      if (!isStorageError(e)) throw e;
      // Not on disk: sent once now if possible, and never again (best effort on a full disk).
      this.counters.storageErrors++;
      this.rl.warn('storage:outbox', { err: (e as Error).message }, 'telemetry not written to the outbox (disk)');
      if (this.isConnected) this.publishRaw(run, 'telemetry', payload);
      return;
    }
    if (dropped.length > 0) {
      for (const d of dropped) run.lastSentAt.delete(d);
      this.counters.telemetryDropped += dropped.length;
      this.publishDurable(run, 'event', {
        v: 1,
        ts: now,
        code: 'buffer_overflow',
        lampId: null,
        detail: `outbox full: dropped ${dropped.length} oldest telemetry message(s), seq ${dropped[0]}..${dropped[dropped.length - 1]}`,
      });
    }
    // Behind any replay still running, so the controller sees seqs in order.
    run.pacer.enqueue([seq]);
  }

  /** The pacer's sender: one outbox message, if still there and connected. */
  private sendFromOutbox(run: Running, seq: number, net: Clock): boolean {
    if (this.run !== run || !this.isConnected) return false;
    const msg = run.outbox.message(seq);
    if (!msg) return false;
    this.publishRaw(run, 'telemetry', JSON.stringify(msg));
    run.lastSentAt.set(seq, net.now());
    this.counters.telemetrySent++;
    return true;
  }

  /**
   * Telemetry sent but not receipted for resendAfterS is sent again: the controller may have
   * restarted after the broker's PUBACK and before its write, and this gateway, still connected,
   * would otherwise wait for its own next reconnect.
   */
  private resendStale(run: Running, net: Clock, resendMs: number): void {
    if (this.run !== run || !this.isConnected || run.pacer.waiting > 0) return;
    const now = net.now();
    const stale: number[] = [];
    for (const seq of run.outbox.seqList()) {
      const at = run.lastSentAt.get(seq);
      if (at === undefined || now - at >= resendMs) stale.push(seq);
    }
    if (stale.length > 0) run.pacer.enqueue(stale);
  }

  /**
   * A boost ramps up over the profile's rampUpMs: without this the lamp would reach its boost
   * level only at the next tick (1 s by default), later than the policy promises.
   */
  private followRamp(run: Running): void {
    let rampMs = 0;
    for (const p of Object.values(run.engine.getPolicy()?.profiles ?? {})) rampMs = Math.max(rampMs, p.presence?.rampUpMs ?? 0);
    if (rampMs <= 0) return;
    run.rampDue = Math.max(run.rampDue, this.opts.clock.now() + rampMs);
    this.armRamp(run);
  }

  private armRamp(run: Running): void {
    if (run.rampTimer) return;
    run.rampTimer = this.opts.clock.setTimer(() => {
      run.rampTimer = null;
      this.guard('ramp', () => this.applyLevels(run));
      // A detection during the wait ends its own ramp later: follow that one too.
      if (run.rampDue > this.opts.clock.now() && this.run === run) this.armRamp(run);
    }, Math.max(0, run.rampDue - this.opts.clock.now()));
  }

  private onLocalPresence(run: Running, d: PresenceDetection): void {
    // A chattering or tampered sensor: the excess is counted and dropped, here and upstream.
    if (!run.sensors.allow(d.sensorId, this.opts.clock.now())) return;
    run.engine.presence(d.lampId, d.ts, undefined, d.kind);
    this.applyLevels(run);
    this.followRamp(run);
    if (!this.isConnected) {
      if (this.offlinePresence >= MAX_OFFLINE_PRESENCE) {
        this.counters.presenceDropped++;
        return;
      }
      this.offlinePresence++;
    }
    this.publish(run, 'presence', { v: 1, ...d });
  }

  private onDriverEvent(e: DriverEvent): void {
    const run = this.run;
    if (run) this.publishDurable(run, 'event', { v: 1, ...e });
  }

  // ---------- uplinks ----------

  private status(run: Running, online: boolean): Status {
    const now = this.opts.clock.now();
    const p = run.engine.getPolicy();
    return {
      v: 1,
      ts: now,
      online,
      agent: AGENT_NAME,
      mode: this.mode(run, now),
      policy: p ? { id: p.id, version: p.version } : null,
      lamps: run.engine.lampIds.length,
      buffered: run.outbox.count(),
    };
  }

  private statusKey(run: Running): string {
    const p = run.engine.getPolicy();
    return `${this.mode(run, this.opts.clock.now())}|${policyRef(p) ?? '-'}|${this.isConnected}`;
  }

  private mode(run: Running, now: number): Status['mode'] {
    if (run.unsynced) return 'failsafe';
    try {
      return run.engine.mode(now);
    } catch {
      return 'failsafe';
    }
  }

  private publishStatus(run: Running): void {
    this.publish(run, 'status', this.status(run, true));
    this.lastStatusKey = this.statusKey(run);
  }

  private publishStatusIfChanged(run: Running): void {
    if (this.isConnected && this.statusKey(run) !== this.lastStatusKey) this.publishStatus(run);
  }

  private publish<C extends UpChannel>(run: Running, channel: C, msg: InputOf<C>): void {
    this.publishRaw(run, channel, encodePayload(channel, msg));
  }

  /**
   * Events and acks: written to the uplink queue on disk first, deleted when the broker has
   * acknowledged them, so neither an outage nor a restart loses one.
   */
  private publishDurable(run: Running, channel: 'event' | 'ack', msg: InputOf<typeof channel>): void {
    const payload = encodePayload(channel, msg);
    const id = run.uplinks.push({ channel, payload });
    if (id === null) {
      this.counters.uplinkRefused++;
      this.rl.warn('uplink-full', { channel }, 'uplink queue full: message refused');
      return;
    }
    if (this.isConnected) this.handOver(run, { id, channel, payload });
  }

  private handOver(run: Running, item: QueuedItem): void {
    run.uplinks.markHandedOver(item.id);
    run.client.publish(run.topics[item.channel], item.payload, { qos: 1, retain: false }, (err) => {
      if (err) {
        run.uplinks.markFailed(item.id);
        this.rl.warn(`publish:${item.channel}`, { err: err.message }, 'publish failed');
      } else {
        run.uplinks.done(item.id);
      }
    });
  }

  private publishRaw(run: Running, channel: UpChannel, payload: string): void {
    run.client.publish(run.topics[channel], payload, { qos: 1, retain: channels[channel].retain }, (err) => {
      if (err) this.rl.warn(`publish:${channel}`, { err: err.message }, 'publish failed');
    });
  }
}

function policyRef(p: Policy | null): string | null {
  return p ? `policy:${p.id}@${p.version}` : null;
}

function readTls(config: EdgeConfig): Partial<IClientOptions> {
  if (!config.tls) return {};
  return {
    ...(config.tls.ca ? { ca: fs.readFileSync(config.tls.ca) } : {}),
    ...(config.tls.cert ? { cert: fs.readFileSync(config.tls.cert) } : {}),
    ...(config.tls.key ? { key: fs.readFileSync(config.tls.key) } : {}),
    rejectUnauthorized: true,
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
