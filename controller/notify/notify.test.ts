import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { alertMessageSchema, alertTopic } from '../../protocol/index.js';
import { until } from '../test-kit.js';
import type { AlertView } from '../views.js';
import { MqttAlertPublisher } from './mqtt-alerts.js';
import type { AlertNotice, Channel, Delivery } from './notification.js';
import { Notifier } from './notifier.js';
import { Throttle } from './throttle.js';
import { verifySignature, WebhookChannel, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhook.js';

const T0 = Date.UTC(2025, 10, 21, 20, 0, 0);
const SECRET = 'a-shared-secret-of-32-characters';

function alert(i: number, over: Partial<AlertView> = {}): AlertView {
  return {
    id: `lamp_failure.L-${i}.abc`,
    kind: 'lamp_failure',
    severity: 'major',
    state: 'open',
    cabinetId: 'ARM-01',
    lampId: `L-${i}`,
    openedAt: T0,
    lastSeen: T0,
    resolvedAt: null,
    count: 1,
    detail: 'lampe éteinte',
    ...over,
  };
}
const notice = (i: number, at = T0): AlertNotice => ({ alert: alert(i), change: 'opened', at });

describe('Throttle', () => {
  it('sends the first notices of a window, then one digest of the rest at the end of the window', () => {
    const clock = new ManualClock(T0);
    const out: Delivery[] = [];
    const th = new Throttle({ clock, windowMs: 600_000, maxPerWindow: 3, send: (d) => out.push(d) });
    for (let i = 0; i < 40; i++) th.offer(notice(i, clock.now()));
    expect(out.map((d) => d.type)).toEqual(['alert', 'alert', 'alert']);
    clock.advance(599_999);
    expect(out).toHaveLength(3);
    clock.advance(1);
    expect(out).toHaveLength(4);
    const digest = out[3]!;
    expect(digest.type === 'digest' && digest.notices.length).toBe(37);
    // The digest counted in the new window: two more alone, then held again.
    for (let i = 0; i < 3; i++) th.offer(notice(100 + i, clock.now()));
    expect(out.map((d) => d.type).slice(4)).toEqual(['alert', 'alert']);
    th.stop();
    expect(out.at(-1)!.type).toBe('digest');
  });

  it('lets a quiet channel through one by one', () => {
    const clock = new ManualClock(T0);
    const out: Delivery[] = [];
    const th = new Throttle({ clock, windowMs: 60_000, maxPerWindow: 1, send: (d) => out.push(d) });
    for (let i = 0; i < 5; i++) {
      th.offer(notice(i, clock.now()));
      clock.advance(61_000);
    }
    expect(out.map((d) => d.type)).toEqual(['alert', 'alert', 'alert', 'alert', 'alert']);
  });
});

describe('Notifier', () => {
  it('sends only the changes crews need, above each channel\'s severity', () => {
    const clock = new ManualClock(T0);
    const got: Delivery[] = [];
    const ch: Channel = { name: 'mem', deliver: (d) => got.push(d), start() {}, async stop() {} };
    const n = new Notifier([{ channel: ch, minSeverity: 'major', maxPerWindow: 100 }], clock, silentLogger());
    n.start();
    n.alertChanged(alert(1), 'opened');
    n.alertChanged(alert(1), 'updated');
    n.alertChanged(alert(2, { severity: 'minor' }), 'opened');
    n.alertChanged(alert(1, { state: 'resolved' }), 'resolved');
    expect(got.map((d) => (d.type === 'alert' ? `${d.notice.alert.id}:${d.notice.change}` : 'digest'))).toEqual([
      'lamp_failure.L-1.abc:opened',
      'lamp_failure.L-1.abc:resolved',
    ]);
  });
});

describe('MqttAlertPublisher', () => {
  it('publishes the PROTOCOL.md message retained while open and an empty retained payload once resolved', async () => {
    const calls: Array<[string, string, unknown]> = [];
    const p = new MqttAlertPublisher(async (t, payload, o) => calls.push([t, payload, o]), silentLogger());
    p.alertChanged(alert(1, { evidence: null }));
    p.alertChanged(alert(1, { state: 'resolved', resolvedAt: T0 + 1 }));
    await until(() => calls.length === 2);
    expect(calls[0]![0]).toBe(alertTopic('lamp_failure.L-1.abc'));
    expect(alertMessageSchema.parse(JSON.parse(calls[0]![1]))).toMatchObject({ id: 'lamp_failure.L-1.abc', state: 'open' });
    expect(calls[0]![2]).toEqual({ qos: 1, retain: true });
    expect(calls[1]![1]).toBe('');
  });
});

describe('WebhookChannel (real HTTP receiver on loopback)', () => {
  let server: http.Server | null = null;
  let channel: WebhookChannel | null = null;
  afterEach(async () => {
    await channel?.stop();
    channel = null;
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = null;
  });

  async function receiver(handle: (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void): Promise<string> {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  }

  it('posts signed JSON, and retries a failing receiver with growing delays', async () => {
    const seen: Array<{ at: number; ok: boolean; body: string }> = [];
    const url = await receiver((req, body, res) => {
      const ok = verifySignature(SECRET, String(req.headers[TIMESTAMP_HEADER]), body, req.headers[SIGNATURE_HEADER] as string | undefined);
      seen.push({ at: Date.now(), ok, body });
      res.statusCode = seen.length <= 3 ? 503 : 204;
      res.end();
    });
    channel = new WebhookChannel({ name: 'gmao', url, secret: SECRET, backoffMs: 40 }, systemClock(), silentLogger());
    channel.start();
    channel.deliver({ type: 'alert', notice: notice(7) });
    await until(() => channel!.counters().sent === 1, 5000);
    expect(seen).toHaveLength(4);
    expect(seen.every((s) => s.ok)).toBe(true);
    expect(JSON.parse(seen[3]!.body)).toMatchObject({ v: 1, type: 'alert', change: 'opened', alert: { id: 'lamp_failure.L-7.abc' } });
    const gaps = seen.slice(1).map((s, i) => s.at - seen[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(35);
    expect(gaps[2]).toBeGreaterThan(gaps[0]! * 2);
    expect(channel.counters()).toMatchObject({ sent: 1, retries: 3, failed: 0 });
    expect(verifySignature(SECRET, '1', seen[3]!.body, 'sha256=00')).toBe(false);
  });

  it('never blocks the caller: a hung receiver fills a bounded queue and the oldest are dropped', async () => {
    const url = await receiver(() => {
      /* never answers */
    });
    channel = new WebhookChannel({ name: 'slow', url, secret: SECRET, maxQueue: 5, timeoutMs: 60_000 }, systemClock(), silentLogger());
    channel.start();
    const t = performance.now();
    for (let i = 0; i < 50; i++) channel.deliver({ type: 'alert', notice: notice(i) });
    expect(performance.now() - t).toBeLessThan(200);
    expect(channel.counters()).toMatchObject({ queued: 5, dropped: 45, sent: 0 });
  });

  it('gives up on a 4xx answer at once (retrying will not help)', async () => {
    let n = 0;
    const url = await receiver((_req, _b, res) => {
      n++;
      res.statusCode = 400;
      res.end();
    });
    channel = new WebhookChannel({ name: 'bad', url, secret: SECRET, backoffMs: 10 }, systemClock(), silentLogger());
    channel.start();
    channel.deliver({ type: 'alert', notice: notice(1) });
    await until(() => channel!.counters().failed === 1);
    expect(n).toBe(1);
  });

  it('refuses a short secret, naming the field', () => {
    expect(() => new WebhookChannel({ name: 'x', url: 'http://127.0.0.1/', secret: 'short' }, systemClock(), silentLogger())).toThrow(/secret/);
  });
});
