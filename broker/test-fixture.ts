import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { silentLogger } from '../core/log.js';
import { startBroker, type BrokerOptions, type RunningBroker } from './broker.js';
import { CredentialStore } from './credentials.js';

/**
 * A real broker on a free loopback port, a real SQLite credential file and real MQTT.js
 * clients, all closed by `close()`. For this directory's tests.
 */
export interface BrokerFixture {
  broker: RunningBroker;
  credentials: CredentialStore;
  dir: string;
  connect(username: string | undefined, password: string | undefined, opts?: IClientOptions): Promise<MqttClient>;
  /** A cabinet with its protocol client id. */
  cabinet(id: string, secret: string, opts?: IClientOptions): Promise<MqttClient>;
  close(): Promise<void>;
}

export async function startFixture(extra: Partial<BrokerOptions> = {}): Promise<BrokerFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-broker-'));
  const db = new Database(path.join(dir, 'config.db'));
  const credentials = new CredentialStore(db);
  credentials.init();
  let broker: RunningBroker;
  try {
    broker = await startBroker({ port: 0, credentials, logger: silentLogger(), ...extra });
  } catch (err) {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const clients: MqttClient[] = [];

  const connect = async (username: string | undefined, password: string | undefined, opts: IClientOptions = {}) => {
    const client = mqtt.connect(broker.url, {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...opts,
    });
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      const onConnect = (): void => {
        client.off('error', onError);
        client.off('close', onClose);
        resolve();
      };
      const onError = (err: Error): void => {
        client.off('connect', onConnect);
        client.off('close', onClose);
        client.end(true);
        reject(err);
      };
      const onClose = (): void => onError(new Error('connection closed before CONNACK'));
      client.once('connect', onConnect);
      client.once('error', onError);
      client.once('close', onClose);
    });
    return client;
  };

  return {
    broker,
    credentials,
    dir,
    connect,
    cabinet: (id, secret, opts = {}) => connect(id, secret, { clientId: `edge-${id}`, ...opts }),
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await broker.close();
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves with the next message on `client` whose topic matches `pred`, or rejects after `timeoutMs`. */
export function nextMessage(
  client: MqttClient,
  pred: (topic: string, payload: Buffer) => boolean = () => true,
  timeoutMs = 3000,
): Promise<{ topic: string; payload: string; retain: boolean }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error('no message in time'));
    }, timeoutMs);
    const onMessage = (topic: string, payload: Buffer, packet: { retain?: boolean }): void => {
      if (!pred(topic, payload)) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve({ topic, payload: payload.toString('utf8'), retain: packet.retain === true });
    };
    client.on('message', onMessage);
  });
}

/** Resolves when `client` emits 'close' (the broker dropped it). */
export function closed(client: MqttClient, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('client not closed in time')), timeoutMs);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
