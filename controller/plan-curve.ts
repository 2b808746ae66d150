import { z } from 'zod';
import { nightForDate } from '../core/astro.js';
import { LucioleError } from '../core/errors.js';
import { compileCalendar } from '../policy/calendar.js';
import { idSchema, levelSchema, tsSchema, type Policy, type Site } from '../protocol/index.js';
import { createDimmingEngine } from '../edge-agent/dimming/engine.js';
import { compileSchedule, resolveSchedule } from '../edge-agent/dimming/schedule.js';
import type { TownPlan } from './plan.js';

/**
 * The level of one profile over one night (noon to noon), computed by the gateway's own dimming
 * engine with the calendar applied: what the policy editor draws, dusk and dawn marked. Pure.
 */

export const CURVE_STEP_MIN = 5;

export const levelCurveSchema = z.object({
  date: z.iso.date(),
  /** The profile asked for, as a lamp's own profile. */
  profile: idSchema,
  /** The profile followed that night: another one when a calendar rule applies. */
  effectiveProfile: idSchema,
  /** The calendar rule that applied (its name, or `#index`); null: none. */
  calendarRule: z.string().nullable(),
  timezone: z.string(),
  dusk: tsSchema,
  dawn: tsSchema,
  windowStart: tsSchema,
  windowEnd: tsSchema,
  stepMin: z.number().int().positive(),
  /** Every `stepMin` minutes from windowStart to windowEnd inclusive. */
  points: z.array(z.object({ t: tsSchema, level: levelSchema })),
  /** The effective profile's slots resolved for that night, as listed (an empty one that night has from >= to). */
  slots: z.array(z.object({ from: tsSchema, to: tsSchema, level: levelSchema, empty: z.boolean() })),
});
export type LevelCurve = z.infer<typeof levelCurveSchema>;

const CURVE_LAMP = 'curve';

export function levelCurve(input: { plan: Pick<TownPlan, 'id' | 'profiles' | 'calendar' | 'failsafeLevel'>; profile: string; date: string; site: Site; stepMin?: number }): LevelCurve {
  const { plan, profile, date, site } = input;
  const stepMin = input.stepMin ?? CURVE_STEP_MIN;
  if (!Object.hasOwn(plan.profiles, profile)) {
    throw new LucioleError('LUCIOLE_ERR_PROFILE_NOT_FOUND', `no profile "${profile}" in the plan`, 'profile');
  }
  let night;
  try {
    night = nightForDate(site, date);
  } catch (e) {
    throw new LucioleError('LUCIOLE_ERR_INVALID_ARGUMENT', `date: ${(e as Error).message}`, 'date');
  }
  const calendar = compileCalendar(plan.calendar);
  const ruleIndex = calendar.ruleFor(profile, date);
  const effectiveProfile = calendar.profileFor(profile, date);
  const policy: Policy = {
    v: 1,
    id: plan.id,
    version: 0,
    issuedAt: 0,
    site,
    failsafeLevel: plan.failsafeLevel,
    profiles: plan.profiles,
    lamps: { [CURVE_LAMP]: { profile } },
    ...(plan.calendar ? { calendar: plan.calendar } : {}),
  };
  const engine = createDimmingEngine({ site, lampIds: [CURVE_LAMP] });
  engine.setPolicy(policy);
  const points: LevelCurve['points'] = [];
  const step = stepMin * 60_000;
  for (let t = night.windowStart; t <= night.windowEnd; t += step) {
    // The window's end is the next night's noon: read it as this night's last instant.
    const at = t === night.windowEnd ? t - 1 : t;
    points.push({ t, level: engine.levelAt(CURVE_LAMP, at) });
  }
  const resolved = resolveSchedule(compileSchedule(plan.profiles[effectiveProfile]!.schedule, `profiles.${effectiveProfile}.schedule`), night, site.timezone);
  const slots: LevelCurve['slots'] = [];
  for (let i = 0; i < resolved.length; i += 3) {
    const from = resolved[i]!;
    const to = resolved[i + 1]!;
    slots.push({ from, to, level: resolved[i + 2]!, empty: !(from < to) });
  }
  const rule = ruleIndex >= 0 ? plan.calendar![ruleIndex]! : null;
  return {
    date,
    profile,
    effectiveProfile,
    calendarRule: rule ? (rule.name ?? `#${ruleIndex}`) : null,
    timezone: site.timezone,
    dusk: night.dusk,
    dawn: night.dawn,
    windowStart: night.windowStart,
    windowEnd: night.windowEnd,
    stepMin,
    points,
    slots,
  };
}
