import { z } from 'zod';
import { idSchema, siteSchema, tsSchema } from '../protocol/index.js';

/** Schemas of the HTTP API's own shapes; the controller's views come from controller/views.ts. */

export const errorBodySchema = z.object({
  /** Stable LUCIOLE_ERR_* code. */
  code: z.string(),
  message: z.string(),
  /** Dotted path of the offending field, when one is to blame. */
  field: z.string().optional(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

export const healthSchema = z.object({
  status: z.literal('ok'),
  /** Controller clock (simulated time in the demo), ms since the epoch. */
  time: tsSchema,
  version: z.string(),
});

export const townSchema = z.object({ name: z.string(), site: siteSchema });

export const cabinetParamsSchema = z.object({ id: idSchema });

export const energyQuerySchema = z.object({
  nights: z.coerce.number().int().min(1).max(62).default(7),
});

export const credentialsSchema = z.object({ username: z.string(), password: z.string() });

/** The OpenAPI document: only its outline is checked, the rest passes through. */
export const openApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});
