import { z } from 'zod';
import { idSchema } from '../protocol/index.js';

/**
 * Per-installation data the arrêté du 27 décembre 2018 (art. 5) asks a town to hold, plus the
 * lamp technology. All optional: inventories rarely carry them at first. On import, a field left
 * out keeps the stored value and `null` clears it, so a re-import never erases what was typed in.
 */
export const lampDetailsShape = {
  /** Lamp technology as the town names it: LED, SHP (high-pressure sodium), IM (metal halide)... */
  lampType: z
    .string()
    .trim()
    .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._/()+-]{0,63}$/u, 'letters, digits, space . _ / ( ) + - (starting with a letter or digit), at most 64')
    .nullable()
    .optional(),
  /** Share of the luminaire's flux emitted above the horizontal (ULR), %. */
  upwardLightRatioPct: z.number().min(0).max(100).nullable().optional(),
  /** CIE flux code n°3: share of the lower-hemisphere flux within 75.5° of the vertical, %. */
  cieFluxCode3Pct: z.number().min(0).max(100).nullable().optional(),
  /** Correlated colour temperature, K. */
  colourTemperatureK: z.number().min(1000).max(10_000).nullable().optional(),
  /** Maximum power of the installation, W. */
  maxPowerW: z.number().positive().max(10_000).nullable().optional(),
  /** Nominal luminous flux of the luminaire, lm. */
  nominalFluxLm: z.number().positive().max(1_000_000).nullable().optional(),
  /** Installation date, YYYY-MM-DD. */
  installedOn: z.iso.date().nullable().optional(),
};
export const lampDetailsSchema = z.object(lampDetailsShape);
export type LampDetails = z.infer<typeof lampDetailsSchema>;
export const LAMP_DETAIL_FIELDS = Object.keys(lampDetailsShape) as Array<keyof LampDetails>;

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
  ...lampDetailsShape,
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
  ...lampDetailsShape,
});
export type LampRecord = z.infer<typeof lampRecordSchema>;
