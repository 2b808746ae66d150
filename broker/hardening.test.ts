import net from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { allCabinetsFilter, cabinetTopic } from '../protocol/index.js';
import { closed, nextMessage, startFixture, type BrokerFixture } from './test-fixture.js';

let fx: BrokerFixture | undefined;
const raw: net.Socket[] = [];
const extraClients: MqttClient[] = [];

afterEach(async () => {
  for (const s of raw.splice(0)) s.destroy();
  await Promise.all(extraClients.splice(0).map((c) => c.endAsync(true)));
  await fx?.close();
  fx = undefined;
});

function rawSocket(port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  raw.push(s);
  s.on('error', () => {});
  return new Promise((resolve) => s.once('connect', () => resolve(s)));
}

function whenClosed(s: net.Socket): Promise<void> {
  return s.destroyed ? Promise.resolve() : new Promise((resolve) => s.once('close', () => resolve()));
}

/** Writes `total` bytes in 16 KiB chunks, honouring backpressure, until done or the socket closes. */
async function stream(s: net.Socket, total: number): Promise<number> {
  const chunk = Buffer.alloc(16 * 1024);
  let sent = 0;
  while (sent < total && !s.destroyed) {
    const ok = s.write(chunk);
    sent += chunk.length;
    if (!ok) await new Promise<void>((resolve) => (s.once('drain', resolve), s.once('close', resolve)));
  }
  return sent;
}

/** A CONNECT fixed header announcing the largest remaining length MQTT allows, and nothing else. */
const HUGE_CONNECT_HEADER = Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]);

async function refusalCode(p: Promise<MqttClient>): Promise<number | undefined> {
  const err = (await p.then(
    () => expect.unreachable('connection should be refused'),
    (e: unknown) => e,
  )) as { code?: number };
  return err.code;
}

describe('pre-CONNECT protection', () => {
  it('closes a socket past preConnectByteCap before CONNECT, and counts it', async () => {
    fx = await startFixture({ preConnectByteCap: 32 * 1024, connectTimeoutMs: 30_000 });
    const s = await rawSocket(fx.broker.port);
    s.write(HUGE_CONNECT_HEADER);
    const sent = await stream(s, 4 * 1024 * 1024);
    await whenClosed(s);
    // Closed long before the 4 MiB were accepted, and long before the 30 s connect timeout.
    expect(sent).toBeLessThan(4 * 1024 * 1024);
    expect(fx.broker.stats().preConnectOverflows).toBe(1);
  });

  it('a socket under the cap is closed by the connect timeout instead', async () => {
    fx = await startFixture({ preConnectByteCap: 64 * 1024, connectTimeoutMs: 300 });
    const s = await rawSocket(fx.broker.port);
    s.write(HUGE_CONNECT_HEADER);
    await stream(s, 32 * 1024);
    const t0 = performance.now();
    await whenClosed(s);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(fx.broker.stats().preConnectOverflows).toBe(0);
  });

  it('the cap ends at CONNACK: an accepted cabinet publishes more than the cap', async () => {
    fx = await startFixture({ preConnectByteCap: 16 * 1024 });
    const secretA = fx.credentials.issue('CAB-A', 'cabinet');
    const ctl = await fx.connect('controller', fx.credentials.issue('controller', 'controller'), { clientId: 'ctl' });
    await ctl.subscribeAsync(allCabinetsFilter('event'), { qos: 1 });
    const a = await fx.cabinet('CAB-A', secretA);
    const payload = JSON.stringify({ v: 1, ts: 1, code: 'reboot', lampId: null, detail: 'x'.repeat(100 * 1024) });
    const got = nextMessage(ctl);
    await a.publishAsync(cabinetTopic('CAB-A', 'event'), payload, { qos: 1 });
    expect((await got).payload.length).toBe(payload.length);
    expect(fx.broker.stats().preConnectOverflows).toBe(0);
  });
});

describe('failed-login limit per address', () => {
  it('after maxFailures an address is refused with no scrypt verify until the window passes', async () => {
    let now = 1_763_758_800_000;
    fx = await startFixture({ now: () => now, failedLoginLimit: { maxFailures: 3, windowMs: 60_000 } });
    const secretA = fx.credentials.issue('CAB-A', 'cabinet');
    const secretB = fx.credentials.issue('CAB-B', 'cabinet');
    const verify = vi.spyOn(fx.credentials, 'verifyAccount');

    for (let i = 0; i < 3; i++) expect(await refusalCode(fx.cabinet('CAB-A', `wrong-${i}`))).toBe(4);
    expect(verify).toHaveBeenCalledTimes(3);
    expect(await refusalCode(fx.cabinet('CAB-A', 'wrong-3'))).toBe(5);
    // A right secret never verified since start is refused too: telling it apart costs scrypt.
    expect(await refusalCode(fx.cabinet('CAB-B', secretB))).toBe(5);
    expect(verify).toHaveBeenCalledTimes(3);
    expect(fx.broker.stats().rateLimitedLogins).toBe(2);

    now += 59_999;
    expect(await refusalCode(fx.cabinet('CAB-A', 'wrong-4'))).toBe(5);
    now += 1;
    const a = await fx.cabinet('CAB-A', secretA);
    expect(a.connected).toBe(true);
    expect(verify).toHaveBeenCalledTimes(4);
  });

  it('a gateway verified before is let in while its shared address is limited', async () => {
    fx = await startFixture({ failedLoginLimit: { maxFailures: 2, windowMs: 60_000 } });
    const secretA = fx.credentials.issue('CAB-A', 'cabinet');
    const first = await fx.cabinet('CAB-A', secretA);
    await first.endAsync();
    for (let i = 0; i < 2; i++) expect(await refusalCode(fx.cabinet('CAB-A', `wrong-${i}`))).toBe(4);
    const verify = vi.spyOn(fx.credentials, 'verifyAccount');
    expect(await refusalCode(fx.cabinet('CAB-A', 'wrong-2'))).toBe(5);
    const again = await fx.cabinet('CAB-A', secretA);
    expect(again.connected).toBe(true);
    expect(verify).not.toHaveBeenCalled();
  });

  it('false turns the limit off', async () => {
    fx = await startFixture({ failedLoginLimit: false });
    fx.credentials.issue('CAB-A', 'cabinet');
    for (let i = 0; i < 12; i++) expect(await refusalCode(fx.cabinet('CAB-A', `wrong-${i}`))).toBe(4);
    expect(fx.broker.stats().rateLimitedLogins).toBe(0);
  });
});

describe('revokeCabinet', () => {
  /** A client whose messages are recorded from the first packet on, CONNACK included. */
  async function persistentCabinet(f: BrokerFixture, id: string, secret: string, opts: IClientOptions = {}) {
    const client = mqtt.connect(f.broker.url, {
      username: id,
      password: secret,
      clientId: `edge-${id}`,
      clean: false,
      reconnectPeriod: 0,
      ...opts,
    });
    extraClients.push(client);
    const messages: Array<{ topic: string; payload: string }> = [];
    client.on('message', (topic, payload) => messages.push({ topic, payload: payload.toString() }));
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
      client.once('connect', (p) => resolve(p));
      client.once('error', reject);
    });
    return { client, messages, sessionPresent: connack.sessionPresent };
  }

  it('drops the queued messages of a revoked cabinet, keeps its retained policy, and keeps others queued', async () => {
    fx = await startFixture();
    const f = fx;
    const secretA = f.credentials.issue('CAB-A', 'cabinet');
    const secretB = f.credentials.issue('CAB-B', 'cabinet');
    const ctl = await f.connect('controller', f.credentials.issue('controller', 'controller'), { clientId: 'ctl' });

    for (const [id, secret] of [['CAB-A', secretA], ['CAB-B', secretB]] as const) {
      const s = await persistentCabinet(f, id, secret);
      await s.client.subscribeAsync(cabinetTopic(id, 'command'), { qos: 1 });
      await s.client.endAsync();
    }
    await ctl.publishAsync(cabinetTopic('CAB-A', 'policy'), '{"v":1,"policy":"A"}', { qos: 1, retain: true });
    for (const id of ['CAB-A', 'CAB-B']) {
      await ctl.publishAsync(cabinetTopic(id, 'command'), `{"v":1,"queued":"${id}"}`, { qos: 1 });
    }

    expect(await f.broker.revokeCabinet('CAB-A')).toBe(true);
    expect(await refusalCode(f.cabinet('CAB-A', secretA))).toBe(4);

    // The control: CAB-B's session and queued command were there all along and are served.
    const b = await persistentCabinet(f, 'CAB-B', secretB);
    expect(b.sessionPresent).toBe(true);
    await vi.waitFor(() => expect(b.messages).toEqual([{ topic: cabinetTopic('CAB-B', 'command'), payload: '{"v":1,"queued":"CAB-B"}' }]), {
      timeout: 3000,
      interval: 10,
    });

    const fresh = f.credentials.issue('CAB-A', 'cabinet');
    const a = await persistentCabinet(f, 'CAB-A', fresh);
    expect(a.sessionPresent).toBe(false);
    const policy = nextMessage(a.client, (t) => t === cabinetTopic('CAB-A', 'policy'));
    await a.client.subscribeAsync([cabinetTopic('CAB-A', 'policy'), cabinetTopic('CAB-A', 'command')], { qos: 1 });
    expect((await policy).payload).toBe('{"v":1,"policy":"A"}');
    // A marker sent after the subscription: once it is in, a queued command would have been first.
    const marker = nextMessage(a.client, (t) => t === cabinetTopic('CAB-A', 'command'));
    await ctl.publishAsync(cabinetTopic('CAB-A', 'command'), '{"v":1,"marker":true}', { qos: 1 });
    await marker;
    expect(a.messages.filter((m) => m.topic === cabinetTopic('CAB-A', 'command'))).toEqual([
      { topic: cabinetTopic('CAB-A', 'command'), payload: '{"v":1,"marker":true}' },
    ]);
  });

  it('disconnects a connected cabinet, whose will tells the controller, and nothing is queued for it afterwards', async () => {
    fx = await startFixture();
    const f = fx;
    const secretA = f.credentials.issue('CAB-A', 'cabinet');
    const ctl = await f.connect('controller', f.credentials.issue('controller', 'controller'), { clientId: 'ctl' });
    await ctl.subscribeAsync(allCabinetsFilter('status'), { qos: 1 });
    const a = await persistentCabinet(f, 'CAB-A', secretA, {
      will: { topic: cabinetTopic('CAB-A', 'status'), payload: Buffer.from('{"v":1,"online":false}'), qos: 1, retain: true },
    });
    await a.client.subscribeAsync(cabinetTopic('CAB-A', 'command'), { qos: 1 });
    const gone = closed(a.client);
    const will = nextMessage(ctl);
    expect(await f.broker.revokeCabinet('CAB-A')).toBe(true);
    await gone;
    expect((await will).payload).toBe('{"v":1,"online":false}');
    expect(f.broker.connectedClients()).toEqual(['controller']);

    await ctl.publishAsync(cabinetTopic('CAB-A', 'command'), '{"v":1,"after":"revoke"}', { qos: 1 });
    const again = await persistentCabinet(f, 'CAB-A', f.credentials.issue('CAB-A', 'cabinet'));
    expect(again.sessionPresent).toBe(false);
    // A round trip to the broker after CONNACK: a queued message would have been written before it.
    await again.client.subscribeAsync(cabinetTopic('CAB-A', 'policy'), { qos: 1 });
    expect(again.messages).toEqual([]);
    expect(await f.broker.revokeCabinet('CAB-NEVER')).toBe(false);
  });
});

describe('raw packets', () => {
  it('a PUBLISH before CONNECT and a second CONNECT close the connection', async () => {
    fx = await startFixture();
    const secretA = fx.credentials.issue('CAB-A', 'cabinet');
    const early = await rawSocket(fx.broker.port);
    early.write(mqttPacket.generate({ cmd: 'publish', topic: cabinetTopic('CAB-A', 'event'), payload: '{}', qos: 0, dup: false, retain: false }));
    await whenClosed(early);

    const twice = await rawSocket(fx.broker.port);
    const connect = mqttPacket.generate({ cmd: 'connect', clientId: 'edge-CAB-A', username: 'CAB-A', password: Buffer.from(secretA), protocolVersion: 4, clean: true, keepalive: 30 });
    const connack = new Promise<Buffer>((resolve) => twice.once('data', resolve));
    twice.write(connect);
    expect([...(await connack)]).toEqual([0x20, 0x02, 0x00, 0x00]);
    twice.write(connect);
    await whenClosed(twice);
  });
});
