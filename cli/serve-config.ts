import { z } from 'zod';
import { portSchema } from './args.js';
import { telemetryConfigSchema } from '../controller/telemetry/telemetry-config.js';
import { notificationsConfigSchema } from '../controller/notify/notifications-config.js';

/**
 * Config of `luciole serve` (broker, controller and dashboard in one process). Flags, then
 * environment variables override them, then this schema decides.
 */
export const serveConfigSchema = z
  .object({
    dataDir: z.string().min(1),
    mqttPort: portSchema.default(1883),
    httpPort: portSchema.default(8080),
    host: z.string().default('127.0.0.1'),
    inventory: z.string().optional(),
    /** An external broker (Mosquitto, EMQX): then no bundled broker is started. */
    brokerUrl: z.string().url().optional(),
    /** The controller's MQTT password on an external broker. */
    controllerPassword: z.string().min(16).optional(),
    /**
     * Several controllers sharing the uplink stream (MQTT 5 shared subscription
     * `$share/<group>/…`, external broker only): the group every member names, and this member's
     * name in it, unique and stable.
     */
    sharedGroup: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'must be 1 to 64 characters of A-Z a-z 0-9 _ . -' }).optional(),
    member: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'must be 1 to 64 characters of A-Z a-z 0-9 _ . -' }).optional(),
    tlsCert: z.string().optional(),
    tlsKey: z.string().optional(),
    adminToken: z
      .string()
      .min(16, { message: 'LUCIOLE_ADMIN_TOKEN must be at least 16 characters' })
      .optional(),
    periodS: z.coerce.number().int().positive().default(60),
    /** HTTP sessions: absolute lifetime (hours, default 12) and idle limit (minutes, default 60). */
    sessionTtlHours: z.coerce.number().positive().max(24 * 30).optional(),
    sessionIdleMinutes: z.coerce.number().positive().max(24 * 60).optional(),
    /** Days raw telemetry and presence counts are kept (overrides telemetry.rawRetentionDays); enforced hourly. */
    retentionDays: z.coerce.number().int().positive().max(36500).optional(),
    /** Where telemetry goes: the embedded SQLite store by default, or InfluxDB 1.x / 2.x. */
    telemetry: telemetryConfigSchema.optional(),
    /**
     * Alert notifications (webhooks, SMTP): a JSON file (`--notifications FILE`,
     * LUCIOLE_NOTIFICATIONS), read at start with LUCIOLE_SMTP_PASSWORD / LUCIOLE_WEBHOOK_SECRET
     * put in; or the section itself (tests, embedding). The section wins when both are given.
     */
    notificationsFile: z.string().min(1).optional(),
    notifications: notificationsConfigSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if (Boolean(c.tlsCert) !== Boolean(c.tlsKey)) {
      ctx.addIssue({ code: 'custom', path: ['tlsKey'], message: 'TLS needs both --tls-cert and --tls-key' });
    }
    if (Boolean(c.sharedGroup) !== Boolean(c.member)) {
      ctx.addIssue({ code: 'custom', path: [c.sharedGroup ? 'member' : 'sharedGroup'], message: 'a shared subscription needs both --shared-group and --member' });
    }
    if (c.sharedGroup && !c.brokerUrl) {
      ctx.addIssue({
        code: 'custom',
        path: ['sharedGroup'],
        message: 'shared subscriptions need an external MQTT 5 broker (--broker-url: Mosquitto 2, EMQX); the bundled broker has none',
      });
    }
    if (c.brokerUrl && !c.controllerPassword) {
      ctx.addIssue({
        code: 'custom',
        path: ['controllerPassword'],
        message: 'an external broker needs LUCIOLE_CONTROLLER_PASSWORD (see `luciole controller credentials`)',
      });
    }
  });

export type ServeConfig = z.infer<typeof serveConfigSchema>;
export type ServeConfigInput = z.input<typeof serveConfigSchema>;

/** Environment overrides, by config key. */
export const SERVE_ENV: Record<string, keyof ServeConfigInput> = {
  LUCIOLE_DATA_DIR: 'dataDir',
  LUCIOLE_MQTT_PORT: 'mqttPort',
  LUCIOLE_HTTP_PORT: 'httpPort',
  LUCIOLE_HOST: 'host',
  LUCIOLE_BROKER_URL: 'brokerUrl',
  LUCIOLE_CONTROLLER_PASSWORD: 'controllerPassword',
  LUCIOLE_SHARED_GROUP: 'sharedGroup',
  LUCIOLE_MEMBER: 'member',
  LUCIOLE_ADMIN_TOKEN: 'adminToken',
  LUCIOLE_SESSION_TTL_HOURS: 'sessionTtlHours',
  LUCIOLE_SESSION_IDLE_MINUTES: 'sessionIdleMinutes',
  LUCIOLE_RETENTION_DAYS: 'retentionDays',
  LUCIOLE_NOTIFICATIONS: 'notificationsFile',
};

export function withEnv<T extends Record<string, unknown>>(
  base: T,
  env: NodeJS.ProcessEnv,
  map: Record<string, string>,
): T {
  const out: Record<string, unknown> = { ...base };
  for (const [name, key] of Object.entries(map)) {
    const v = env[name];
    if (v !== undefined && v !== '') out[key] = v;
  }
  return out as T;
}
