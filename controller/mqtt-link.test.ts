import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
      subscriptions: ['luciole/v1/cabinets/+/telemetry'],
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
});
