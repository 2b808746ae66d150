import { z } from 'zod';
import type { LampInfo } from './types.js';

/**
 * Detection thresholds. Defaults below are documented in docs/alerts.md; each can be changed for
 * the whole town, per zone, and per lamp model (model wins over zone, zone over town).
 */
export const lampThresholdsSchema = z.object({
  /** Samples in a row before a power-based verdict (filters one odd reading). */
  confirmSamples: z.number().int().min(1).max(100),
  /** A lamp drawing less than max(darkPowerW, darkFraction × expected) while on is dark. */
  darkPowerW: z.number().nonnegative(),
  darkFraction: z.number().min(0).max(1),
  /** Driver draw with the output off, W (counted in every reading). */
  standbyW: z.number().nonnegative(),
  /**
   * The model's power curve: fraction of nominal power at flux fraction x is
   * x / (a + (1 − a)·√x). LED drivers lose efficiency at low output; a = 1 is linear.
   */
  curveA: z.number().min(0.1).max(1),
  /** power_high/low: relative deviation from the expected power that counts. */
  powerTolerance: z.number().positive().max(5),
  /** Samples in a row off the expected power before power_high/low. */
  powerConfirmSamples: z.number().int().min(1).max(100),
  /** Below this level (%) power is too small to judge a deviation. */
  powerMinLevel: z.number().min(0).max(100),
  /** Healthy steady samples averaged to learn the lamp's own power/curve ratio. */
  learnSamples: z.number().int().min(1).max(10_000),
  /** EWMA weight of each new healthy sample once learnt. */
  learnAlpha: z.number().min(0).max(1),
  /** day_burner: minutes after dawn and before dusk in which light is tolerated. */
  dayToleranceMin: z.number().nonnegative().max(600),
  /** day_burner: a lamp drawing more than max(dayPowerW, dayFraction × nominal) in daylight burns. */
  dayPowerW: z.number().nonnegative(),
  dayFraction: z.number().min(0).max(1),
  /** cycling: lit↔dark switches while commanded on, within the window, that make cycling. */
  cyclingTransitions: z.number().int().min(2).max(1000),
  cyclingWindowMin: z.number().positive().max(24 * 60),
  /** no_data: telemetry messages in a row missing the lamp. */
  noDataMessages: z.number().int().min(1).max(1000),
});
export type LampThresholds = z.infer<typeof lampThresholdsSchema>;

export const cabinetThresholdsSchema = z.object({
  nominalVoltageV: z.number().positive(),
  /** voltage: allowed relative deviation (EN 50160: ±10 %). */
  voltageTolerance: z.number().positive().max(1),
  voltageConfirmSamples: z.number().int().min(1).max(100),
  /** The cabinet's own consumption (gateway, modem, coils), W, not on any lamp. */
  cabinetOwnW: z.number().nonnegative(),
  /** Mismatch counts beyond meterAbsW + meterRelTol × Σ lamps. */
  meterAbsW: z.number().nonnegative(),
  meterRelTol: z.number().nonnegative().max(10),
  meterConfirmSamples: z.number().int().min(1).max(100),
  /** cabinet_offline after this many telemetry periods of silence. */
  silentPeriods: z.number().positive().max(1000),
});
export type CabinetThresholds = z.infer<typeof cabinetThresholdsSchema>;

export const sensorThresholdsSchema = z.object({
  /** Window over which a sensor is compared with its neighbours, minutes. */
  windowMin: z.number().positive().max(24 * 60),
  /** Neighbour sensors are those at lamps within this many hops. */
  neighbourHops: z.number().int().min(1).max(50),
  /** "never triggers": zero detections while the neighbours' median is at least this many. */
  minNeighbourMean: z.number().positive(),
  /** "always triggers": at least this many detections per window... */
  alwaysMin: z.number().positive(),
  /** ...and this many times the busiest neighbour. */
  alwaysFactor: z.number().positive(),
});
export type SensorThresholds = z.infer<typeof sensorThresholdsSchema>;

export const DEFAULT_LAMP_THRESHOLDS: LampThresholds = Object.freeze({
  confirmSamples: 2,
  darkPowerW: 2,
  darkFraction: 0.1,
  standbyW: 0.5,
  curveA: 0.8,
  powerTolerance: 0.15,
  powerConfirmSamples: 3,
  powerMinLevel: 10,
  learnSamples: 20,
  learnAlpha: 0.02,
  dayToleranceMin: 30,
  dayPowerW: 3,
  dayFraction: 0.05,
  cyclingTransitions: 4,
  cyclingWindowMin: 60,
  noDataMessages: 3,
});

export const DEFAULT_CABINET_THRESHOLDS: CabinetThresholds = Object.freeze({
  nominalVoltageV: 230,
  voltageTolerance: 0.1,
  voltageConfirmSamples: 2,
  cabinetOwnW: 5,
  meterAbsW: 15,
  meterRelTol: 0.05,
  meterConfirmSamples: 3,
  silentPeriods: 3,
});

export const DEFAULT_SENSOR_THRESHOLDS: SensorThresholds = Object.freeze({
  windowMin: 60,
  neighbourHops: 6,
  minNeighbourMean: 15,
  alwaysMin: 300,
  alwaysFactor: 5,
});

const partialLamp = lampThresholdsSchema.partial().strict();

/** The operator's detection settings, all optional. */
export const detectionConfigSchema = z
  .object({
    lamp: partialLamp.optional(),
    byZone: z.record(z.string(), partialLamp).optional(),
    byModel: z.record(z.string(), partialLamp).optional(),
    cabinet: cabinetThresholdsSchema.partial().strict().optional(),
    sensor: sensorThresholdsSchema.partial().strict().optional(),
  })
  .strict();
export type DetectionConfig = z.infer<typeof detectionConfigSchema>;

/** Resolved thresholds, cached per (zone, model). */
export class Thresholds {
  readonly cabinet: CabinetThresholds;
  readonly sensor: SensorThresholds;
  private readonly cache = new Map<string, LampThresholds>();

  constructor(private readonly config: DetectionConfig = {}) {
    this.cabinet = { ...DEFAULT_CABINET_THRESHOLDS, ...config.cabinet };
    this.sensor = { ...DEFAULT_SENSOR_THRESHOLDS, ...config.sensor };
  }

  /** Parses untrusted settings; throws a ZodError naming the field. */
  static parse(input: unknown): Thresholds {
    return new Thresholds(detectionConfigSchema.parse(input));
  }

  forLamp(lamp: Pick<LampInfo, 'zone' | 'model'>): LampThresholds {
    const key = `${lamp.zone}\u0000${lamp.model ?? ''}`;
    let t = this.cache.get(key);
    if (!t) {
      const c = this.config;
      t = {
        ...DEFAULT_LAMP_THRESHOLDS,
        ...c.lamp,
        ...(c.byZone && Object.hasOwn(c.byZone, lamp.zone) ? c.byZone[lamp.zone] : {}),
        ...(lamp.model !== undefined && c.byModel && Object.hasOwn(c.byModel, lamp.model) ? c.byModel[lamp.model] : {}),
      };
      this.cache.set(key, t);
    }
    return t;
  }
}

/** Fraction of nominal power the model's curve expects at `level` (0..100), standby excluded. */
export function curveFraction(level: number, a: number): number {
  const x = Math.min(100, Math.max(0, level)) / 100;
  if (x === 0) return 0;
  return x / (a + (1 - a) * Math.sqrt(x));
}

/** Expected power of a healthy lamp of the model at `level`, standby included, W. */
export function expectedPowerW(nominalW: number, level: number, t: LampThresholds, ratio = 1): number {
  return t.standbyW + nominalW * ratio * curveFraction(level, t.curveA);
}

/** Below this the lamp gives no light. */
export function darkLimitW(nominalW: number, level: number, t: LampThresholds, ratio = 1): number {
  return Math.max(t.darkPowerW, t.darkFraction * expectedPowerW(nominalW, level, t, ratio));
}

/**
 * Whether a reading at `level` can tell a lit lamp from a dark one: a lamp deep in a dimming
 * ramp (level 3 %) draws less than the dark limit even when healthy.
 */
export function canTellDark(nominalW: number, level: number, t: LampThresholds): boolean {
  return level > 0 && nominalW * curveFraction(level, t.curveA) >= 2 * t.darkPowerW;
}
