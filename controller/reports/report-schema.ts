import { z } from 'zod';
import { tsSchema } from '../../protocol/index.js';
import { periodKindSchema } from './periods.js';
import { reportSettingsSchema } from './settings.js';

/** The energy report as the API serves it; every type of controller/reports/ comes from here. */

const isoDate = z.iso.date();

export const GROUP_BYS = ['zone', 'cabinet'] as const;
export const groupBySchema = z.enum(GROUP_BYS);
export type GroupBy = z.infer<typeof groupBySchema>;

export const reportQuerySchema = z.object({
  period: periodKindSchema.default('month'),
  /** A night inside the first period (YYYY-MM-DD); default: the newest night begun. */
  from: isoDate.optional(),
  /** A night inside the last period; default: `from`'s period only. */
  to: isoDate.optional(),
  groupBy: groupBySchema.default('zone'),
});
export type ReportQuery = z.infer<typeof reportQuerySchema>;

/** Savings against one baseline. Null where nothing was measured (or, for €, no tariff covers the nights). */
export const savingSchema = z.object({
  kWh: z.number().nullable(),
  /** % of the baseline. */
  pct: z.number().nullable(),
  eur: z.number().nullable(),
  /** Tonnes of CO2 equivalent. */
  tCo2e: z.number().nullable(),
});
export type Saving = z.infer<typeof savingSchema>;

export const figuresSchema = z.object({
  /** Measured by the lamps' counters; null: no sample at all. */
  energyKWh: z.number().nullable(),
  costEur: z.number().nullable(),
  /** The same lamps at 100 % from dusk to dawn. */
  fullPowerKWh: z.number(),
  /** The lamps before renovation (`baselinePowerW`, else their nominal power) at 100 % from dusk to dawn. */
  beforeRenovationKWh: z.number(),
  savedVsFullPower: savingSchema,
  savedVsBeforeRenovation: savingSchema,
  /** Part of `energyKWh` read when the counters resumed after an interruption (counted, not spread). */
  gapKWh: z.number(),
  /** Lamp-hours lit (level > 0). */
  burningHours: z.number(),
  /** Average level while lit, %. */
  averageLevelPct: z.number().nullable(),
  /** Share of the expected samples received during the night's whole dark hours, 0..1; null: none expected. */
  completeness: z.number().nullable(),
});
export type Figures = z.infer<typeof figuresSchema>;

export const nightFiguresSchema = figuresSchema.extend({
  date: isoDate,
  dusk: tsSchema,
  dawn: tsSchema,
  inProgress: z.boolean(),
  tariffEurPerKWh: z.number().nullable(),
});
export type NightFigures = z.infer<typeof nightFiguresSchema>;

export const groupFiguresSchema = figuresSchema.extend({
  /** Zone name, cabinet id or lamp id; `UNLISTED_GROUP` for lamps the inventory does not list. */
  key: z.string(),
  label: z.string(),
  /** Lamps of the inventory in the group. */
  lamps: z.number().int().nonnegative(),
});
export type GroupFigures = z.infer<typeof groupFiguresSchema>;

export const energyReportSchema = z.object({
  town: z.object({ name: z.string(), timezone: z.string() }),
  period: z.object({
    kind: periodKindSchema,
    from: isoDate,
    to: isoDate,
    nights: z.number().int().nonnegative(),
    /** Nights with at least one sample: the baselines and savings cover these. */
    nightsMeasured: z.number().int().nonnegative(),
  }),
  generatedAt: tsSchema,
  lamps: z.number().int().nonnegative(),
  /** Lamps without `baselinePowerW`: in the before-renovation baseline at their nominal power. */
  lampsWithoutBaseline: z.number().int().nonnegative(),
  settings: reportSettingsSchema,
  headline: figuresSchema,
  nights: z.array(nightFiguresSchema),
  groupBy: groupBySchema,
  groups: z.array(groupFiguresSchema),
  /** The same nights a year before, when there is data. */
  yearBefore: z
    .object({ from: isoDate, to: isoDate, nightsMeasured: z.number().int().nonnegative(), headline: figuresSchema })
    .nullable(),
  /** Things a reader must know (gaps, missing tariffs, incomplete data), in French. */
  notes: z.array(z.string()),
  /** How the figures are computed, one paragraph, in French. */
  method: z.string(),
});
export type EnergyReport = z.infer<typeof energyReportSchema>;
