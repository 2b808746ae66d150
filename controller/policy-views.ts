import { z } from 'zod';
import { idSchema, policyRefSchema, tsSchema } from '../protocol/index.js';
import { planDiffSchema } from './plan-diff.js';
import { planVersionSchema } from './plan.js';

/** What the controller shows of policies (HTTP API): compliance, versions, what-if, rollout. */

/** policy/compliance.ts `ComplianceFinding`, as the API sends it. */
export const complianceFindingSchema = z.object({
  severity: z.enum(['error', 'warning']),
  /** The rule's stable id (policy/compliance-rules.ts). */
  rule: z.string(),
  zone: z.string(),
  profile: z.string(),
  /** French, for technical services. */
  message: z.string(),
  /** Path of the value to change: `profiles.parc.schedule[1].to`, `zones.P1.activityEnd`. */
  field: z.string(),
  nights: z.number().int().optional(),
  firstNight: z.string().optional(),
});
export type ComplianceFindingView = z.infer<typeof complianceFindingSchema>;

export const complianceReportSchema = z.object({
  ok: z.boolean(),
  errors: z.number().int().nonnegative(),
  warnings: z.number().int().nonnegative(),
  findings: z.array(complianceFindingSchema),
});
export type ComplianceReport = z.infer<typeof complianceReportSchema>;

/** A saved (and published) version, with its warnings and what changed from the previous one. */
export const planSaveResultSchema = planVersionSchema.extend({
  findings: z.array(complianceFindingSchema),
  diff: planDiffSchema,
  /** Cabinets the version was published to (null: not known to this controller). */
  cabinets: z.number().int().nonnegative().nullable(),
});
export type PlanSaveResult = z.infer<typeof planSaveResultSchema>;

/** A version in the history: the version itself, and a summary of what it changed. */
export const planVersionSummarySchema = planVersionSchema.extend({
  /** Against the version before it (everything added for the first). */
  diff: planDiffSchema.pick({ added: true, removed: true, changed: true, summary: true }),
  /** The version in force. */
  current: z.boolean(),
});
export type PlanVersionSummary = z.infer<typeof planVersionSummarySchema>;

export const planVersionDetailSchema = planVersionSchema.extend({
  /** Against the version before it (everything added for the first). */
  diff: planDiffSchema,
  previous: z.number().int().positive().nullable(),
});
export type PlanVersionDetail = z.infer<typeof planVersionDetailSchema>;

const nightPolicyResultSchema = z.object({
  energyKWh: z.number(),
  fullPowerKWh: z.number(),
  detectionsBoosted: z.number().int().nonnegative(),
  /** Share of the night's detections that got the boost, 0..1; null without detections. */
  boostedShare: z.number().nullable(),
});

export const whatIfResultSchema = z.object({
  timezone: z.string(),
  lamps: z.number().int().nonnegative(),
  /** `recorded`: detections replayed from the telemetry store; `unavailable`: the store cannot list them. */
  presence: z.enum(['recorded', 'unavailable']),
  /** The plan in force compared against; null with none published. */
  current: policyRefSchema.nullable(),
  nights: z.array(
    z.object({
      /** Local date of the night's dusk. */
      date: z.string(),
      dusk: tsSchema,
      dawn: tsSchema,
      detections: z.number().int().nonnegative(),
      draft: nightPolicyResultSchema,
      current: nightPolicyResultSchema.nullable(),
    }),
  ),
  totals: z.object({ draft: nightPolicyResultSchema, current: nightPolicyResultSchema.nullable() }),
});
export type WhatIfResult = z.infer<typeof whatIfResultSchema>;
export type NightPolicyResult = z.infer<typeof nightPolicyResultSchema>;

export const rolloutSchema = z.object({
  /** The current plan version; null before the first. */
  plan: policyRefSchema.nullable(),
  cabinets: z.array(
    z.object({
      cabinetId: idSchema,
      online: z.boolean(),
      published: policyRefSchema.nullable(),
      acked: policyRefSchema.nullable(),
      /** The gateway acked the current version. */
      upToDate: z.boolean(),
    }),
  ),
  total: z.number().int().nonnegative(),
  acked: z.number().int().nonnegative(),
  /** Every cabinet acked the current version. */
  complete: z.boolean(),
});
export type Rollout = z.infer<typeof rolloutSchema>;
