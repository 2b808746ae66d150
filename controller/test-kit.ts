import net from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';

/** Test helpers for the controller's integration tests: a real aedes broker and real MQTT.js gateways. */

export interface TestBroker {
  url: string;
  broker: Aedes;
  close(): Promise<void>;
}

/** An aedes broker without auth on a free loopback port. */
export async function startTestBroker(): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no broker address');
  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    broker,
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function connectClient(url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, ...opts });
}

/** Messages received by a client, with a way to await the next matching one. */
export class Inbox {
  readonly messages: Array<{ topic: string; payload: string; retain: boolean }> = [];
  private waiters: Array<{ match: (m: Inbox['messages'][number]) => boolean; resolve: (m: Inbox['messages'][number]) => void }> = [];

  constructor(client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const m = { topic, payload: payload.toString('utf8'), retain: packet.retain };
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }

  /** The first message (already received or to come) matching, or a rejection after timeoutMs. */
  next(
    match: (m: Inbox['messages'][number]) => boolean,
    timeoutMs = 5000,
  ): Promise<Inbox['messages'][number]> {
    const found = this.messages.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching message in time')), timeoutMs);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }
}

/** Polls `check` every 10 ms until it returns true, failing after timeoutMs. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
