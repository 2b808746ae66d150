import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { firstIssue, idSchema, levelSchema, siteSchema } from '../protocol/index.js';
import { LucioleError } from '../core/errors.js';

export const edgeLampConfigSchema = z.object({
  id: idSchema,
  nominalPowerW: z.number().positive().max(10_000),
  /** A presence sensor mounted at this lamp. */
  sensorId: idSchema.optional(),
});

export const edgeConfigSchema = z
  .object({
    cabinetId: idSchema,
    brokerUrl: z.string().regex(/^(mqtts?|wss?|tcp|ssl|tls):\/\/.+/, {
      message: 'must be an mqtt://, mqtts://, tcp://, tls://, ws:// or wss:// URL',
    }),
    /** Defaults to cabinetId, as PROTOCOL.md requires. */
    username: idSchema.optional(),
    // Refuse to start without a secret: no anonymous gateway on the broker.
    password: z
      .string({ error: 'is required: the cabinet secret issued by the controller' })
      .min(1, { message: 'is required: the cabinet secret issued by the controller' }),
    dataDir: z.string().min(1),
    periodS: z.number().int().positive().max(86_400).default(60),
    tickMs: z.number().int().min(10).max(60_000).default(1000),
    /** Fail-safe dusk/dawn before any policy is known. */
    site: siteSchema,
    failsafeLevel: levelSchema.default(100),
    lamps: z.array(edgeLampConfigSchema).min(1).max(2000),
    sim: z
      .object({
        seed: z.number().int().optional(),
        /** Scales the simulated traffic; 0 means no detection at all. */
        traffic: z.number().nonnegative().max(1000).default(1),
      })
      .optional(),
    tls: z
      .object({
        ca: z.string().min(1).optional(),
        cert: z.string().min(1).optional(),
        key: z.string().min(1).optional(),
      })
      .optional(),
    outboxMaxBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .default(50 * 1024 * 1024),
    /** Telemetry replayed after a reconnect at most this many messages per second (real time). */
    replayRatePerS: z.number().int().min(1).max(10_000).default(50),
    /** Telemetry sent but still not receipted after this long is sent again (a controller restarted). */
    resendAfterS: z.number().int().min(1).max(86_400).default(30),
    /** Detections kept per sensor in each window; the excess is counted and dropped. */
    presenceLimit: z
      .object({
        max: z.number().int().min(1).max(1000).default(10),
        windowS: z.number().int().min(1).max(3600).default(10),
      })
      .default({ max: 10, windowS: 10 }),
    /** Events and acks waiting for the broker, at most (a guard against filling the disk). */
    uplinkQueueMax: z.number().int().min(100).max(1_000_000).default(20_000),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.lamps.forEach((l, i) => {
      if (seen.has(l.id)) ctx.addIssue({ code: 'custom', path: ['lamps', i, 'id'], message: `duplicate lamp id "${l.id}"` });
      seen.add(l.id);
    });
  })
  .transform((c) => ({ ...c, username: c.username ?? c.cabinetId }));

export type EdgeConfig = z.infer<typeof edgeConfigSchema>;
export type EdgeLampConfig = z.infer<typeof edgeLampConfigSchema>;

/** Validates an already-read config object; throws LUCIOLE_ERR_CONFIG_INVALID naming the field. */
export function parseEdgeConfig(raw: unknown, source = 'edge config'): EdgeConfig {
  const parsed = edgeConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const e = firstIssue(parsed.error);
    throw new LucioleError('LUCIOLE_ERR_CONFIG_INVALID', `${source}: ${e.message}`, e.field);
  }
  return parsed.data;
}

/**
 * Reads the JSON config file; LUCIOLE_BROKER_URL, LUCIOLE_CABINET_ID and LUCIOLE_EDGE_PASSWORD
 * override it (secrets belong in the environment, not in a file in a cabinet).
 * Relative dataDir and TLS paths are taken from the config file's folder.
 */
export function loadEdgeConfig(file: string, env: NodeJS.ProcessEnv = process.env): EdgeConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new LucioleError('LUCIOLE_ERR_CONFIG_INVALID', `cannot read ${file}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new LucioleError('LUCIOLE_ERR_CONFIG_INVALID', `${file}: not JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new LucioleError('LUCIOLE_ERR_CONFIG_INVALID', `${file}: must be a JSON object`);
  }
  const merged: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  if (env.LUCIOLE_BROKER_URL) merged.brokerUrl = env.LUCIOLE_BROKER_URL;
  if (env.LUCIOLE_CABINET_ID) merged.cabinetId = env.LUCIOLE_CABINET_ID;
  if (env.LUCIOLE_EDGE_PASSWORD) merged.password = env.LUCIOLE_EDGE_PASSWORD;
  const config = parseEdgeConfig(merged, file);
  const base = path.dirname(path.resolve(file));
  const at = (p: string): string => path.resolve(base, p);
  return {
    ...config,
    dataDir: at(config.dataDir),
    ...(config.tls
      ? {
          tls: {
            ...(config.tls.ca ? { ca: at(config.tls.ca) } : {}),
            ...(config.tls.cert ? { cert: at(config.tls.cert) } : {}),
            ...(config.tls.key ? { key: at(config.tls.key) } : {}),
          },
        }
      : {}),
  };
}
