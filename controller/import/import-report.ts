import { z } from 'zod';

/** What an inventory import (dry run or real) reports, row by row. The HTTP response schema too. */

export const rowErrorSchema = z.object({
  /** The lamp field at fault: `nominalPowerW`, `lat`, or a GeoJSON path such as `properties.zone`. */
  field: z.string(),
  /** The CSV column it was read from. */
  column: z.string().optional(),
  message: z.string(),
});
export type RowError = z.infer<typeof rowErrorSchema>;

export const importActionSchema = z.enum(['create', 'update', 'unchanged', 'refuse']);
export type ImportAction = z.infer<typeof importActionSchema>;

export const importRowReportSchema = z.object({
  /** CSV: the line of the file (the header is line 1). GeoJSON: the index in `features`. */
  row: z.number().int().nonnegative(),
  id: z.string().nullable(),
  action: importActionSchema,
  /** For `update`: the fields that would change. */
  changes: z.array(z.string()).optional(),
  /** For `refuse`: every problem found in the row. */
  errors: z.array(rowErrorSchema).optional(),
});
export type ImportRowReport = z.infer<typeof importRowReportSchema>;

export const importSummarySchema = z.object({
  rows: z.number().int().nonnegative(),
  create: z.number().int().nonnegative(),
  update: z.number().int().nonnegative(),
  unchanged: z.number().int().nonnegative(),
  refuse: z.number().int().nonnegative(),
});

export const inventoryImportReportSchema = z.object({
  format: z.enum(['csv', 'geojson']),
  dryRun: z.boolean(),
  /** True only when the lamps were written: a real run with no refused row. */
  applied: z.boolean(),
  /** CSV: how positions were read. */
  coordinates: z.enum(['wgs84', 'lambert93']).optional(),
  /** CSV: lamp field → the column it was read from. */
  mapping: z.record(z.string(), z.string()).optional(),
  summary: importSummarySchema,
  /** Every row that would be created, updated or refused, in file order (unchanged rows are only counted). */
  rows: z.array(importRowReportSchema),
});
export type InventoryImportReport = z.infer<typeof inventoryImportReportSchema>;
