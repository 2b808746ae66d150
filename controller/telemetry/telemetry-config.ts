import { z } from 'zod';

/**
 * The telemetry part of the serve config: which store, and how to reach InfluxDB. Flags first,
 * then environment variables override them (TELEMETRY_ENV), then this schema decides. A missing
 * setting that the chosen store needs is refused at start, naming the field.
 */

const urlField = z.string().url({ message: 'must be an http(s) URL such as http://127.0.0.1:8086' });

export const telemetryConfigSchema = z
  .object({
    telemetry: z.enum(['sqlite', 'influxdb1', 'influxdb2']).default('sqlite'),
    influxUrl: urlField.optional(),
    /** InfluxDB 1.x database. */
    influxDb: z.string().min(1).default('luciole'),
    influxUsername: z.string().min(1).optional(),
    influxPassword: z.string().min(1).optional(),
    /** InfluxDB 2.x API token. */
    influxToken: z.string().min(1).optional(),
    influxOrg: z.string().min(1).optional(),
    influxBucket: z.string().min(1).default('luciole'),
    /** How long raw samples are kept, days (SQLite rows; InfluxDB 1.x `raw` retention policy). */
    rawRetentionDays: z.coerce.number().int().positive().default(90),
    /** Hourly roll-ups, days (InfluxDB 1.x `hourly` retention policy). */
    rollupRetentionDays: z.coerce.number().int().positive().default(3650),
  })
  .superRefine((c, ctx) => {
    if (c.telemetry === 'sqlite') return;
    if (!c.influxUrl) {
      ctx.addIssue({ code: 'custom', path: ['influxUrl'], message: `--telemetry ${c.telemetry} needs --influx-url (LUCIOLE_INFLUX_URL)` });
    }
    if (c.telemetry === 'influxdb1' && Boolean(c.influxUsername) !== Boolean(c.influxPassword)) {
      ctx.addIssue({
        code: 'custom',
        path: ['influxPassword'],
        message: 'InfluxDB 1.x authentication needs both --influx-username and LUCIOLE_INFLUX_PASSWORD',
      });
    }
    if (c.telemetry === 'influxdb2') {
      if (!c.influxToken) {
        ctx.addIssue({ code: 'custom', path: ['influxToken'], message: '--telemetry influxdb2 needs LUCIOLE_INFLUX_TOKEN' });
      }
      if (!c.influxOrg) {
        ctx.addIssue({ code: 'custom', path: ['influxOrg'], message: '--telemetry influxdb2 needs --influx-org (LUCIOLE_INFLUX_ORG)' });
      }
    }
  });

export type TelemetryConfig = z.infer<typeof telemetryConfigSchema>;
export type TelemetryConfigInput = z.input<typeof telemetryConfigSchema>;

/** Environment overrides, by config key (the same shape as cli/serve-config.ts SERVE_ENV). */
export const TELEMETRY_ENV: Record<string, keyof TelemetryConfigInput> = {
  LUCIOLE_TELEMETRY: 'telemetry',
  LUCIOLE_INFLUX_URL: 'influxUrl',
  LUCIOLE_INFLUX_DB: 'influxDb',
  LUCIOLE_INFLUX_USERNAME: 'influxUsername',
  LUCIOLE_INFLUX_PASSWORD: 'influxPassword',
  LUCIOLE_INFLUX_TOKEN: 'influxToken',
  LUCIOLE_INFLUX_ORG: 'influxOrg',
  LUCIOLE_INFLUX_BUCKET: 'influxBucket',
};

const SECRET_KEYS = new Set<keyof TelemetryConfig>(['influxPassword', 'influxToken']);

/** Flags overridden by the environment, then parsed. Throws the zod error (field paths named) when invalid. */
export function parseTelemetryConfig(flags: TelemetryConfigInput, env: NodeJS.ProcessEnv): TelemetryConfig {
  const merged: Record<string, unknown> = { ...flags };
  for (const [name, key] of Object.entries(TELEMETRY_ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') merged[key] = v;
  }
  return telemetryConfigSchema.parse(merged);
}

/** The config as it may be logged: secrets replaced, and credentials inside the URL removed. */
export function describeTelemetryConfig(c: TelemetryConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) {
    if (v === undefined) continue;
    out[k] = SECRET_KEYS.has(k as keyof TelemetryConfig) ? '[redacted]' : v;
  }
  if (c.influxUrl) out.influxUrl = redactUrl(c.influxUrl);
  return out;
}

export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    for (const key of [...u.searchParams.keys()]) {
      if (/^(p|password|token|u)$/i.test(key)) u.searchParams.set(key, 'redacted');
    }
    return u.toString();
  } catch {
    return '[invalid url]';
  }
}
