import { z } from 'zod';
import {
  agentModeSchema,
  alertSeveritySchema,
  alertStateSchema,
  faultCodeSchema,
  idSchema,
  policyRefSchema,
  presenceKindSchema,
  siteSchema,
  tsSchema,
} from '../protocol/index.js';

/** What the controller shows the outside world (HTTP API, SSE). The dashboard's response schemas. */

export const cabinetViewSchema = z.object({
  id: idSchema,
  online: z.boolean(),
  /** Last message of any kind from this cabinet, controller clock. */
  lastSeen: tsSchema.nullable(),
  mode: agentModeSchema.nullable(),
  agent: z.string().nullable(),
  /** Policy the gateway says it applies (its status). */
  policy: policyRefSchema.nullable(),
  /** Latest policy version published for this cabinet, and the latest the gateway acked. */
  policyPublished: policyRefSchema.nullable(),
  policyAcked: policyRefSchema.nullable(),
  lamps: z.number().int().nonnegative(),
  buffered: z.number().int().nonnegative().nullable(),
  lat: z.number().nullable(),
  lon: z.number().nullable(),
});
export type CabinetView = z.infer<typeof cabinetViewSchema>;

export const lampViewSchema = z.object({
  id: idSchema,
  cabinetId: idSchema,
  zone: idSchema,
  lat: z.number(),
  lon: z.number(),
  nominalPowerW: z.number(),
  baselinePowerW: z.number().nullable(),
  level: z.number().nullable(),
  powerW: z.number().nullable(),
  fault: faultCodeSchema.nullable(),
  lastTs: tsSchema.nullable(),
});
export type LampView = z.infer<typeof lampViewSchema>;

export const nightEnergySchema = z.object({
  /** Local date of the night's dusk, YYYY-MM-DD in the town's time zone. */
  date: z.string(),
  dusk: tsSchema,
  dawn: tsSchema,
  /** Energy measured from the lamps' cumulative counters, Wh. */
  energyWh: z.number(),
  /** Same lamps at 100 % from dusk to dawn (up to now for tonight), Wh. */
  fullPowerWh: z.number(),
  savedWh: z.number(),
  savedPct: z.number().nullable(),
  /** Share of expected lamp samples received, 0..1. */
  completeness: z.number(),
  inProgress: z.boolean(),
});
export type NightEnergy = z.infer<typeof nightEnergySchema>;

export const energySummarySchema = z.object({
  timezone: z.string(),
  site: siteSchema,
  lamps: z.number().int().nonnegative(),
  nights: z.array(nightEnergySchema),
});
export type EnergySummary = z.infer<typeof energySummarySchema>;

/** What a crew needs to trust an alert: which rule, what was expected, what was measured, when. */
export const alertEvidenceSchema = z.object({
  rule: z.string().max(256),
  expected: z.string().max(256),
  measured: z.string().max(256),
  window: z.object({ from: tsSchema, to: tsSchema }),
  /** The lamp's history around the window (`/api/lamps/{id}/history?from=&to=`); null for a cabinet. */
  link: z.string().max(512).nullable(),
});
export type AlertEvidence = z.infer<typeof alertEvidenceSchema>;

export const alertHistoryEntrySchema = z.object({
  at: tsSchema,
  action: z.enum(['opened', 'acknowledged', 'resolved', 'reopened', 'escalated', 'folded']),
  /** Who: an operator, or `system` for automatic transitions. */
  by: z.string().max(128),
  note: z.string().max(1024).nullable(),
});
export type AlertHistoryEntry = z.infer<typeof alertHistoryEntrySchema>;

export const alertViewSchema = z.object({
  id: idSchema,
  kind: z.string(),
  severity: alertSeveritySchema,
  state: alertStateSchema,
  cabinetId: idSchema,
  lampId: idSchema.nullable(),
  openedAt: tsSchema,
  lastSeen: tsSchema,
  resolvedAt: tsSchema.nullable(),
  count: z.number().int().positive(),
  detail: z.string(),
  // Additive (issue 4): all optional, so alerts saved before them still parse.
  /** The alert's subject when it is neither the lamp nor the cabinet (a presence sensor id). */
  subject: z.string().max(64).optional(),
  evidence: alertEvidenceSchema.nullable().optional(),
  acknowledgedAt: tsSchema.nullable().optional(),
  acknowledgedBy: z.string().max(128).nullable().optional(),
  resolvedBy: z.string().max(128).nullable().optional(),
  note: z.string().max(1024).nullable().optional(),
  /** The cabinet outage alert this one was folded under. */
  parentId: idSchema.nullable().optional(),
  /** Findings of the cabinet folded under this outage alert instead of opening their own (lampId null: the cabinet's). */
  folded: z
    .array(z.object({ kind: z.string(), lampId: idSchema.nullable(), at: tsSchema }))
    .max(5000)
    .optional(),
  history: z.array(alertHistoryEntrySchema).max(200).optional(),
});
export type AlertView = z.infer<typeof alertViewSchema>;

/** What GET /api/alerts may filter on; every criterion optional, all of them must hold. */
export const alertFilterSchema = z.object({
  /** `active`: open or acknowledged (what a crew still has to do). */
  state: z.enum(['open', 'acknowledged', 'resolved', 'active']).optional(),
  kind: z.string().min(1).max(64).optional(),
  /** The lamp's zone; a cabinet alert matches the zones of the cabinet's lamps. */
  zone: idSchema.optional(),
  severity: alertSeveritySchema.optional(),
  /** Alerts opened at or after this instant (ms since the epoch): the board's age filter. */
  since: tsSchema.optional(),
  /** At most this many, newest opened first. */
  limit: z.number().int().positive().max(10_000).optional(),
});
export type AlertFilter = z.infer<typeof alertFilterSchema>;

/** A lamp's readings over a window (the evidence link of an alert), averaged into buckets when there are many. */
export const lampHistoryViewSchema = z.object({
  lampId: idSchema,
  from: tsSchema,
  to: tsSchema,
  /** Width of the buckets readings were averaged into, ms; null: raw readings. */
  bucketMs: z.number().int().positive().nullable(),
  samples: z.array(
    z.object({
      ts: tsSchema,
      level: z.number(),
      powerW: z.number(),
      /** A driver fault code reported in the bucket, if any. */
      fault: faultCodeSchema.nullable(),
    }),
  ),
});
export type LampHistoryView = z.infer<typeof lampHistoryViewSchema>;

export const lampLiveSchema = z.object({
  id: idSchema,
  level: z.number(),
  powerW: z.number(),
  fault: faultCodeSchema.nullable(),
});

/** Server-sent events of the live stream. */
export const liveEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('lamps'), cabinetId: idSchema, ts: tsSchema, lamps: z.array(lampLiveSchema) }),
  z.object({ type: z.literal('cabinet'), cabinet: cabinetViewSchema }),
  z.object({
    type: z.literal('presence'),
    cabinetId: idSchema,
    lampId: idSchema,
    kind: presenceKindSchema,
    ts: tsSchema,
  }),
  z.object({ type: z.literal('alert'), alert: alertViewSchema }),
]);
export type LiveEvent = z.infer<typeof liveEventSchema>;

export const ingestStatsSchema = z.object({
  messagesIn: z.record(z.string(), z.number()),
  invalid: z.record(z.string(), z.number()),
  duplicates: z.number(),
  samplesStored: z.number(),
  receiptsSent: z.number(),
  pendingWrites: z.number(),
  /**
   * Telemetry points accepted but not yet in the database (InfluxDB: on their way or spilled to
   * disk while it is away; 0 for SQLite). Optional only so older ControllerApi implementations still fit.
   */
  storageQueue: z.number().int().nonnegative().optional(),
});
export type IngestStats = z.infer<typeof ingestStatsSchema>;
