import { z } from 'zod';
import { idSchema, levelSchema, tsSchema } from './ids.js';

/**
 * The zod schemas of every message of PROTOCOL.md, version 1.
 * z.object strips unknown keys: receivers ignore unknown fields, as the contract requires.
 */

const v1 = z.literal(1);

// ---------- uplink ----------

export const agentModeSchema = z.enum(['policy', 'failsafe', 'override']);

export const policyRefSchema = z.object({ id: idSchema, version: z.number().int().nonnegative() });

/** `status` (retained). The Last Will is just `{"v":1,"online":false}`, hence the optional fields. */
export const statusSchema = z.object({
  v: v1,
  ts: tsSchema.optional(),
  online: z.boolean(),
  agent: z.string().max(128).optional(),
  mode: agentModeSchema.optional(),
  policy: policyRefSchema.nullable().optional(),
  lamps: z.number().int().nonnegative().optional(),
  buffered: z.number().int().nonnegative().optional(),
});

export const faultCodeSchema = z.enum([
  'lamp_failure',
  'driver_failure',
  'overheat',
  'low_voltage',
  'comm_failure',
]);

export const lampReadingSchema = z.object({
  id: idSchema,
  level: levelSchema,
  powerW: z.number().nonnegative().max(100_000),
  energyWh: z.number().nonnegative(),
  fault: faultCodeSchema.nullable(),
});

export const cabinetMeterSchema = z.object({
  voltageV: z.number().nonnegative().max(1000).optional(),
  powerW: z.number().nonnegative().optional(),
  energyWh: z.number().nonnegative().optional(),
});

export const telemetrySchema = z.object({
  v: v1,
  seq: z.number().int().nonnegative(),
  ts: tsSchema,
  periodS: z.number().int().positive().max(86_400).default(60),
  cabinet: cabinetMeterSchema.optional(),
  lamps: z.array(lampReadingSchema).max(2000),
});

export const presenceKindSchema = z.enum(['pedestrian', 'cyclist', 'vehicle', 'unknown']);

export const presenceSchema = z.object({
  v: v1,
  ts: tsSchema,
  sensorId: idSchema,
  lampId: idSchema,
  kind: presenceKindSchema,
  count: z.number().int().positive().max(10_000),
});

export const eventCodeSchema = z.enum([
  'door_open',
  'door_closed',
  'power_cut',
  'power_restored',
  'reboot',
  'clock_unsynced',
  'policy_rejected',
  'buffer_overflow',
]);

export const eventSchema = z.object({
  v: v1,
  ts: tsSchema,
  code: eventCodeSchema,
  lampId: idSchema.nullable().optional(),
  detail: z.string().max(1024).optional(),
});

export const ackSchema = z.object({
  v: v1,
  ts: tsSchema,
  /** `policy:{id}@{version}` or `command:{id}`. */
  ref: z.string().regex(/^(policy:[A-Za-z0-9_.-]{1,64}@\d+|command:[A-Za-z0-9_.-]{1,64})$/),
  ok: z.boolean(),
  error: z.string().max(1024).optional(),
});

// ---------- downlink ----------

/** `HH:MM`, or `dusk`/`dawn` optionally shifted by whole minutes: `dusk+15`, `dawn-10`. */
export const TIME_EXPR_PATTERN = /^(?:(?:[01]\d|2[0-3]):[0-5]\d|(?:dusk|dawn)(?:[+-]\d{1,3})?)$/;

export const timeExprSchema = z
  .string()
  .regex(TIME_EXPR_PATTERN, { message: 'must be HH:MM, dusk, dawn, dusk±N or dawn±N' });

export const slotSchema = z.object({ from: timeExprSchema, to: timeExprSchema, level: levelSchema });

export const presenceSettingsSchema = z.object({
  level: levelSchema,
  holdS: z.number().int().nonnegative().max(86_400),
  rampUpMs: z.number().int().nonnegative().max(600_000),
  rampDownS: z.number().int().nonnegative().max(86_400),
  propagate: z.number().int().nonnegative().max(20),
});

export const profileSchema = z.object({
  schedule: z.array(slotSchema).max(48),
  presence: presenceSettingsSchema.optional(),
});

const isTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

export const siteSchema = z.object({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  timezone: z.string().refine(isTimeZone, { message: 'unknown IANA time zone' }),
});

export const policyLampSchema = z.object({
  profile: idSchema,
  neighbours: z.array(idSchema).max(64).optional(),
});

export const policySchema = z
  .object({
    v: v1,
    id: idSchema,
    version: z.number().int().nonnegative(),
    issuedAt: tsSchema,
    site: siteSchema,
    failsafeLevel: levelSchema,
    profiles: z.record(idSchema, profileSchema),
    lamps: z.record(idSchema, policyLampSchema),
  })
  .superRefine((p, ctx) => {
    for (const [lampId, lamp] of Object.entries(p.lamps)) {
      if (!Object.hasOwn(p.profiles, lamp.profile)) {
        ctx.addIssue({
          code: 'custom',
          path: ['lamps', lampId, 'profile'],
          message: `unknown profile "${lamp.profile}"`,
        });
      }
    }
  });

const commandBase = {
  v: v1,
  id: idSchema,
  ts: tsSchema,
  expiresAt: tsSchema,
};

export const lampSelectionSchema = z.union([z.literal('all'), z.array(idSchema).min(1).max(2000)]);

export const overrideCommandSchema = z.object({
  ...commandBase,
  kind: z.literal('override'),
  lamps: lampSelectionSchema,
  level: levelSchema,
  durationS: z.number().int().positive().max(31 * 86_400),
});

export const clearOverrideCommandSchema = z.object({
  ...commandBase,
  kind: z.literal('clear-override'),
  lamps: lampSelectionSchema.default('all'),
});

export const presenceCommandSchema = z.object({
  ...commandBase,
  kind: z.literal('presence'),
  lampId: idSchema,
  count: z.number().int().positive().max(10_000),
  /**
   * Additive to PROTOCOL.md: how many hops of propagation are left when the detection enters
   * this cabinet. Absent: the lamp's profile `propagate`, as for a local detection.
   */
  hops: z.number().int().nonnegative().max(20).optional(),
});

export const commandSchema = z.discriminatedUnion('kind', [
  overrideCommandSchema,
  clearOverrideCommandSchema,
  presenceCommandSchema,
]);

const seqRangeSchema = z
  .tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])
  .refine(([a, b]) => a <= b, { message: 'range start must not exceed its end' });

export const receiptSchema = z.object({
  v: v1,
  ts: tsSchema,
  seqs: z.array(seqRangeSchema).max(10_000),
});

// ---------- alerts for integrations ----------

export const alertSeveritySchema = z.enum(['critical', 'major', 'minor']);
export const alertStateSchema = z.enum(['open', 'acknowledged', 'resolved']);

/** `luciole/v1/alerts/{alertId}`: retained while open; an empty retained payload once resolved. */
export const alertMessageSchema = z.object({
  v: v1,
  id: idSchema,
  kind: z.string().regex(/^[a-z_]{1,64}$/),
  severity: alertSeveritySchema,
  state: alertStateSchema,
  cabinetId: idSchema,
  lampId: idSchema.nullable(),
  openedAt: tsSchema,
  lastSeen: tsSchema,
  count: z.number().int().positive(),
  detail: z.string().max(1024).optional(),
});

// ---------- types ----------

export type Status = z.infer<typeof statusSchema>;
export type AgentMode = z.infer<typeof agentModeSchema>;
export type PolicyRef = z.infer<typeof policyRefSchema>;
export type FaultCode = z.infer<typeof faultCodeSchema>;
export type LampReading = z.infer<typeof lampReadingSchema>;
export type CabinetMeter = z.infer<typeof cabinetMeterSchema>;
export type Telemetry = z.infer<typeof telemetrySchema>;
export type PresenceKind = z.infer<typeof presenceKindSchema>;
export type Presence = z.infer<typeof presenceSchema>;
export type EventCode = z.infer<typeof eventCodeSchema>;
export type GatewayEvent = z.infer<typeof eventSchema>;
export type Ack = z.infer<typeof ackSchema>;
export type TimeExpr = z.infer<typeof timeExprSchema>;
export type Slot = z.infer<typeof slotSchema>;
export type PresenceSettings = z.infer<typeof presenceSettingsSchema>;
export type Profile = z.infer<typeof profileSchema>;
export type Site = z.infer<typeof siteSchema>;
export type Policy = z.infer<typeof policySchema>;
export type LampSelection = z.infer<typeof lampSelectionSchema>;
export type OverrideCommand = z.infer<typeof overrideCommandSchema>;
export type ClearOverrideCommand = z.infer<typeof clearOverrideCommandSchema>;
export type PresenceCommand = z.infer<typeof presenceCommandSchema>;
export type Command = z.infer<typeof commandSchema>;
export type Receipt = z.infer<typeof receiptSchema>;
export type AlertMessage = z.infer<typeof alertMessageSchema>;
