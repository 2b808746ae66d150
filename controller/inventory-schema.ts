import { z } from 'zod';
import { idSchema } from '../protocol/index.js';

/**
 * The operator contract's inventory: a GeoJSON FeatureCollection of Point features whose
 * properties are `id`, `cabinetId`, `zone`, `nominalPowerW`, optional `baselinePowerW`
 * (the power before renovation, e.g. the old sodium lamp) and optional `neighbours`
 * (explicit lamp ids; when absent, neighbours are derived from positions).
 */
export const lampPropertiesSchema = z.object({
  id: idSchema,
  cabinetId: idSchema,
  zone: idSchema,
  nominalPowerW: z.number().positive().max(10_000),
  baselinePowerW: z.number().positive().max(10_000).nullable().optional(),
  neighbours: z.array(idSchema).max(64).optional(),
});

export const pointSchema = z.object({
  type: z.literal('Point'),
  // [longitude, latitude] in WGS84, GeoJSON order.
  coordinates: z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]).rest(z.number()),
});

export const lampFeatureSchema = z.object({
  type: z.literal('Feature'),
  geometry: pointSchema,
  properties: lampPropertiesSchema,
});

export const inventorySchema = z.object({
  type: z.literal('FeatureCollection'),
  features: z.array(z.unknown()).max(1_000_000),
});

export type LampProperties = z.infer<typeof lampPropertiesSchema>;
export type LampFeature = z.infer<typeof lampFeatureSchema>;

/** A lamp as the controller holds it. */
export const lampRecordSchema = z.object({
  id: idSchema,
  cabinetId: idSchema,
  zone: idSchema,
  lat: z.number(),
  lon: z.number(),
  nominalPowerW: z.number(),
  baselinePowerW: z.number().nullable(),
  neighbours: z.array(idSchema),
});
export type LampRecord = z.infer<typeof lampRecordSchema>;
