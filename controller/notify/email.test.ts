import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { until } from '../test-kit.js';
import type { AlertView } from '../views.js';
import { EmailChannel, mailFor } from './email.js';
import { readMail } from './mail-testing.js';
import { Notifier } from './notifier.js';

const T0 = Date.UTC(2025, 10, 21, 20, 0, 0);

function alert(i: number): AlertView {
  return {
    id: `lamp_failure.L-${i}.abc`,
    kind: 'lamp_failure',
    severity: 'critical',
    state: 'open',
    cabinetId: 'ARM-01',
    lampId: `L-${i}`,
    openedAt: T0,
    lastSeen: T0,
    resolvedAt: null,
    count: 1,
    detail: 'lampe éteinte alors que commandée à 60\u00a0% (0,5\u00a0W)',
    evidence: {
      rule: 'puissance < 2,2\u00a0W avec un niveau > 0 pendant 2 relevés consécutifs',
      expected: '≈ 22\u00a0W au niveau 60\u00a0%',
      measured: '0,5\u00a0W au niveau 60\u00a0%',
      window: { from: T0 - 60_000, to: T0 },
      link: `/api/lamps/L-${i}/history?from=1&to=2`,
    },
  };
}

describe('EmailChannel (real SMTP receiver on loopback)', () => {
  let server: SMTPServer | null = null;
  let notifier: Notifier | null = null;
  afterEach(async () => {
    await notifier?.stop();
    notifier = null;
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = null;
  });

  it('mails the first alerts of a storm one by one, and the rest as one digest', async () => {
    const mails: string[] = [];
    server = new SMTPServer({
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
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.server.address() as AddressInfo).port;
    const clock = new ManualClock(T0);
    const email = new EmailChannel(
      {
        name: 'astreinte',
        host: '127.0.0.1',
        port,
        requireTLS: false,
        from: 'luciole@mairie.example',
        to: ['astreinte@mairie.example'],
        // A town in French Guiana: the mail's dates follow the configured zone (UTC−3), not Paris.
        timeZone: 'America/Cayenne',
        dashboardUrl: 'https://luciole.kourou.example',
      },
      silentLogger(),
    );
    notifier = new Notifier([{ channel: email, maxPerWindow: 2, windowMs: 600_000 }], clock, silentLogger());
    notifier.start();
    for (let i = 1; i <= 40; i++) notifier.alertChanged(alert(i), 'opened');
    await until(() => email.stats.sent === 2, 10_000);
    clock.advance(600_000);
    await until(() => email.stats.sent === 3, 10_000);
    expect(mails).toHaveLength(3);
    const [first, , digest] = mails.map(readMail);
    expect(first!.subject).toBe('[Luciole] Nouvelle alerte CRITIQUE : Lampe éteinte (panne), lampe L-1');
    expect(first!.text).toContain('Ouverte le 21 nov. 2025, 17:00, vue 1 fois');
    expect(first!.text).toContain('Mesuré : 0,5\u00a0W au niveau 60\u00a0%');
    expect(first!.text).toContain('Historique de la lampe : https://luciole.kourou.example/api/lamps/L-1/history?from=1&to=2');
    expect(digest!.subject).toBe("[Luciole] Récapitulatif : 38 changements d'alertes dont 38 critiques");
    const lines = digest!.text.split('\n');
    expect(lines[0]).toBe("38 changements d'alertes entre le 21 nov. 2025, 17:00 et le 21 nov. 2025, 17:00 :");
    expect(lines.filter((l) => l.startsWith('- Nouvelle alerte : Lampe éteinte (panne), lampe L-'))).toHaveLength(38);
  });

  it('writes French mail text with the evidence, dates at the town time zone', () => {
    const m = mailFor({ type: 'alert', notice: { alert: alert(3), change: 'opened', at: T0 } }, { timeZone: 'Europe/Paris', dashboardUrl: 'https://luciole.mairie.example/' });
    expect(m.subject).toBe('[Luciole] Nouvelle alerte CRITIQUE : Lampe éteinte (panne), lampe L-3');
    expect(m.text.split('\n')).toEqual([
      'Lampe éteinte (panne) — gravité CRITIQUE — ouverte',
      'Armoire : ARM-01   Lampe : L-3',
      'Constat : lampe éteinte alors que commandée à 60\u00a0% (0,5\u00a0W)',
      'Ouverte le 21 nov. 2025, 21:00, vue 1 fois, dernière fois le 21 nov. 2025, 21:00',
      'Règle : puissance < 2,2\u00a0W avec un niveau > 0 pendant 2 relevés consécutifs',
      'Attendu : ≈ 22\u00a0W au niveau 60\u00a0%',
      'Mesuré : 0,5\u00a0W au niveau 60\u00a0%',
      'Période : du 21 nov. 2025, 20:59 au 21 nov. 2025, 21:00',
      'Historique de la lampe : https://luciole.mairie.example/api/lamps/L-3/history?from=1&to=2',
    ]);
  });

  it('names what an alert is about in words, and who resolved it', () => {
    const at = { at: T0, change: 'resolved' as const };
    const cabinet: AlertView = { ...alert(1), id: 'door_open.ARM-02.abc', kind: 'door_open', severity: 'major', cabinetId: 'ARM-02', lampId: null, evidence: null };
    const sensor: AlertView = { ...alert(1), id: 'sensor_stuck.S-9.abc', kind: 'sensor_stuck', severity: 'minor', lampId: 'L-9', subject: 'S-9' };
    const store: AlertView = { ...alert(1), id: 'storage_unavailable.telemetry-store.abc', kind: 'storage_unavailable', severity: 'major', cabinetId: 'controller', lampId: null, subject: 'telemetry-store' };
    const resolved: AlertView = { ...cabinet, state: 'resolved', resolvedAt: T0 + 60_000, resolvedBy: 'system', note: "porte de l'armoire fermée" };
    expect(mailFor({ type: 'alert', notice: { alert: cabinet, ...at } }).subject).toBe("[Luciole] Alerte résolue majeure : Porte d'armoire ouverte, armoire ARM-02");
    expect(mailFor({ type: 'alert', notice: { alert: sensor, ...at } }).subject).toBe('[Luciole] Alerte résolue mineure : Capteur de présence bloqué, capteur S-9 (lampe L-9)');
    expect(mailFor({ type: 'alert', notice: { alert: store, ...at } }).subject).toBe('[Luciole] Alerte résolue majeure : Base de télémesure indisponible, contrôleur');
    const text = mailFor({ type: 'alert', notice: { alert: resolved, ...at } }).text.split('\n');
    expect(text[0]).toBe("Porte d'armoire ouverte — gravité majeure — résolue");
    expect(text).toContain('Résolue par Luciole (automatique) le 21 nov. 2025, 21:01');
    expect(text).toContain("Note : porte de l'armoire fermée");
    const one = mailFor({ type: 'digest', notices: [{ alert: cabinet, ...at }], from: T0, to: T0 });
    expect(one.subject).toBe("[Luciole] Récapitulatif : 1 changement d'alerte");
  });
});
