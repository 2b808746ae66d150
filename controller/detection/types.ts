import { z } from 'zod';
import { idSchema } from '../../protocol/index.js';
import { alertEvidenceSchema } from '../views.js';

/** Every kind of fault the detectors report. The alert `kind` field carries these values. */
export const alertKindSchema = z.enum([
  'lamp_failure',
  'day_burner',
  'cycling',
  'power_high',
  'power_low',
  'driver_fault',
  'voltage',
  'cabinet_offline',
  'cabinet_meter_mismatch',
  'door_open',
  'power_cut',
  'sensor_stuck',
  'no_data',
  // Not a fault in the street: the telemetry database refuses writes (data waits on disk).
  'storage_unavailable',
]);
export type AlertKind = z.infer<typeof alertKindSchema>;

/** Kinds about a whole cabinet: their subject is the cabinet, `lampId` is null. */
export const CABINET_KINDS: ReadonlySet<AlertKind> = new Set([
  'voltage',
  'cabinet_offline',
  'cabinet_meter_mismatch',
  'door_open',
  'power_cut',
]);

/**
 * The `cabinetId` of alerts about the controller itself (storage_unavailable): the alert view and
 * the MQTT alert message require one, and no cabinet id of the inventory is this.
 */
export const CONTROLLER_SUBJECT = 'controller';

/** Cabinet-wide outages: while one is open, its lamps' alerts fold under it. */
export const OUTAGE_KINDS: ReadonlySet<AlertKind> = new Set(['cabinet_offline', 'power_cut']);

/** Kinds meaning the lamp gives no light: a run of them along a street is critical. */
export const DARK_KINDS: ReadonlySet<AlertKind> = new Set(['lamp_failure', 'driver_fault']);

/** The evidence schema lives with the alert view (controller/views.ts), which carries it. */
export const evidenceSchema = alertEvidenceSchema;
export type Evidence = z.infer<typeof evidenceSchema>;

/**
 * One detector's verdict on one subject at one instant. `active: true` is evidence the fault is
 * there; `active: false` is evidence it is gone (a lamp seen lit and healthy). A detector that
 * cannot tell (a lamp at level 0 says nothing about its power) reports nothing.
 */
export interface Finding {
  kind: AlertKind;
  cabinetId: string;
  /** null: the finding is about the cabinet (or, for sensor_stuck, see `subject`). */
  lampId: string | null;
  /** Subject of the alert when neither the lamp nor the cabinet (a sensor id). */
  subject?: string;
  active: boolean;
  /** Time of the evidence: message ts for telemetry, controller time for silence. */
  at: number;
  evidence?: Evidence;
  detail: string;
}

/** What the detectors know of a lamp from the inventory. */
export interface LampInfo {
  id: string;
  cabinetId: string;
  zone: string;
  nominalPowerW: number;
  /** A lamp model key, to pick per-model thresholds; optional (the inventory has no model yet). */
  model?: string;
}

export const lampInfoSchema = z.object({
  id: idSchema,
  cabinetId: idSchema,
  zone: idSchema,
  nominalPowerW: z.number().positive(),
  model: z.string().optional(),
});

export function historyLink(lampId: string, from: number, to: number): string {
  return `/api/lamps/${encodeURIComponent(lampId)}/history?from=${from}&to=${to}`;
}
