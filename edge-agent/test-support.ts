import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Aedes, type Client } from 'aedes';
import { connect, type MqttClient } from 'mqtt';

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

export async function startBroker(): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const clients = new Map<string, Client>();
  broker.on('client', (c) => clients.set(c.id, c));
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
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
