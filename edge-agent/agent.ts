import fs from 'node:fs';
import path from 'node:path';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { every, type Clock } from '../core/clock.js';
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
import type { DimmingEngine } from './dimming/types.js';
import { createDimmingEngine } from './dimming/engine.js';
import type { DriverEvent, LampDriver, PresenceDetection } from './driver.js';
import { ackError, commandIdOfRaw, policyRefOfRaw } from './downlink-refs.js';
import { Outbox } from './outbox.js';
import { StateStore } from './state-store.js';

export const AGENT_NAME = 'luciole-edge/0.1.0';
export const WILL_PAYLOAD = '{"v":1,"online":false}';
/** Presence published while offline waits in MQTT.js's memory queue; past this it is dropped. */
const MAX_OFFLINE_PRESENCE = 1000;
const OFFLINE_STATUS_TIMEOUT_MS = 2000;

export interface EdgeAgentOptions {
  config: EdgeConfig;
  clock: Clock;
  driver: LampDriver;
  logger: Logger;
  /** Merged over the agent's own MQTT options (tests shorten reconnectPeriod). */
  mqttOptions?: Partial<IClientOptions>;
}

export interface EdgeAgentStats {
  /** Downlinks that failed to decode or validate. */
  malformed: number;
  policiesRejected: number;
  commandsRefused: number;
  /** Telemetry dropped from a full outbox (oldest first). */
  telemetryDropped: number;
  presenceDropped: number;
  /** Handler errors that were caught (a bug, or the driver failing). */
  errors: number;
}

interface Running {
  engine: DimmingEngine;
  state: StateStore;
  outbox: Outbox;
  client: MqttClient;
  topics: Record<Channel, string>;
  lampSet: ReadonlySet<string>;
  applied: Map<string, number>;
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

  stats(): Readonly<EdgeAgentStats> {
    return { ...this.counters };
  }

  /** Resolves at the next (re)connection, or now if connected. */
  whenConnected(): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    return new Promise((resolve) => this.connectWaiters.push(resolve));
  }

  async start(): Promise<void> {
    if (this.run) throw new Error('edge agent already started');
    const { config, clock, driver } = this.opts;
    const now = clock.now();

    const outbox = new Outbox(path.join(config.dataDir, 'outbox'), config.outboxMaxBytes);
    const opened = outbox.open();
    if (opened.discarded > 0) this.log.warn({ discarded: opened.discarded }, 'unreadable outbox files removed');
    const state = new StateStore(path.join(config.dataDir, 'state'));
    const loaded = state.load(now, outbox.maxSeq());
    if (loaded.policyError) this.log.warn({ error: loaded.policyError }, 'stored policy invalid: fail-safe');
    if (loaded.seqError) this.log.warn({ error: loaded.seqError }, 'seq record unreadable: seqs restart from the clock');

    const lampIds = driver.lampIds();
    const engine = createDimmingEngine({ site: config.site, lampIds, failsafeLevel: config.failsafeLevel });
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
      client,
      topics,
      lampSet: new Set(lampIds),
      applied: new Map(),
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
      });
      client.on('error', (err) => this.rl.warn('mqtt-error', { err: err.message }, 'mqtt error'));
      client.on('message', (topic, payload) => this.guard('message', () => this.onMessage(run, topic, payload)));

      run.undo.push(driver.onPresence((d) => this.guard('presence', () => this.onLocalPresence(run, d))));
      run.undo.push(driver.onEvent((e) => this.guard('driver-event', () => this.onDriverEvent(e))));
      driver.start();
      run.undo.push(() => driver.stop());

      this.applyLevels(run);
      run.undo.push(every(clock, config.tickMs, () => this.guard('tick', () => this.tick(run))));
      run.undo.push(every(clock, config.periodS * 1000, () => this.guard('telemetry', () => this.sendTelemetry(run))));

      // Queued by MQTT.js until the first connection.
      this.publish(run, 'event', { v: 1, ts: now, code: 'reboot', lampId: null, detail: AGENT_NAME });
    } catch (e) {
      // Half-started: undo what was done so a retry starts clean.
      this.stopLocal(run, false);
      this.run = null;
      await client.endAsync(true);
      throw e;
    }
    this.log.info({ lamps: lampIds.length, policy: policyRef(stored), buffered: outbox.count() }, 'edge agent started');
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
    this.log.info({ buffered: run.outbox.count() }, 'connected to broker');
    this.publishStatus(run);
    run.client.subscribe([run.topics.policy, run.topics.command, run.topics.receipt], { qos: 1 }, (err) => {
      if (err) this.rl.warn('subscribe', { err: err.message }, 'subscribe failed');
    });
    // Everything not yet receipted, oldest first, with its original ts.
    for (const msg of run.outbox.pending()) this.publishRaw(run, 'telemetry', JSON.stringify(msg));
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
      this.rejectPolicy(run, policyRefOfRaw(payload), decoded.error.message);
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
      run.state.savePolicy(policy);
      this.log.info({ policy: ref }, 'policy applied');
      this.applyLevels(run);
    }
    this.publish(run, 'ack', { v: 1, ts: now, ref, ok: true });
    this.publishStatusIfChanged(run);
  }

  private rejectPolicy(run: Running, ref: string, error: string): void {
    const now = this.opts.clock.now();
    this.counters.policiesRejected++;
    this.rl.warn('policy-rejected', { ref, error }, 'policy rejected, previous one kept');
    this.publish(run, 'ack', { v: 1, ts: now, ref, ok: false, error: ackError(error) });
    this.publish(run, 'event', { v: 1, ts: now, code: 'policy_rejected', lampId: null, detail: ackError(`${ref}: ${error}`) });
  }

  private onCommand(run: Running, payload: Buffer): void {
    const now = this.opts.clock.now();
    const decoded = decodePayload('command', payload);
    if (!decoded.ok) {
      this.counters.malformed++;
      this.rl.warn('command-invalid', { error: decoded.error.message }, 'invalid command');
      const id = commandIdOfRaw(payload);
      if (id) this.refuseCommand(run, id, decoded.error.message);
      return;
    }
    const cmd = decoded.value;
    if (cmd.expiresAt < now) return this.refuseCommand(run, cmd.id, 'expired');
    if (run.state.isApplied(cmd.id)) return this.refuseCommand(run, cmd.id, 'duplicate');
    const problem = this.unknownLamps(run, cmd);
    if (problem) return this.refuseCommand(run, cmd.id, problem);

    this.applyCommand(run, cmd, now);
    run.state.markApplied(cmd.id, cmd.expiresAt, now);
    this.applyLevels(run);
    this.publish(run, 'ack', { v: 1, ts: now, ref: `command:${cmd.id}`, ok: true });
    this.publishStatusIfChanged(run);
  }

  private applyCommand(run: Running, cmd: Command, now: number): void {
    switch (cmd.kind) {
      case 'override':
        run.engine.setOverride({ commandId: cmd.id, lamps: cmd.lamps, level: cmd.level, until: now + cmd.durationS * 1000 });
        run.state.saveOverrides(run.engine.activeOverrides(now));
        break;
      case 'clear-override':
        run.engine.clearOverrides(cmd.lamps);
        run.state.saveOverrides(run.engine.activeOverrides(now));
        break;
      case 'presence':
        run.engine.presence(cmd.lampId, now, cmd.hops, cmd.roadUser);
        break;
    }
  }

  private unknownLamps(run: Running, cmd: Command): string | null {
    const ids = cmd.kind === 'presence' ? [cmd.lampId] : cmd.lamps === 'all' ? [] : cmd.lamps;
    const unknown = ids.filter((id) => !run.lampSet.has(id));
    if (unknown.length === 0) return null;
    return `unknown lamp${unknown.length > 1 ? 's' : ''}: ${unknown.slice(0, 10).join(', ')}`;
  }

  private refuseCommand(run: Running, id: string, error: string): void {
    this.counters.commandsRefused++;
    this.publish(run, 'ack', { v: 1, ts: this.opts.clock.now(), ref: `command:${id}`, ok: false, error: ackError(error) });
  }

  private onReceipt(run: Running, payload: Buffer): void {
    const decoded = decodePayload('receipt', payload);
    if (!decoded.ok) {
      this.counters.malformed++;
      this.rl.warn('receipt-invalid', { error: decoded.error.message }, 'invalid receipt');
      return;
    }
    run.outbox.settle(decoded.value.seqs);
  }

  // ---------- local work ----------

  private tick(run: Running): void {
    this.applyLevels(run);
    this.publishStatusIfChanged(run);
  }

  private applyLevels(run: Running): void {
    const now = this.opts.clock.now();
    for (const id of run.engine.lampIds) {
      // Tenths of a percent: finer than any driver's steps, and ramps do not chatter.
      const level = Math.round(run.engine.levelAt(id, now) * 10) / 10;
      if (run.applied.get(id) === level) continue;
      this.opts.driver.setLevel(id, level);
      run.applied.set(id, level);
    }
  }

  private sendTelemetry(run: Running): void {
    const { clock, driver, config } = this.opts;
    const now = clock.now();
    const reading = driver.read(now);
    const msg: Telemetry = {
      v: 1,
      seq: run.state.nextSeq(),
      ts: now,
      periodS: config.periodS,
      ...(reading.cabinet ? { cabinet: reading.cabinet } : {}),
      lamps: reading.lamps,
    };
    const payload = encodePayload('telemetry', msg);
    const { dropped } = run.outbox.append(msg);
    if (dropped.length > 0) {
      this.counters.telemetryDropped += dropped.length;
      this.publish(run, 'event', {
        v: 1,
        ts: now,
        code: 'buffer_overflow',
        lampId: null,
        detail: `outbox full: dropped ${dropped.length} oldest telemetry message(s), seq ${dropped[0]}..${dropped[dropped.length - 1]}`,
      });
    }
    if (this.isConnected) this.publishRaw(run, 'telemetry', payload);
  }

  private onLocalPresence(run: Running, d: PresenceDetection): void {
    run.engine.presence(d.lampId, d.ts, undefined, d.kind);
    this.applyLevels(run);
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
    if (run) this.publish(run, 'event', { v: 1, ...e });
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
      mode: run.engine.mode(now),
      policy: p ? { id: p.id, version: p.version } : null,
      lamps: run.engine.lampIds.length,
      buffered: run.outbox.count(),
    };
  }

  private statusKey(run: Running): string {
    const p = run.engine.getPolicy();
    return `${run.engine.mode(this.opts.clock.now())}|${policyRef(p) ?? '-'}|${this.isConnected}`;
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
