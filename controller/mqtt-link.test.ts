import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../core/log.js';
import { MqttLink } from './mqtt-link.js';
import { connectClient, startTestBroker, until, type TestBroker } from './test-kit.js';

describe('MqttLink (real aedes broker)', () => {
  let broker: TestBroker;
  let links: MqttLink[];

  beforeEach(async () => {
    broker = await startTestBroker();
    links = [];
  });

  afterEach(async () => {
    for (const l of links) await l.stop();
    await broker.close();
  });

  function link(received: string[], onConnect?: () => Promise<void>): MqttLink {
    const l = new MqttLink({
      url: broker.url,
      username: 'controller',
      password: 'pw',
      clientId: 'luciole-controller',
      logger: silentLogger(),
      subscriptions: [{ filter: 'luciole/v1/cabinets/+/telemetry', qos: 1 }],
      onMessage: (topic, payload) => received.push(`${topic} ${payload.toString()}`),
      ...(onConnect ? { onConnect } : {}),
    });
    links.push(l);
    return l;
  }

  it('keeps a persistent session: QoS 1 uplinks sent while it is down arrive when it is back', async () => {
    const received: string[] = [];
    let connects = 0;
    const first = link(received, async () => {
      connects++;
    });
    await first.start();
    expect(connects).toBe(1);
    await first.stop();

    const gw = await connectClient(broker.url, { clientId: 'edge-C1' });
    await gw.publishAsync('luciole/v1/cabinets/C1/telemetry', 'while-down', { qos: 1 });
    await gw.endAsync();

    const second = link(received);
    await second.start();
    await until(() => received.length === 1);
    expect(received).toEqual(['luciole/v1/cabinets/C1/telemetry while-down']);
  });

  it('subscribes each filter at its own QoS', async () => {
    const granted: Array<[string, number]> = [];
    broker.broker.on('subscribe', (subs) => {
      for (const x of subs) granted.push([x.topic, x.qos]);
    });
    const l = new MqttLink({
      url: broker.url,
      username: 'controller',
      password: 'pw',
      clientId: 'luciole-controller',
      logger: silentLogger(),
      subscriptions: [
        { filter: 'luciole/v1/cabinets/+/telemetry', qos: 0 },
        { filter: 'luciole/v1/cabinets/+/status', qos: 1 },
      ],
      onMessage: () => {},
    });
    links.push(l);
    await l.start();
    expect(granted.sort()).toEqual([
      ['luciole/v1/cabinets/+/status', 1],
      ['luciole/v1/cabinets/+/telemetry', 0],
    ]);
  });

  it('rejects start when the broker refuses the credentials', async () => {
    broker.broker.authenticate = (_client, _user, _pass, done) => {
      const err = Object.assign(new Error('bad credentials'), { returnCode: 4 as const });
      done(err, false);
    };
    const l = link([]);
    await expect(l.start()).rejects.toThrow(/refused/);
    expect(l.connected).toBe(false);
  });

  it('publish fails once stopped', async () => {
    const l = link([]);
    await l.start();
    await l.stop();
    await expect(l.publish('x', 'y', { qos: 1, retain: false })).rejects.toThrow(/not started/);
  });

  it('turns Nagle off on its socket, again after a reconnection', async () => {
    const spy = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    const port = Number(new URL(broker.url).port);
    // Only the link's own (client side) sockets: their remote end is the broker's port.
    const clientCalls = (): number =>
      spy.mock.calls.filter((c, i) => c[0] === true && (spy.mock.contexts[i] as net.Socket).remotePort === port).length;
    try {
      const l = link([]);
      await l.start();
      const first = clientCalls();
      expect(first).toBeGreaterThanOrEqual(1);
      // Drop the connection from the broker side: MQTT.js reconnects on a new socket.
      for (const c of Object.values((broker.broker as unknown as { clients: Record<string, { close(): void }> }).clients)) c.close();
      await until(() => clientCalls() > first && l.connected);
    } finally {
      spy.mockRestore();
    }
  });
});
