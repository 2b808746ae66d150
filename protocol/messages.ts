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

const hopsSchema = z.number().int().nonnegative().max(20);

export const presenceSettingsSchema = z.object({
  level: levelSchema,
  holdS: z.number().int().nonnegative().max(86_400),
  rampUpMs: z.number().int().nonnegative().max(600_000),
  rampDownS: z.number().int().nonnegative().max(86_400),
  propagate: hopsSchema,
  /**
   * Additive: hops by kind of road user, so a car lights further ahead than a pedestrian.
   * A kind not listed, or a detection of no known kind, uses `propagate`.
   */
  propagateByKind: z
    .object({
      pedestrian: hopsSchema.optional(),
      cyclist: hopsSchema.optional(),
      vehicle: hopsSchema.optional(),
      unknown: hopsSchema.optional(),
    })
    .optional(),
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

// ---------- calendar (additive): another profile on some nights ----------

/** A day of a calendar rule: `YYYY-MM-DD` (that date only) or `--MM-DD` (every year). */
export const CALENDAR_DATE_PATTERN = /^(\d{4}|-)-(\d{2})-(\d{2})$/;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isCalendarDate(s: string): boolean {
  const m = CALENDAR_DATE_PATTERN.exec(s);
  if (!m) return false;
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]!) return false;
  if (m[1] === '-' || month !== 2 || day !== 29) return true;
  const y = Number(m[1]);
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

export const calendarDateSchema = z
  .string()
  .refine(isCalendarDate, { message: 'must be a real date, YYYY-MM-DD or --MM-DD' });

/** Public holiday sets a gateway computes by itself: France, or France plus Alsace-Moselle's two. */
export const holidayRegionSchema = z.enum(['FR', 'FR-57', 'FR-67', 'FR-68']);

const WHEN_KINDS = ['weekdays', 'dates', 'from', 'holidays'] as const;

/** Exactly one kind of condition: weekdays, dates, a from/to range, or public holidays. */
export const calendarWhenSchema = z
  .object({
    /** ISO weekdays, 1 = Monday … 7 = Sunday. */
    weekdays: z.array(z.number().int().min(1).max(7)).min(1).max(7).optional(),
    dates: z.array(calendarDateSchema).min(1).max(366).optional(),
    /** Inclusive range; both ends of the same form. `--MM-DD` ranges may wrap the year end. */
    from: calendarDateSchema.optional(),
    to: calendarDateSchema.optional(),
    holidays: holidayRegionSchema.optional(),
  })
  .superRefine((w, ctx) => {
    const kinds = WHEN_KINDS.filter((k) => w[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'must have exactly one of weekdays, dates, from/to, holidays',
      });
      return;
    }
    if ((w.from === undefined) !== (w.to === undefined)) {
      ctx.addIssue({ code: 'custom', path: [w.from === undefined ? 'from' : 'to'], message: 'from and to go together' });
      return;
    }
    if (w.from !== undefined && w.to !== undefined) {
      const recurring = w.from.startsWith('--');
      if (recurring !== w.to.startsWith('--')) {
        ctx.addIssue({ code: 'custom', path: ['to'], message: 'from and to must both be YYYY-MM-DD or both --MM-DD' });
      } else if (!recurring && w.from > w.to) {
        ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
      }
    }
  });

/**
 * A calendar rule: on the nights `when` matches, a lamp whose own profile is a key of
 * `profiles` follows the mapped profile instead. Rules are tried in order, per lamp.
 */
export const calendarRuleSchema = z.object({
  /** For people: "Fête nationale", "Marché de Noël". */
  name: z.string().max(128).optional(),
  when: calendarWhenSchema,
  profiles: z
    .record(idSchema, idSchema)
    .refine((m) => Object.keys(m).length > 0, { message: 'must map at least one profile' }),
});

export const calendarSchema = z.array(calendarRuleSchema).max(64);

/** Adds an issue for every calendar profile (mapped from or to) that `profiles` lacks. */
export function checkCalendarProfiles(
  calendar: readonly CalendarRule[] | undefined,
  profiles: Record<string, unknown>,
  ctx: { addIssue(issue: { code: 'custom'; path: PropertyKey[]; message: string }): void },
  path: PropertyKey[] = ['calendar'],
): void {
  for (const [i, rule] of (calendar ?? []).entries()) {
    for (const [from, to] of Object.entries(rule.profiles)) {
      if (!Object.hasOwn(profiles, from)) {
        ctx.addIssue({ code: 'custom', path: [...path, i, 'profiles', from], message: `unknown profile "${from}"` });
      }
      if (!Object.hasOwn(profiles, to)) {
        ctx.addIssue({ code: 'custom', path: [...path, i, 'profiles', from], message: `unknown profile "${to}"` });
      }
    }
  }
}

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
    /** Additive: other profiles on some nights, applied by the gateway itself. */
    calendar: calendarSchema.optional(),
  })
  .superRefine((p, ctx) => {
    checkCalendarProfiles(p.calendar, p.profiles, ctx);
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
  /**
   * Additive: the controller's sequence for this cabinet, strictly increasing across every
   * command it sends there; a gateway refuses one not above the last it accepted (replay).
   */
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  /** Additive: HMAC-SHA256 of commandSigningInput() under the cabinet's command key, 64 lowercase hex. */
  sig: z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be 64 lowercase hex characters' }).optional(),
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
  /**
   * Additive: the `kind` of the original detection (pedestrian, vehicle…), for the profile's
   * `propagateByKind` when `hops` is absent. Named apart from the command's own `kind`.
   */
  roadUser: presenceKindSchema.optional(),
});

export const commandSchema = z.discriminatedUnion('kind', [
  overrideCommandSchema,
  clearOverrideCommandSchema,
  presenceCommandSchema,
]);

/**
 * The label the command key is derived with: key = HMAC-SHA256(cabinet secret as UTF-8, label).
 * Both ends derive it from the MQTT secret, so signing needs no extra provisioning.
 */
export const COMMAND_KEY_LABEL = 'luciole-command-key-v1';

/** First element of the signed array: a signature made for anything else never verifies here. */
export const COMMAND_SIGNATURE_DOMAIN = 'luciole-command-v1';

/**
 * The exact text a command signature covers: a JSON array (no spaces) of the domain, the
 * cabinet it is addressed to, then every field the gateway acts on, absent ones as null. Taken
 * from the command as the schema parses it (clear-override's default `lamps` included), so
 * signer and verifier see the same values. No node: import: the browser UI loads this module.
 */
export function commandSigningInput(cabinetId: string, c: Command, seq: number): string {
  return JSON.stringify([
    COMMAND_SIGNATURE_DOMAIN,
    cabinetId,
    c.id,
    seq,
    c.ts,
    c.expiresAt,
    c.kind,
    c.kind === 'presence' ? null : c.lamps,
    c.kind === 'override' ? c.level : null,
    c.kind === 'override' ? c.durationS : null,
    c.kind === 'presence' ? c.lampId : null,
    c.kind === 'presence' ? c.count : null,
    c.kind === 'presence' ? (c.hops ?? null) : null,
    c.kind === 'presence' ? (c.roadUser ?? null) : null,
  ]);
}

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
export type CalendarDate = z.infer<typeof calendarDateSchema>;
export type HolidayRegion = z.infer<typeof holidayRegionSchema>;
export type CalendarWhen = z.infer<typeof calendarWhenSchema>;
export type CalendarRule = z.infer<typeof calendarRuleSchema>;
export type Site = z.infer<typeof siteSchema>;
export type Policy = z.infer<typeof policySchema>;
export type LampSelection = z.infer<typeof lampSelectionSchema>;
export type OverrideCommand = z.infer<typeof overrideCommandSchema>;
export type ClearOverrideCommand = z.infer<typeof clearOverrideCommandSchema>;
export type PresenceCommand = z.infer<typeof presenceCommandSchema>;
export type Command = z.infer<typeof commandSchema>;
export type Receipt = z.infer<typeof receiptSchema>;
export type AlertMessage = z.infer<typeof alertMessageSchema>;
