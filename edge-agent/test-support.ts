import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Aedes, type Client } from 'aedes';
import { connect, type MqttClient } from 'mqtt';
import { ManualClock, type Clock, type TimerHandle } from '../core/clock.js';
import { deriveCommandKey, signCommand } from '../controller/command-signing.js';
import type { InputOf } from '../protocol/index.js';

/** Test fixtures: a real aedes broker on a free loopback port, temp folders, polling. */

export interface TestBroker {
  url: string;
  port: number;
  broker: Aedes;
  /** Cuts every client connection (a network drop as the clients see it). */
  dropConnections(): void;
  /** Cuts one client's connection, without DISCONNECT. */
  dropClient(clientId: string): void;
  close(): Promise<void>;
}

/** `port` 0 (default) takes a free one; a given port brings a broker back where gateways look for it. */
export async function startBroker(port = 0): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const clients = new Map<string, Client>();
  broker.on('client', (c) => clients.set(c.id, c));
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const bound = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${bound}`,
    port: bound,
    broker,
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    dropClient(clientId) {
      const c = clients.get(clientId);
      if (!c) throw new Error(`no client ${clientId}`);
      c.conn.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

export function tempDir(prefix = 'luciole-edge-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Polls `cond` every 10 ms until it holds or `timeoutMs` passes. */
export async function waitFor<T>(cond: () => T | undefined | null | false, timeoutMs = 3000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A client playing the controller: records every message on the filters it subscribes. */
export interface Recorder {
  client: MqttClient;
  messages: { topic: string; payload: string; retain: boolean }[];
  json(topicSuffix: string): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function recorder(url: string, filters: string[], clientId = `ctl-${Math.random().toString(16).slice(2)}`): Promise<Recorder> {
  const client = connect(url, { clientId, reconnectPeriod: 100 });
  const messages: Recorder['messages'] = [];
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload: payload.toString('utf8'), retain: packet.retain });
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(filters, { qos: 1 });
  return {
    client,
    messages,
    json(suffix) {
      return messages
        .filter((m) => m.topic.endsWith(`/${suffix}`) && m.payload.length > 0)
        .map((m) => JSON.parse(m.payload) as Record<string, unknown>);
    },
    async close() {
      await client.endAsync(true);
    },
  };
}

/**
 * Signs commands as the controller does for a cabinet whose secret is `password`, with seqs
 * that go up by one from `firstSeq` (or the seq given).
 */
export function commandSigner(password: string, cabinetId: string, firstSeq = 1) {
  const key = deriveCommandKey(password);
  let next = firstSeq;
  return (command: InputOf<'command'>, seq = next): InputOf<'command'> & { seq: number; sig: string } => {
    next = Math.max(next, seq + 1);
    return signCommand(key, cabinetId, command, seq);
  };
}

/**
 * A wall clock that can be stepped (NTP, an operator) while timers run on monotonic time, as on a
 * real system (Date.now jumps, setTimeout does not). `advance` moves both; `jump` moves only now().
 */
export class JumpClock implements Clock {
  readonly mono: ManualClock;
  private offset = 0;

  constructor(startMs: number) {
    this.mono = new ManualClock(startMs);
  }

  now(): number {
    return this.mono.now() + this.offset;
  }

  setTimer(fn: () => void, delayMs: number): TimerHandle {
    return this.mono.setTimer(fn, delayMs);
  }

  clearTimer(handle: TimerHandle): void {
    this.mono.clearTimer(handle);
  }

  advance(ms: number): void {
    this.mono.advance(ms);
  }

  jump(ms: number): void {
    this.offset += ms;
  }
}

/** A free loopback port with nothing listening on it (a broker that is down). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
