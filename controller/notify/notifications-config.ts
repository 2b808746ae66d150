import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { LucioleError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { alertSeveritySchema, formatIssuePath, siteSchema } from '../../protocol/index.js';
import { EmailChannel } from './email.js';
import { Notifier, type ChannelSettings } from './notifier.js';
import { WebhookChannel } from './webhook.js';

const throttleShape = {
  /** Throttle per channel: at most `maxPerWindow` deliveries per `windowS`, then one digest. Defaults 5 per 600 s. */
  windowS: z.number().int().positive().max(86_400).optional(),
  maxPerWindow: z.number().int().positive().max(10_000).optional(),
  /** Least severity sent. Default minor (everything). */
  minSeverity: alertSeveritySchema.default('minor'),
};

export const webhookSettingsSchema = z.object({
  name: z.string().min(1).max(64).optional(),
  url: z.url({ protocol: /^https?$/ }),
  /** HMAC-SHA256 key; LUCIOLE_WEBHOOK_SECRET overrides it (and may stand in for it). */
  secret: z.string().min(16, { message: 'must be at least 16 characters (or set LUCIOLE_WEBHOOK_SECRET)' }),
  ...throttleShape,
});

export const smtpSettingsSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65_535).default(587),
  /** true: TLS from the start (465); false: STARTTLS. */
  secure: z.boolean().default(false),
  /** Refuse to send without STARTTLS (default: alerts name places and faults). */
  requireTLS: z.boolean().default(true),
  user: z.string().min(1).optional(),
  /** LUCIOLE_SMTP_PASSWORD overrides it: keep it out of the file. */
  password: z.string().min(1).optional(),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1).max(100),
  /** The dashboard's address, for links in the mails. */
  dashboardUrl: z.string().optional(),
  /** The town's time zone, for dates in the mails. Default Europe/Paris. */
  timeZone: siteSchema.shape.timezone.optional(),
  ...throttleShape,
});

/** The `notifications` section of `luciole serve` (a JSON file, `--notifications FILE`). */
export const notificationsConfigSchema = z.object({
  webhooks: z.array(webhookSettingsSchema).max(20).default([]),
  smtp: smtpSettingsSchema.optional(),
});

/** Mails date things in the town's time zone unless the file names one. */
export function withTownTimeZone(c: NotificationsConfig, townZone: string): NotificationsConfig {
  return c.smtp && c.smtp.timeZone === undefined ? { ...c, smtp: { ...c.smtp, timeZone: townZone } } : c;
}
export type NotificationsConfig = z.infer<typeof notificationsConfigSchema>;
export type NotificationsConfigInput = z.input<typeof notificationsConfigSchema>;

/** Environment variables that override the file's secrets. */
export const NOTIFICATIONS_ENV = { smtpPassword: 'LUCIOLE_SMTP_PASSWORD', webhookSecret: 'LUCIOLE_WEBHOOK_SECRET' } as const;

/**
 * Validates a notifications section after the environment's secrets are put in (they win over
 * the file). Errors name the field, never a value.
 */
export function parseNotificationsConfig(input: unknown, env: NodeJS.ProcessEnv, source = 'notifications'): NotificationsConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new LucioleError('LUCIOLE_ERR_CONFIG_INVALID', `${source}: must be a JSON object`);
  }
  const raw: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  const secret = env[NOTIFICATIONS_ENV.webhookSecret];
  if (secret && Array.isArray(raw.webhooks)) {
    raw.webhooks = raw.webhooks.map((w: unknown) => (w !== null && typeof w === 'object' ? { ...w, secret } : w));
  }
  const password = env[NOTIFICATIONS_ENV.smtpPassword];
  if (password && raw.smtp !== null && typeof raw.smtp === 'object') raw.smtp = { ...raw.smtp, password };
  const r = notificationsConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue ? formatIssuePath(issue.path) : '';
    throw new LucioleError('LUCIOLE_ERR_CONFIG_INVALID', `${source}: ${field || '(root)'}: ${issue?.message ?? 'invalid'}`, field);
  }
  return r.data;
}

/** Reads and validates a notifications file (`--notifications FILE`). */
export function loadNotificationsFile(file: string, env: NodeJS.ProcessEnv): NotificationsConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new LucioleError('LUCIOLE_ERR_CONFIG_INVALID', `${file}: cannot read JSON: ${(e as Error).message}`, 'notifications');
  }
  return parseNotificationsConfig(json, env, file);
}

/** What may be logged of the config: where alerts go, never a secret nor a user name. */
export function describeNotifications(c: NotificationsConfig): Record<string, unknown> {
  return {
    webhooks: c.webhooks.map((w) => ({ url: safeUrl(w.url), minSeverity: w.minSeverity })),
    smtp: c.smtp ? { host: c.smtp.host, port: c.smtp.port, to: c.smtp.to.length, minSeverity: c.smtp.minSeverity } : null,
  };
}

/** The URL without credentials or query (a token may hide there). */
function safeUrl(u: string): string {
  try {
    const url = new URL(u);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(invalid)';
  }
}

/** The channels the config names, behind their throttles; null when it names none. */
export function buildNotifier(c: NotificationsConfig, clock: Clock, logger: Logger): Notifier | null {
  const log = logger.child({ component: 'notify' });
  const settings: ChannelSettings[] = [];
  c.webhooks.forEach((w, i) => {
    settings.push({
      channel: new WebhookChannel({ name: w.name ?? `webhook-${i + 1}`, url: w.url, secret: w.secret }, clock, log),
      ...throttleOf(w),
    });
  });
  if (c.smtp) {
    const s = c.smtp;
    settings.push({
      channel: new EmailChannel(
        {
          name: 'smtp',
          host: s.host,
          port: s.port,
          secure: s.secure,
          requireTLS: s.requireTLS,
          from: s.from,
          to: s.to,
          ...(s.user !== undefined ? { user: s.user } : {}),
          ...(s.password !== undefined ? { password: s.password } : {}),
          ...(s.dashboardUrl !== undefined ? { dashboardUrl: s.dashboardUrl } : {}),
          ...(s.timeZone !== undefined ? { timeZone: s.timeZone } : {}),
        },
        log,
      ),
      ...throttleOf(s),
    });
  }
  return settings.length > 0 ? new Notifier(settings, clock, log) : null;
}

function throttleOf(t: { windowS?: number | undefined; maxPerWindow?: number | undefined; minSeverity: ChannelSettings['minSeverity'] }): Omit<ChannelSettings, 'channel'> {
  return {
    ...(t.minSeverity ? { minSeverity: t.minSeverity } : {}),
    ...(t.windowS !== undefined ? { windowMs: t.windowS * 1000 } : {}),
    ...(t.maxPerWindow !== undefined ? { maxPerWindow: t.maxPerWindow } : {}),
  };
}
