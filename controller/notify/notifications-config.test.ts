import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { buildNotifier, describeNotifications, loadNotificationsFile, parseNotificationsConfig, withTownTimeZone } from './notifications-config.js';

const SMTP_PASSWORD = 'smtp-password-from-env';
const WEBHOOK_SECRET = 'webhook-secret-from-the-environment';

describe('notifications config', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('reads a file, puts the secrets of the environment in, and describes it without any secret', () => {
    const dir = mkdtempSync(join(tmpdir(), 'luciole-notify-'));
    dirs.push(dir);
    const file = join(dir, 'notifications.json');
    writeFileSync(
      file,
      JSON.stringify({
        webhooks: [{ url: 'https://gmao.example/hook?token=abc', secret: 'in-the-file-but-overridden', minSeverity: 'major' }],
        smtp: { host: 'smtp.mairie.example', user: 'luciole', password: 'in-the-file', from: 'luciole@mairie.example', to: ['astreinte@mairie.example'] },
      }),
    );
    const c = loadNotificationsFile(file, { LUCIOLE_SMTP_PASSWORD: SMTP_PASSWORD, LUCIOLE_WEBHOOK_SECRET: WEBHOOK_SECRET });
    expect(c.webhooks[0]).toMatchObject({ secret: WEBHOOK_SECRET, minSeverity: 'major' });
    expect(c.smtp).toMatchObject({ password: SMTP_PASSWORD, port: 587, requireTLS: true, minSeverity: 'minor' });
    const shown = JSON.stringify(describeNotifications(c));
    expect(shown).toContain('smtp.mairie.example');
    for (const secret of [SMTP_PASSWORD, WEBHOOK_SECRET, 'luciole"', 'token=abc']) expect(shown).not.toContain(secret);
    expect(buildNotifier(c, new ManualClock(0), silentLogger())).not.toBeNull();
    expect(buildNotifier(parseNotificationsConfig({}, {}), new ManualClock(0), silentLogger())).toBeNull();
  });

  it("dates mails in the town's time zone unless the file names one", () => {
    const smtp = { host: 'mail.example', from: 'luciole@example.org', to: ['equipe@example.org'] };
    const plain = parseNotificationsConfig({ smtp }, {});
    expect(withTownTimeZone(plain, 'America/Cayenne').smtp?.timeZone).toBe('America/Cayenne');
    const named = parseNotificationsConfig({ smtp: { ...smtp, timeZone: 'Europe/Paris' } }, {});
    expect(withTownTimeZone(named, 'America/Cayenne').smtp?.timeZone).toBe('Europe/Paris');
    const hooksOnly = parseNotificationsConfig({ webhooks: [] }, {});
    expect(withTownTimeZone(hooksOnly, 'America/Cayenne')).toBe(hooksOnly);
  });

  it('names the field at fault and never echoes a secret', () => {
    const short = 'too-short';
    expect(() => parseNotificationsConfig({ webhooks: [{ url: 'https://x.example/', secret: short }] }, {})).toThrow(/webhooks\.0\.secret/);
    try {
      parseNotificationsConfig({ webhooks: [{ url: 'https://x.example/', secret: short }] }, {});
    } catch (e) {
      expect((e as Error).message).not.toContain(short);
    }
    expect(() => parseNotificationsConfig({ smtp: { host: 'h', from: 'a@b.c', to: [] } }, {})).toThrow(/smtp\.to/);
    expect(() => parseNotificationsConfig({ webhooks: [{ url: 'ftp://x.example/', secret: WEBHOOK_SECRET }] }, {})).toThrow(/webhooks\.0\.url/);
    expect(() => parseNotificationsConfig([], {})).toThrow(/JSON object/);
    // Mail dates follow the town's time zone, an IANA name; a wrong one is refused at start.
    const smtp = { host: 'h', from: 'a@b.c', to: ['x@b.c'] };
    expect(() => parseNotificationsConfig({ smtp: { ...smtp, timeZone: 'Mars/Olympus' } }, {})).toThrow(/smtp\.timeZone/);
    expect(parseNotificationsConfig({ smtp: { ...smtp, timeZone: 'America/Cayenne' } }, {}).smtp?.timeZone).toBe('America/Cayenne');
    // The environment's secret may stand in for one left out of the file.
    expect(parseNotificationsConfig({ webhooks: [{ url: 'https://x.example/' }] }, { LUCIOLE_WEBHOOK_SECRET: WEBHOOK_SECRET }).webhooks[0]!.secret).toBe(WEBHOOK_SECRET);
  });
});
