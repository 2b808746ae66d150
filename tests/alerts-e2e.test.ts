import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTime } from '../core/astro.js';
import { scaledClock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import { readMail } from '../controller/notify/mail-testing.js';
import { parseNotificationsConfig } from '../controller/notify/notifications-config.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from '../controller/notify/webhook.js';
import { alertViewSchema, lampHistoryViewSchema, liveEventSchema, type AlertView } from '../controller/views.js';
import { createSseParser } from '../dashboard/ui/sse-parser.js';
import { parseEdgeConfig } from '../edge-agent/config.js';
import { EdgeAgent } from '../edge-agent/agent.js';
import { SimulatedDriver } from '../edge-agent/sim-driver.js';
import { startServer, type RunningServer } from '../cli/server.js';
import { generateTown, townInventory } from '../sim/town.js';
import { eventually, tempDir } from './helpers.js';

/**
 * Faults injected in simulated gateways, through the real loop (aedes, controller, dashboard,
 * edge agents over MQTT), become alerts seen through the API, the live stream, a webhook
 * receiver checking the HMAC and a real SMTP server. The clock runs 4× (telemetry every
 * simulated second), so a lamp's power is learnt within seconds.
 */
const town = generateTown({ columns: 2, rows: 1, lampsPerStreet: 6, sensorEvery: 1 });
const site = town.site;
const START = localTime('2026-11-20', 20, 0, site.timezone);
const TOKEN = 'alerts-e2e-token-0123456789abcdef';
const SECRET = 'webhook-e2e-secret-0123456789abcdef';
const SPEED = 4;

interface Hook {
  ok: boolean;
  change: string;
  alert: AlertView;
}

describe('alerts end to end: simulated faults to the API, SSE, webhooks and e-mail', () => {
  const tmp = tempDir('alerts-e2e');
  const clock = scaledClock(START, SPEED);
  let server: RunningServer;
  const agents = new Map<string, { agent: EdgeAgent; driver: SimulatedDriver }>();
  const hooks: Hook[] = [];
  const mails: string[] = [];
  const sse: AlertView[] = [];
  const sseAbort = new AbortController();
  let sseDone: Promise<void> = Promise.resolve();
  let webhookServer: http.Server;
  let smtp: SMTPServer;

  const lampsOf = (cabinetId: string) => town.lamps.filter((l) => l.cabinetId === cabinetId).map((l) => l.id);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(new URL(path, server.httpUrl), {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? ((await res.json()) as unknown) : await res.text() };
  };
  const openAlerts = async (query: string): Promise<AlertView[]> => {
    const r = await call('GET', `/api/alerts?${query}`);
    expect(r.status).toBe(200);
    return (r.body as unknown[]).map((a) => alertViewSchema.parse(a));
  };
  const waitAlert = async (kind: string, subject: string): Promise<AlertView> => {
    let found: AlertView | undefined;
    await eventually(async () => {
      found = (await openAlerts(`state=active&kind=${kind}`)).find((a) => (a.lampId ?? a.cabinetId) === subject);
      return found !== undefined;
    }, `${kind} alert on ${subject}`, 15_000);
    return found!;
  };

  beforeAll(async () => {
    webhookServer = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const ok = verifySignature(SECRET, String(req.headers[TIMESTAMP_HEADER]), body, req.headers[SIGNATURE_HEADER] as string | undefined);
        const parsed = JSON.parse(body) as { type: string; change: string; alert: AlertView; alerts?: Array<{ change: string; alert: AlertView }> };
        if (parsed.type === 'alert') hooks.push({ ok, change: parsed.change, alert: parsed.alert });
        else for (const a of parsed.alerts ?? []) hooks.push({ ok, change: a.change, alert: a.alert });
        res.end();
      });
    });
    await new Promise<void>((r) => webhookServer.listen(0, '127.0.0.1', () => r()));
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push(Buffer.concat(chunks).toString('utf8'));
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));

    const notifications = parseNotificationsConfig(
      {
        webhooks: [{ name: 'gmao', url: `http://127.0.0.1:${(webhookServer.address() as AddressInfo).port}/hook`, secret: 'replaced-by-the-environment', maxPerWindow: 1000 }],
        smtp: {
          host: '127.0.0.1',
          port: (smtp.server.address() as AddressInfo).port,
          requireTLS: false,
          from: 'luciole@mairie.example',
          to: ['astreinte@mairie.example'],
          maxPerWindow: 1000,
          minSeverity: 'major',
        },
      },
      { LUCIOLE_WEBHOOK_SECRET: SECRET },
    );
    const inventory = join(tmp.dir, 'inventory.geojson');
    writeFileSync(inventory, JSON.stringify(townInventory(town)));
    server = await startServer(
      { dataDir: tmp.dir, mqttPort: 0, httpPort: 0, host: '127.0.0.1', inventory, periodS: 1, adminToken: TOKEN, notifications },
      { clock, logger: silentLogger() },
    );
    server.configStore.setTown({ name: town.name, site }, 'test');

    // The live stream, read as the browser does.
    const res = await fetch(new URL('/api/stream', server.httpUrl), { headers: { authorization: `Bearer ${TOKEN}` }, signal: sseAbort.signal });
    const parser = createSseParser((m) => {
      const e = liveEventSchema.parse(JSON.parse(m.data));
      if (e.type === 'alert') sse.push(e.alert);
    });
    sseDone = (async () => {
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        parser.push(value);
      }
    })().catch(() => undefined);

    for (const cab of town.cabinets) {
      const config = parseEdgeConfig({
        cabinetId: cab.id,
        brokerUrl: server.mqttUrl,
        password: server.credentials.issue(cab.id, 'cabinet'),
        dataDir: join(tmp.dir, 'edge', cab.id),
        periodS: 1,
        tickMs: 100,
        site,
        lamps: town.lamps.filter((l) => l.cabinetId === cab.id).map((l) => ({ id: l.id, nominalPowerW: l.nominalPowerW, sensorId: `S-${l.id}` })),
        sim: { seed: 1, traffic: 0 },
      });
      const driver = new SimulatedDriver({ clock, lamps: config.lamps, seed: 1, traffic: 0, timezone: site.timezone });
      const agent = new EdgeAgent({ config, clock, driver, logger: silentLogger() });
      agents.set(cab.id, { agent, driver });
      await agent.start();
      await agent.whenConnected();
    }
    // Lamps at their fail-safe 100 % (no plan): enough steady readings for each lamp's power to be learnt.
    await eventually(() => server.controller.stats().samplesStored >= town.lamps.length * 25, 'lamp power learnt', 20_000);
  }, 40_000);

  afterAll(async () => {
    sseAbort.abort();
    await sseDone;
    for (const { agent } of agents.values()) await agent.stop();
    await server?.stop();
    await new Promise<void>((r) => (webhookServer ? webhookServer.close(() => r()) : r()));
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
    tmp.remove();
  });

  it('starts quiet: healthy gateways give no alert', async () => {
    expect(await openAlerts('state=active')).toEqual([]);
  });

  it('turns a burnt-out lamp into an alert with its evidence, on the API, the stream, the webhook and by mail', async () => {
    const lamp = lampsOf('ARM-01')[1]!;
    agents.get('ARM-01')!.driver.injectFault(lamp, 'lamp_out');
    const alert = await waitAlert('lamp_failure', lamp);
    expect(alert).toMatchObject({ cabinetId: 'ARM-01', state: 'open' });
    expect(alert.evidence?.link).toContain(`/api/lamps/${lamp}/history`);

    const one = await call('GET', `/api/alerts/${alert.id}`);
    expect(one.status).toBe(200);
    expect(alertViewSchema.parse(one.body).history?.[0]).toMatchObject({ action: 'opened', by: 'system' });

    await eventually(() => sse.some((a) => a.id === alert.id), 'the alert on the live stream');
    await eventually(() => hooks.some((h) => h.alert.id === alert.id && h.change === 'opened'), 'the webhook delivery');
    expect(hooks.every((h) => h.ok)).toBe(true);
    // What the crew reads, in French with French numbers: on the API, and in the mail.
    expect(alert.detail).toMatch(/^le driver signale la lampe hors service \(code lamp_failure\) : \d+(,\d)?\u00a0W au niveau \d+\u00a0%$/);
    expect(alert.evidence).toMatchObject({ rule: 'le driver envoie le code de défaut lamp_failure', expected: 'aucun code de défaut' });
    expect(alert.evidence?.measured).toMatch(/^lampe hors service \(lamp_failure\), \d+(,\d)?\u00a0W au niveau \d+\u00a0%$/);
    await eventually(() => mails.some((m) => readMail(m).text.includes(lamp)), 'the mail');
    const mail = mails.map(readMail).find((m) => m.text.includes(lamp))!;
    expect(mail.subject).toBe(`[Luciole] Nouvelle alerte ${alert.severity === 'critical' ? 'CRITIQUE' : 'majeure'} : Lampe éteinte (panne), lampe ${lamp}`);
    expect(mail.text).toContain(`Constat : ${alert.detail}`);
    expect(mail.text).toContain(`Mesuré : ${alert.evidence!.measured}`);

    // The evidence link answers with the lamp's readings, the dark ones included.
    const history = await call('GET', alert.evidence!.link!.replace(/from=\d+/, `from=${START}`));
    expect(history.status).toBe(200);
    const h = lampHistoryViewSchema.parse(history.body);
    expect(h.samples.some((s) => s.fault === 'lamp_failure')).toBe(true);
    expect(h.samples.some((s) => s.fault === null && s.powerW > 10)).toBe(true);

    const order = await call('GET', `/api/alerts/${alert.id}/work-order`);
    expect(order.status).toBe(200);
    const lampRecord = town.lamps.find((l) => l.id === lamp)!;
    expect(order.body).toContain(lamp);
    expect(order.body).toContain(lampRecord.lat.toFixed(6));
    expect(order.body).toContain("Bon d'intervention");
    expect(order.body).toContain(`<td>${alert.evidence!.measured}</td>`);
  });

  it('finds a failed driver and a drifting lamp, and an open cabinet door until it closes', async () => {
    const [a, , , b] = lampsOf('ARM-01').slice(2);
    const { driver } = agents.get('ARM-01')!;
    driver.injectFault(a!, 'driver_failure');
    driver.injectFault(b!, 'drift');
    driver.injectEvent('door_open', 'contact de porte');
    const fault = await waitAlert('driver_fault', a!);
    const drift = await waitAlert('power_high', b!);
    const door = await waitAlert('door_open', 'ARM-01');
    expect(drift.evidence?.measured).toMatch(/^\d+(,\d)?\u00a0W \(\+\d+\u00a0%\)$/);
    expect(fault.detail).toBe('défaut du driver : panne du driver (driver_failure)');
    expect(door.evidence).toMatchObject({ expected: 'porte fermée', measured: "porte de l'armoire ouverte (événement door_open)" });
    expect(fault.severity).not.toBe('minor');

    driver.injectEvent('door_closed');
    await eventually(async () => (await openAlerts('state=resolved&kind=door_open')).some((x) => x.id === door.id), 'door alert resolved');
    await eventually(
      () => hooks.some((h) => h.alert.id === door.id && h.change === 'resolved') && hooks.some((h) => h.alert.id === drift.id),
      'webhook told of the door and the drift',
    );
    // The mail channel takes major and critical only: the minor drift is not mailed.
    await eventually(() => mails.some((m) => readMail(m).text.includes(a!)), 'the driver fault mailed');
    const read = mails.map(readMail);
    expect(read.find((m) => m.text.includes(a!))!.subject).toMatch(/ : Défaut du driver, lampe /);
    expect(read.some((m) => m.subject.includes('Puissance trop élevée') || m.text.includes(b!))).toBe(false);

    // Filters: by zone (the lamp's), by severity, by age.
    const zone = town.lamps.find((l) => l.id === a)!.zone;
    expect((await openAlerts(`state=active&zone=${zone}`)).map((x) => x.id)).toContain(fault.id);
    expect((await openAlerts(`state=active&zone=nowhere`)).length).toBe(0);
    expect((await openAlerts(`state=active&severity=minor`)).map((x) => x.id)).toContain(drift.id);
    expect((await openAlerts(`since=${clock.now() + 3_600_000}`)).length).toBe(0);
    expect((await call('GET', '/api/alerts?state=bogus')).status).toBe(400);
  });

  it('acknowledges then resolves an alert with who and a note, through the API', async () => {
    const lamp = lampsOf('ARM-01')[1]!;
    const alert = (await openAlerts('state=active&kind=lamp_failure')).find((x) => x.lampId === lamp)!;
    const ack = await call('POST', `/api/alerts/${alert.id}/acknowledge`, { by: 'Claire' });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'Claire (admin)' });
    expect((await call('POST', `/api/alerts/${alert.id}/acknowledge`, {})).status).toBe(400);
    expect((await call('POST', `/api/alerts/${alert.id}/resolve`, { note: '' })).status).toBe(400);

    // The crew replaces the lamp, then closes the alert.
    agents.get('ARM-01')!.driver.clearFault(lamp);
    const done = await call('POST', `/api/alerts/${alert.id}/resolve`, { by: 'Marc', note: 'lampe remplacée' });
    expect(done.status).toBe(200);
    const resolved = alertViewSchema.parse(done.body);
    expect(resolved).toMatchObject({ state: 'resolved', resolvedBy: 'Marc (admin)', note: 'lampe remplacée', acknowledgedBy: 'Claire (admin)' });
    expect(resolved.history?.map((x) => x.action)).toEqual(['opened', 'acknowledged', 'resolved']);
    await eventually(() => sse.some((a) => a.id === alert.id && a.state === 'resolved'), 'the resolution on the live stream');
    await eventually(() => hooks.some((h) => h.alert.id === alert.id && h.change === 'resolved'), 'the resolution on the webhook');
    expect((await call('POST', '/api/alerts/nope.x.1/acknowledge', {})).status).toBe(404);
    expect(server.configStore.auditLog(20).map((e) => e.action)).toEqual(expect.arrayContaining(['alert.acknowledge', 'alert.resolve']));
  });

  it('folds a cabinet power cut and its dark lamps into one alert', async () => {
    const { driver } = agents.get('ARM-02')!;
    const before = hooks.length;
    driver.injectEvent('power_cut', 'disjoncteur');
    for (const id of lampsOf('ARM-02')) driver.injectFault(id, 'lamp_out');
    const cut = await waitAlert('power_cut', 'ARM-02');
    await eventually(async () => {
      const a = alertViewSchema.parse((await call('GET', `/api/alerts/${cut.id}`)).body);
      return (a.folded ?? []).filter((f) => f.kind === 'lamp_failure').length === lampsOf('ARM-02').length;
    }, 'every dark lamp folded under the cut');
    const open = (await openAlerts('state=active')).filter((a) => a.cabinetId === 'ARM-02');
    expect(open.map((a) => a.kind)).toEqual(['power_cut']);
    expect(open[0]!.severity).toBe('critical'); // at night
    await eventually(() => hooks.slice(before).some((h) => h.alert.id === cut.id), 'the cut on the webhook');
    expect(hooks.slice(before).filter((h) => h.alert.cabinetId === 'ARM-02' && h.change === 'opened').map((h) => h.alert.kind)).toEqual(['power_cut']);

    driver.injectEvent('power_restored');
    for (const id of lampsOf('ARM-02')) driver.clearFault(id);
    await eventually(async () => (await openAlerts('state=active')).every((a) => a.cabinetId !== 'ARM-02'), 'the cut over');
  });
});
