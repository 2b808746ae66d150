import { z } from 'zod';
import { calendarSchema, checkCalendarProfiles, idSchema, levelSchema, profileSchema } from '../protocol/index.js';

/**
 * The town's lighting plan, as technical services write it: profiles, and which profile each
 * zone uses. The controller compiles it with the inventory and the town's site into one
 * PROTOCOL.md `policy` document per cabinet (id = plan id, version = plan version).
 */
export const townPlanSchema = z
  .object({
    id: idSchema,
    failsafeLevel: levelSchema,
    profiles: z.record(idSchema, profileSchema),
    zones: z.record(idSchema, idSchema),
    /** Profile of lamps whose zone is not listed in `zones`. */
    defaultProfile: idSchema,
    /**
     * Additive: other profiles on some nights (policy/calendar.ts). The compiler passes each
     * cabinet the rules for its profiles (policy/calendar.ts `restrictCalendar`).
     */
    calendar: calendarSchema.optional(),
  })
  .superRefine((p, ctx) => {
    checkCalendarProfiles(p.calendar, p.profiles, ctx);
    if (!Object.hasOwn(p.profiles, p.defaultProfile)) {
      ctx.addIssue({ code: 'custom', path: ['defaultProfile'], message: `unknown profile "${p.defaultProfile}"` });
    }
    for (const [zone, profile] of Object.entries(p.zones)) {
      if (!Object.hasOwn(p.profiles, profile)) {
        ctx.addIssue({ code: 'custom', path: ['zones', zone], message: `unknown profile "${profile}"` });
      }
    }
  });
export type TownPlan = z.infer<typeof townPlanSchema>;

export const planVersionSchema = z.object({
  version: z.number().int().positive(),
  author: z.string(),
  createdAt: z.number().int(),
  plan: townPlanSchema,
  /** Additive: why this version, for people ("rollback to v3"). */
  note: z.string().max(200).optional(),
});
export type PlanVersion = z.infer<typeof planVersionSchema>;
