import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { until } from '../test-kit.js';
import type { AlertView } from '../views.js';
import { EmailChannel, mailFor } from './email.js';
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
    detail: 'lampe éteinte alors que commandée à 60 %',
    evidence: { rule: 'power < 2 W', expected: '≈ 22 W', measured: '0.5 W', window: { from: T0 - 60_000, to: T0 }, link: `/api/lamps/L-${i}/history?from=1&to=2` },
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
      { name: 'astreinte', host: '127.0.0.1', port, requireTLS: false, from: 'luciole@mairie.example', to: ['astreinte@mairie.example'] },
      silentLogger(),
    );
    notifier = new Notifier([{ channel: email, maxPerWindow: 2, windowMs: 600_000 }], clock, silentLogger());
    notifier.start();
    for (let i = 1; i <= 40; i++) notifier.alertChanged(alert(i), 'opened');
    await until(() => email.stats.sent === 2, 10_000);
    clock.advance(600_000);
    await until(() => email.stats.sent === 3, 10_000);
    expect(mails).toHaveLength(3);
    expect(mails[0]).toContain('Subject: [Luciole] Nouvelle alerte CRITIQUE');
    expect(mails[0]).toContain('L-1');
    expect(mails[0]).toContain('/api/lamps/L-1/history');
    expect(mails[2]).toMatch(/R=C3=A9capitulatif|Récapitulatif/);
    expect(mails[2]).toContain('38');
  });

  it('writes French mail text with the evidence', () => {
    const m = mailFor({ type: 'alert', notice: { alert: alert(3), change: 'opened', at: T0 } });
    expect(m.subject).toBe('[Luciole] Nouvelle alerte CRITIQUE : lamp_failure L-3');
    expect(m.text).toContain('Mesuré : 0.5 W');
    expect(m.text).toContain('Armoire : ARM-01');
  });
});
