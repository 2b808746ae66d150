import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allCabinetsFilter, cabinetTopic, MAX_PAYLOAD_BYTES } from '../protocol/index.js';
import { closed, nextMessage, startFixture, type BrokerFixture } from './test-fixture.js';

let fx: BrokerFixture;
let secretA: string;
let secretB: string;
let secretCtl: string;

beforeEach(async () => {
  fx = await startFixture();
  secretA = fx.credentials.issue('CAB-A', 'cabinet');
  secretB = fx.credentials.issue('CAB-B', 'cabinet');
  secretCtl = fx.credentials.issue('controller', 'controller');
});

afterEach(async () => {
  await fx.close();
});

/** The CONNACK return code a refused connection got. */
async function refusal(p: Promise<MqttClient>): Promise<number | undefined> {
  const err = (await p.then(
    () => expect.unreachable('connection should be refused'),
    (e: unknown) => e,
  )) as { code?: number };
  return err.code;
}

/** The QoS the broker granted for one filter: 128 when refused (MQTT.js rejects then). */
async function grantedQos(client: MqttClient, filter: string): Promise<number | undefined> {
  const qos = filter.startsWith('$SYS/') ? 0 : 1;
  try {
    const res = await client.subscribeAsync(filter, { qos });
    return res[0]?.qos;
  } catch (e) {
    return (e as { packet?: { granted?: number[] } }).packet?.granted?.[0];
  }
}

describe('authentication', () => {
  it('a cabinet connects with its issued secret and is listed by username', async () => {
    const a = await fx.cabinet('CAB-A', secretA);
    expect(a.connected).toBe(true);
    await fx.connect('controller', secretCtl, { clientId: 'luciole-controller' });
    expect(fx.broker.connectedClients()).toEqual(['CAB-A', 'controller']);
    expect(fx.broker.url).toBe(`mqtt://127.0.0.1:${fx.broker.port}`);
  });

  it('refuses a wrong password, an unknown user and anonymous clients', async () => {
    expect(await refusal(fx.cabinet('CAB-A', secretB))).toBe(4);
    expect(await refusal(fx.connect('CAB-Z', secretA, { clientId: 'edge-CAB-Z' }))).toBe(4);
    expect(await refusal(fx.connect(undefined, undefined, { clientId: 'anon' }))).toBe(5);
    expect(await refusal(fx.connect('CAB-A', undefined, { clientId: 'edge-CAB-A' }))).toBe(5);
    expect(fx.broker.connectedClients()).toEqual([]);
    expect(fx.broker.stats().authFailures).toBe(4);
  });

  it('logs a refused connection at warn with the username, never the password', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const logged = await startFixture({ logger: pino({ level: 'debug' }, sink) });
    const secret = logged.credentials.issue('CAB-A', 'cabinet');
    const wrong = secret.slice(1) + 'x';
    try {
      expect(await refusal(logged.cabinet('CAB-A', wrong))).toBe(4);
      const ok = await logged.cabinet('CAB-A', secret);
      await ok.endAsync();
    } finally {
      await logged.close();
    }
    const refused = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'mqtt connection refused');
    expect(refused).toMatchObject({ level: 40, username: 'CAB-A', returnCode: 4 });
    expect(lines.length).toBeGreaterThan(2);
    const all = lines.join('');
    expect(all).not.toContain(wrong);
    expect(all).not.toContain(secret);
  });

  it('refuses empty, wildcard and NUL client ids, and a cabinet under another client id', async () => {
    for (const clientId of ['', '+', '#', 'edge-CAB-A\u0000x']) {
      expect(await refusal(fx.connect('CAB-A', secretA, { clientId, clean: true }))).toBe(2);
    }
    expect(await refusal(fx.connect('CAB-A', secretA, { clientId: 'edge-CAB-B' }))).toBe(2);
    expect(fx.broker.connectedClients()).toEqual([]);
  });

  it('a cabinet cannot kick another off by reusing its client id', async () => {
    const b = await fx.cabinet('CAB-B', secretB);
    expect(await refusal(fx.connect('CAB-A', secretA, { clientId: 'edge-CAB-B' }))).toBe(2);
    expect(b.connected).toBe(true);
    expect(fx.broker.connectedClients()).toEqual(['CAB-B']);
  });

  it('a re-issued secret makes the old one fail', async () => {
    const fresh = fx.credentials.issue('CAB-A', 'cabinet');
    expect(await refusal(fx.cabinet('CAB-A', secretA))).toBe(4);
    const a = await fx.cabinet('CAB-A', fresh);
    expect(a.connected).toBe(true);
  });

  it('revoke plus disconnect kicks the cabinet and keeps it out', async () => {
    const a = await fx.cabinet('CAB-A', secretA);
    const gone = closed(a);
    expect(fx.credentials.revoke('CAB-A')).toBe(true);
    fx.broker.disconnect('CAB-A');
    await gone;
    expect(fx.broker.connectedClients()).toEqual([]);
    expect(await refusal(fx.cabinet('CAB-A', secretA))).toBe(4);
  });

  it('survives a socket that sends garbage and one that never sends CONNECT', async () => {
    const garbage = net.connect(fx.broker.port, '127.0.0.1');
    const garbageClosed = new Promise<void>((resolve) => garbage.once('close', () => resolve()));
    garbage.on('error', () => {});
    garbage.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x00]));
    await garbageClosed;
    // Left open on purpose: close() must end it although aedes never saw a CONNECT.
    const idle = net.connect(fx.broker.port, '127.0.0.1');
    idle.on('error', () => {});
    await new Promise<void>((resolve) => idle.once('connect', () => resolve()));
    const a = await fx.cabinet('CAB-A', secretA);
    expect(a.connected).toBe(true);
    const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
    await fx.broker.close();
    await idleClosed;
  });
});

describe('ACL end to end', () => {
  let a: MqttClient;
  let ctl: MqttClient;

  beforeEach(async () => {
    a = await fx.cabinet('CAB-A', secretA);
    ctl = await fx.connect('controller', secretCtl, { clientId: 'luciole-controller' });
  });

  it("a cabinet's publish on another cabinet's telemetry is dropped; its own goes through", async () => {
    const granted = await ctl.subscribeAsync(allCabinetsFilter('telemetry'), { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
    const received: string[] = [];
    ctl.on('message', (topic) => received.push(topic));

    // QoS 1: acknowledged although dropped, and the connection stays up.
    await a.publishAsync(cabinetTopic('CAB-B', 'telemetry'), '{"v":1,"forged":true}', { qos: 1 });
    // QoS 2: the PUBREC/PUBREL/PUBCOMP handshake completes for a dropped message too.
    await a.publishAsync(cabinetTopic('CAB-B', 'telemetry'), '{"v":1,"forged":2}', { qos: 2 });
    const own = nextMessage(ctl);
    await a.publishAsync(cabinetTopic('CAB-A', 'telemetry'), '{"v":1}', { qos: 1 });
    expect((await own).topic).toBe(cabinetTopic('CAB-A', 'telemetry'));
    expect(received).toEqual([cabinetTopic('CAB-A', 'telemetry')]);
    expect(a.connected).toBe(true);
    expect(fx.broker.stats().refusedPublishes).toBe(2);
  });

  it('a cabinet is granted 128 for other cabinets and for any wildcard', async () => {
    const filters = [
      cabinetTopic('CAB-B', 'policy'),
      '#',
      allCabinetsFilter('policy'),
      'luciole/v1/cabinets/CAB-A/+',
      '$SYS/#',
      cabinetTopic('CAB-A', 'telemetry'),
      cabinetTopic('CAB-A', 'policy'),
    ];
    const granted: Record<string, number | undefined> = {};
    for (const f of filters) granted[f] = await grantedQos(a, f);
    expect(granted).toEqual({
      [cabinetTopic('CAB-B', 'policy')]: 128,
      '#': 128,
      [allCabinetsFilter('policy')]: 128,
      'luciole/v1/cabinets/CAB-A/+': 128,
      '$SYS/#': 128,
      [cabinetTopic('CAB-A', 'telemetry')]: 128,
      [cabinetTopic('CAB-A', 'policy')]: 1,
    });
    expect(a.connected).toBe(true);
    expect(fx.broker.stats().refusedSubscriptions).toBe(6);
    // Only the controller may watch the broker itself.
    expect(await grantedQos(ctl, '$SYS/#')).toBe(0);
  });

  it('only the controller publishes a down channel', async () => {
    const b = await fx.cabinet('CAB-B', secretB);
    await b.subscribeAsync(cabinetTopic('CAB-B', 'command'), { qos: 1 });
    await ctl.subscribeAsync(cabinetTopic('CAB-A', 'policy'), { qos: 1 });
    const seenByCtl: string[] = [];
    ctl.on('message', (_t, p) => seenByCtl.push(p.toString()));

    // A cabinet writing its own policy (retained) or another's command: dropped, not retained.
    await a.publishAsync(cabinetTopic('CAB-A', 'policy'), '{"v":1,"from":"cabinet"}', { qos: 1, retain: true });
    await a.publishAsync(cabinetTopic('CAB-B', 'command'), '{"v":1,"from":"cabinet"}', { qos: 1 });

    const cmd = nextMessage(b);
    await ctl.publishAsync(cabinetTopic('CAB-B', 'command'), '{"v":1,"from":"controller"}', { qos: 1 });
    expect((await cmd).payload).toBe('{"v":1,"from":"controller"}');
    expect(seenByCtl).toEqual([]);

    // Nothing was retained from the cabinet: a fresh subscriber gets only what the controller retains.
    await ctl.publishAsync(cabinetTopic('CAB-A', 'policy'), '{"v":1,"from":"controller"}', { qos: 1, retain: true });
    const fresh = await fx.connect('controller', secretCtl, { clientId: 'luciole-controller-2' });
    const retained = nextMessage(fresh);
    await fresh.subscribeAsync(cabinetTopic('CAB-A', 'policy'), { qos: 1 });
    const r = await retained;
    expect(r).toEqual({ topic: cabinetTopic('CAB-A', 'policy'), payload: '{"v":1,"from":"controller"}', retain: true });
  });

  it('the controller publishes alerts but not up channels', async () => {
    const watcher = await fx.connect('controller', secretCtl, { clientId: 'watcher' });
    await watcher.subscribeAsync('luciole/v1/#', { qos: 1 });
    const seen: string[] = [];
    watcher.on('message', (t) => seen.push(t));
    await ctl.publishAsync(cabinetTopic('CAB-A', 'status'), '{"v":1,"online":true}', { qos: 1 });
    const alert = nextMessage(watcher);
    await ctl.publishAsync('luciole/v1/alerts/door-CAB-A', '{"v":1}', { qos: 1 });
    expect((await alert).topic).toBe('luciole/v1/alerts/door-CAB-A');
    expect(seen).toEqual(['luciole/v1/alerts/door-CAB-A']);
  });

  it('an oversized payload on an allowed topic is dropped', async () => {
    await ctl.subscribeAsync(allCabinetsFilter('event'), { qos: 1 });
    const seen: number[] = [];
    ctl.on('message', (_t, p) => seen.push(p.length));
    await a.publishAsync(cabinetTopic('CAB-A', 'event'), Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20), { qos: 1 });
    const small = nextMessage(ctl);
    await a.publishAsync(cabinetTopic('CAB-A', 'event'), '{"v":1}', { qos: 1 });
    await small;
    expect(seen).toEqual([7]);
  });

  it('a $SYS/ publish is refused: the client is disconnected and nobody is kicked', async () => {
    const b = await fx.cabinet('CAB-B', secretB);
    await ctl.subscribeAsync('$SYS/forged/#', { qos: 0 });
    const seen: string[] = [];
    ctl.on('message', (t) => seen.push(t));
    const aGone = closed(a);
    // The attack aedes's guard exists for: a forged "new client" notice closes that client id.
    a.publish('$SYS/forged/new/clients', 'edge-CAB-B', { qos: 0 });
    await aGone;
    expect(seen).toEqual([]);
    expect(b.connected).toBe(true);
    expect(fx.broker.connectedClients()).toEqual(['CAB-B', 'controller']);
  });

  it('a too deep topic closes that client only', async () => {
    const aGone = closed(a);
    a.publish('luciole/v1/cabinets/CAB-A/telemetry/a/b/c/d', '{}', { qos: 1 });
    await aGone;
    const got = nextMessage(ctl);
    await ctl.subscribeAsync(cabinetTopic('CAB-A', 'ack'), { qos: 1 });
    const b = await fx.cabinet('CAB-A', secretA);
    await b.publishAsync(cabinetTopic('CAB-A', 'ack'), '{"v":1}', { qos: 1 });
    expect((await got).topic).toBe(cabinetTopic('CAB-A', 'ack'));
  });
});

describe('Last Will', () => {
  it("a cabinet cannot plant a will on another cabinet's status", async () => {
    const code = await refusal(
      fx.cabinet('CAB-A', secretA, {
        will: { topic: cabinetTopic('CAB-B', 'status'), payload: Buffer.from('{"v":1,"online":false}'), qos: 1, retain: true },
      }),
    );
    expect(code).toBe(5);
    expect(fx.broker.connectedClients()).toEqual([]);
  });

  it('its own will is delivered when its socket is destroyed', async () => {
    const ctl = await fx.connect('controller', secretCtl, { clientId: 'luciole-controller' });
    await ctl.subscribeAsync(allCabinetsFilter('status'), { qos: 1 });
    const a = await fx.cabinet('CAB-A', secretA, {
      will: { topic: cabinetTopic('CAB-A', 'status'), payload: Buffer.from('{"v":1,"online":false}'), qos: 1, retain: true },
    });
    const will = nextMessage(ctl);
    a.stream.destroy();
    expect(await will).toMatchObject({ topic: cabinetTopic('CAB-A', 'status'), payload: '{"v":1,"online":false}' });
  });

  it('a will is not sent after a clean disconnect', async () => {
    const ctl = await fx.connect('controller', secretCtl, { clientId: 'luciole-controller' });
    await ctl.subscribeAsync(allCabinetsFilter('status'), { qos: 1 });
    const seen: string[] = [];
    ctl.on('message', (_t, p) => seen.push(p.toString()));
    const a = await fx.cabinet('CAB-A', secretA, {
      will: { topic: cabinetTopic('CAB-A', 'status'), payload: Buffer.from('{"v":1,"online":false}'), qos: 1, retain: true },
    });
    await a.endAsync();
    // A marker after the disconnect: once it arrives, a will would have arrived first.
    const b = await fx.cabinet('CAB-B', secretB);
    const marker = nextMessage(ctl);
    await b.publishAsync(cabinetTopic('CAB-B', 'status'), '{"v":1,"online":true}', { qos: 1 });
    await marker;
    expect(seen).toEqual(['{"v":1,"online":true}']);
  });
});
