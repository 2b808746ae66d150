import { z } from 'zod';

/**
 * What money and carbon the energy figures are worth: electricity tariffs with their dates
 * (contracts change) and the emission factor. Pure: validation and lookup only.
 */

const isoDate = z.iso.date();

export const tariffSchema = z
  .object({
    /** First night the tariff applies to (local date of its dusk), YYYY-MM-DD. */
    from: isoDate,
    /** Last night it applies to, inclusive; null: still in force. */
    to: isoDate.nullable(),
    /** Price of a kWh consumed, all taxes the town pays included, €. */
    eurPerKWh: z.number().positive().max(10),
    /** The contract, for people ("TRV C5 2025", "marché UGAP lot 2"). */
    label: z.string().trim().max(200).optional(),
  })
  .refine((t) => t.to === null || t.to >= t.from, { message: 'to must not be before from', path: ['to'] });
export type Tariff = z.infer<typeof tariffSchema>;

/** Official factor for electricity consumed in mainland France (ADEME Base Empreinte, 2023), kgCO2e/kWh. */
export const DEFAULT_EMISSION_FACTOR = 0.053;

export const reportSettingsSchema = z
  .object({
    tariffs: z.array(tariffSchema).max(200),
    emissionFactorKgPerKWh: z.number().nonnegative().max(2),
  })
  .superRefine((s, ctx) => {
    const sorted = s.tariffs.map((t, i) => ({ t, i })).sort((a, b) => (a.t.from < b.t.from ? -1 : a.t.from > b.t.from ? 1 : 0));
    for (let k = 1; k < sorted.length; k++) {
      const prev = sorted[k - 1]!.t;
      if (prev.to === null || prev.to >= sorted[k]!.t.from) {
        ctx.addIssue({
          code: 'custom',
          message: `tariff starting ${sorted[k]!.t.from} overlaps the one starting ${prev.from}`,
          path: ['tariffs', sorted[k]!.i, 'from'],
        });
      }
    }
  });
export type ReportSettings = z.infer<typeof reportSettingsSchema>;

export const DEFAULT_REPORT_SETTINGS: ReportSettings = { tariffs: [], emissionFactorKgPerKWh: DEFAULT_EMISSION_FACTOR };

/** The tariff in force on the night of `date` (YYYY-MM-DD), or null. Tariffs do not overlap (schema). */
export function tariffOn(tariffs: readonly Tariff[], date: string): Tariff | null {
  for (const t of tariffs) if (t.from <= date && (t.to === null || date <= t.to)) return t;
  return null;
}
