import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import { alertMessageSchema } from '../protocol/index.js';
import { openConfigStore, type SqliteConfigStore } from './config-store.js';
import { DetectionHook } from './detection-hook.js';
import { CAB, MIN, NIGHT, series, SITE, street } from './detection/testing.js';
import type { LampRecord } from './inventory-schema.js';
import { Notifier } from './notify/notifier.js';
import { verifySignature, WebhookChannel, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './notify/webhook.js';
import { connectClient, Inbox, startTestBroker, until, type TestBroker } from './test-kit.js';
import type { AlertView, LiveEvent } from './views.js';

const SECRET = 'hook-test-secret-0123456789abcdef';
const lamps = street(6);
const records: LampRecord[] = lamps.map((l, i) => ({
  ...l,
  lat: 45.8 + i * 1e-4,
  lon: 4.8,
  baselinePowerW: null,
  neighbours: [i > 0 ? `L-${i}` : null, i < lamps.length - 1 ? `L-${i + 2}` : null].filter((x): x is string => x !== null),
}));

describe('DetectionHook over a real broker, SQLite and a webhook receiver', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('turns a cabinet power cut into one correlated alert, and a dark lamp into an alert told everywhere', async () => {
    const broker: TestBroker = await startTestBroker();
    cleanups.push(() => broker.close());
    const link: MqttClient = await connectClient(broker.url, { clientId: 'controller' });
    cleanups.push(() => link.endAsync());
    const watcher = await connectClient(broker.url, { clientId: 'scada' });
    cleanups.push(() => watcher.endAsync());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-hook-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const store: SqliteConfigStore = openConfigStore(path.join(dir, 'config.db'));
    cleanups.push(() => store.close());
    const hooks: Array<{ body: string; ok: boolean }> = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        hooks.push({ body, ok: verifySignature(SECRET, String(req.headers[TIMESTAMP_HEADER]), body, req.headers[SIGNATURE_HEADER] as string) });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));

    const clock = new ManualClock(NIGHT.dusk + 60 * MIN);
    const events: LiveEvent[] = [];
    const webhook = new WebhookChannel(
      { name: 'gmao', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, secret: SECRET, backoffMs: 20 },
      systemClock(),
      silentLogger(),
    );
    const hook = new DetectionHook({
      clock,
      logger: silentLogger(),
      site: () => SITE,
      defaultPeriodS: 60,
      saveAlert: (a) => store.saveAlert(a),
      emit: (e) => events.push(e),
      publish: (topic, payload, o) => link.publishAsync(topic, payload, o),
      notifier: new Notifier([{ channel: webhook, maxPerWindow: 50 }], clock, silentLogger()),
    });
    hook.setInventory(records);
    hook.start(store.alerts());
    cleanups.push(() => hook.stop());

    // Power cut: the gateway says so, then its lamps read 0 W while commanded on.
    const t0 = clock.now();
    hook.event(CAB, { v: 1, ts: t0, code: 'power_cut' });
    for (const m of series({ lamps, from: t0, to: t0 + 5 * MIN, tamper: (_l, r) => ({ ...r, powerW: 0 }), cabinet: () => ({ voltageV: 0, powerW: 0 }) })) {
      clock.set(m.ts);
      hook.telemetry(CAB, m);
    }
    expect(hook.openAlerts().map((a) => a.kind)).toEqual(['power_cut']);
    const cut = hook.openAlerts()[0]!;
    expect(cut.severity).toBe('critical');
    hook.tick();
    clock.advance(MIN);
    hook.tick();
    expect(hook.openAlerts()[0]!.folded!.filter((f) => f.kind === 'lamp_failure')).toHaveLength(6);
    hook.event(CAB, { v: 1, ts: clock.now(), code: 'power_restored' });
    expect(hook.openAlerts()).toEqual([]);

    // Mains back; L-4 stays dark.
    const t1 = clock.now() + MIN;
    for (const m of series({ lamps, from: t1, to: t1 + 4 * MIN, seq0: 100, tamper: (l, r) => (l.id === 'L-4' ? { ...r, powerW: 0.5 } : r) })) {
      clock.set(m.ts);
      hook.telemetry(CAB, m);
    }
    const dark = hook.openAlerts();
    expect(dark.map((a) => [a.kind, a.lampId])).toEqual([['lamp_failure', 'L-4']]);

    const inbox = new Inbox(watcher);
    await watcher.subscribeAsync('luciole/v1/alerts/#');
    await inbox.next((m) => m.topic.endsWith(dark[0]!.id) && m.payload !== '');
    // A client arriving now gets it as a retained message.
    const late = await connectClient(broker.url, { clientId: 'late' });
    cleanups.push(() => late.endAsync());
    const lateInbox = new Inbox(late);
    await late.subscribeAsync('luciole/v1/alerts/#');
    const retained = await lateInbox.next((m) => m.topic.endsWith(dark[0]!.id));
    expect(retained.retain).toBe(true);
    expect(alertMessageSchema.parse(JSON.parse(retained.payload))).toMatchObject({ kind: 'lamp_failure', lampId: 'L-4', state: 'open' });

    hook.acknowledge(dark[0]!.id, 'claire');
    hook.resolve(dark[0]!.id, 'marc', 'lampe remplacée');
    await inbox.next((m) => m.topic.endsWith(dark[0]!.id) && m.payload === '');

    await until(() => hooks.length >= 4, 5000);
    expect(hooks.every((h) => h.ok)).toBe(true);
    const kinds = hooks.map((h) => JSON.parse(h.body) as { change: string; alert: { kind: string } }).map((b) => `${b.alert.kind}:${b.change}`);
    expect(kinds).toEqual(['power_cut:opened', 'power_cut:resolved', 'lamp_failure:opened', 'lamp_failure:resolved']);

    const saved = store.alerts();
    expect(saved.find((a) => a.id === dark[0]!.id)).toMatchObject({ state: 'resolved', resolvedBy: 'marc', acknowledgedBy: 'claire', note: 'lampe remplacée' });
    expect(saved.find((a) => a.id === cut.id)).toMatchObject({ state: 'resolved' });
    expect(events.filter((e) => e.type === 'alert').length).toBeGreaterThanOrEqual(4);
  });
});

describe('DetectionHook: the telemetry database', () => {
  it('opens storage_unavailable with the queue depth while InfluxDB refuses writes, and resolves it once it accepts them', async () => {
    const clock = new ManualClock(NIGHT.dusk);
    const saved: AlertView[] = [];
    const health = { available: true, queueDepth: 0 };
    const make = () =>
      new DetectionHook({
        clock,
        logger: silentLogger(),
        site: () => SITE,
        defaultPeriodS: 60,
        saveAlert: (a) => saved.push(a),
        emit: () => undefined,
        publish: async () => undefined,
        storage: () => health,
      });
    const hook = make();
    hook.start([]);
    hook.tick();
    expect(hook.openAlerts()).toEqual([]);

    health.available = false;
    health.queueDepth = 1200;
    hook.tick();
    const [alert] = hook.openAlerts();
    expect(alert).toMatchObject({ kind: 'storage_unavailable', cabinetId: 'controller', subject: 'telemetry-store', severity: 'major' });
    expect(alert!.evidence?.measured).toContain('1200');
    health.queueDepth = 5000;
    clock.advance(MIN);
    hook.tick();
    expect(hook.openAlerts()[0]!.evidence).toMatchObject({ measured: expect.stringContaining('5000'), window: { from: alert!.openedAt, to: clock.now() } });

    health.available = true;
    clock.advance(MIN);
    hook.tick();
    expect(hook.openAlerts()).toEqual([]);
    expect(saved.at(-1)).toMatchObject({ id: alert!.id, state: 'resolved' });
    await hook.stop();

    // Open when the controller stopped, healthy when it starts again: resolved at the first check.
    health.available = false;
    const second = make();
    second.start([]);
    second.tick();
    const open = second.openAlerts();
    await second.stop();
    health.available = true;
    const third = make();
    third.start(open);
    expect(third.openAlerts()).toHaveLength(1);
    third.tick();
    expect(third.openAlerts()).toEqual([]);
    await third.stop();
  });
});
