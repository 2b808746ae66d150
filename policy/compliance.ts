import { z } from 'zod';
import { DateTime } from 'luxon';
import { addDays, nightForDate } from '../core/astro.js';
import type { Night } from '../core/astro.js';
import { idSchema, levelSchema } from '../protocol/index.js';
import type { Profile, Site } from '../protocol/index.js';
import type { TownPlan } from '../controller/plan.js';
import { compileSchedule, resolveSchedule, resolveTimeRef, slotIndexAt } from '../edge-agent/dimming/schedule.js';
import { compileCalendar } from './calendar.js';
import { DEFAULT_RULES, hhmmSchema, zoneCategorySchema } from './compliance-rules.js';
import type { ComplianceCheck, ComplianceRule } from './compliance-rules.js';

/**
 * Compliance of a town plan with the rule table (compliance-rules.ts), run when a plan is saved.
 * Pure. Schedules are not read as strings: each zone's profile is resolved on every night of
 * the period checked (a year by default) with that night's real sunset and sunrise, the
 * calendar applied, exactly as the gateway's dimming engine resolves it (schedule.ts), and the
 * rules are tested on the resulting level over time.
 *
 * A light counts as on where its scheduled level is above 0. Where the slot level is 0 but the
 * profile has presence settings, the light may come on by detection: a breach there is reported
 * as a warning on the profile's `presence` (some rules allow detection-triggered lighting).
 */

export const zoneInfoSchema = z.object({
  category: zoneCategorySchema,
  /** Parks and gardens: closing time (HH:MM). */
  closingTime: hhmmSchema.optional(),
  /** Car parks, heritage, sports grounds: end of the activity (HH:MM). */
  activityEnd: hhmmSchema.optional(),
  maxLevel: levelSchema.optional(),
  extinction: z.object({ from: hhmmSchema, to: hhmmSchema }).optional(),
});
export type ZoneInfo = z.infer<typeof zoneInfoSchema>;

export const complianceLampSchema = z.object({
  id: idSchema.optional(),
  zone: idSchema,
  colourTemperatureK: z.number().positive().max(20_000).optional(),
});
export type ComplianceLamp = z.infer<typeof complianceLampSchema>;

export interface ComplianceInput {
  plan: Pick<TownPlan, 'profiles' | 'zones' | 'defaultProfile' | 'calendar'>;
  site: Site;
  /** What each zone is. Zones of the plan missing here get the rules for every category only. */
  zones: Record<string, ZoneInfo>;
  lamps?: readonly ComplianceLamp[];
  rules?: readonly ComplianceRule[];
  /** First night checked (YYYY-MM-DD, the date of its dusk). */
  firstNight: string;
  /** Number of nights checked from `firstNight`: a year by default, so every season and calendar rule is seen. */
  nights?: number;
}

export interface ComplianceFinding {
  severity: 'error' | 'warning';
  /** The rule's stable id. */
  rule: string;
  zone: string;
  /** The profile at fault (a calendar replacement when that is the one breaking the rule). */
  profile: string;
  /** French, for technical services. */
  message: string;
  /** Path of the value to change: `profiles.parc.schedule[1].to`, `zones.P1.activityEnd`, `lamps[12].colourTemperatureK`. */
  field: string;
  /** Nights on which the rule is broken, and the first of them (schedule rules only). */
  nights?: number;
  firstNight?: string;
}

/** A stretch of a night with one scheduled level; `slot` -1 outside every slot. */
interface Segment {
  start: number;
  end: number;
  level: number;
  slot: number;
}

interface ProfileNight {
  segments: Segment[];
  /** Level a detection can raise a slot to (0: no presence settings). */
  presenceLevel: number;
}

interface Breach {
  field: string;
  presenceOnly: boolean;
  detail: string;
}

const MINUTE_MS = 60_000;

export function checkPlan(input: ComplianceInput): ComplianceFinding[] {
  const { plan, site, zones } = input;
  const rules = input.rules ?? DEFAULT_RULES;
  const nightCount = input.nights ?? 365;
  const calendar = compileCalendar(plan.calendar);
  const tz = site.timezone;
  const hhmm = (t: number): string => DateTime.fromMillis(t, { zone: tz }).toFormat('HH:mm');
  const clock = (s: string, night: Night): number =>
    resolveTimeRef({ kind: 'clock', hh: Number(s.slice(0, 2)), mm: Number(s.slice(3, 5)) }, night, tz);

  const nights: Night[] = [];
  for (let k = 0; k < nightCount; k++) {
    try {
      nights.push(nightForDate(site, addDays(input.firstNight, k)));
    } catch {
      // No sunset at this site that day (polar): the gateway is in fail-safe, nothing to check.
    }
  }

  const cache = new Map<string, ProfileNight>();
  const profileNight = (name: string, night: Night): ProfileNight => {
    const key = `${name}\u0000${night.date}`;
    let hit = cache.get(key);
    if (!hit) {
      hit = resolveProfileNight(plan.profiles[name]!, name, night, tz);
      cache.set(key, hit);
    }
    return hit;
  };

  const zoneIds = [...new Set([...Object.keys(zones), ...Object.keys(plan.zones)])].sort();
  const findings: ComplianceFinding[] = [];

  for (const zone of zoneIds) {
    const info = Object.hasOwn(zones, zone) ? zones[zone] : undefined;
    const own = Object.hasOwn(plan.zones, zone) ? plan.zones[zone]! : plan.defaultProfile;
    for (const rule of rules) {
      const check = rule.check;
      if (check.kind === 'max-colour-temperature') continue; // per lamp, below
      if (!applies(rule, info)) continue;
      const missing = missingZoneData(check, info);
      if (missing) {
        findings.push({
          severity: 'warning',
          rule: rule.id,
          zone,
          profile: own,
          field: `zones.${zone}.${missing.field}`,
          message: `Zone « ${zone} » : ${missing.label} non renseignée, la règle « ${rule.title} » ne peut pas être vérifiée.`,
        });
        continue;
      }
      const tally = new Map<string, { breach: Breach; profile: string; count: number; first: string }>();
      for (const night of nights) {
        const name = calendar.profileFor(own, night.date);
        if (!Object.hasOwn(plan.profiles, name)) continue;
        const pn = profileNight(name, night);
        for (const breach of evaluate(check, info, pn, night, name, { hhmm, clock })) {
          const key = `${name}\u0000${breach.field}\u0000${breach.presenceOnly}`;
          const t = tally.get(key);
          if (t) t.count++;
          else tally.set(key, { breach, profile: name, count: 1, first: night.date });
        }
      }
      for (const t of tally.values()) {
        const plural = t.count > 1 ? 's' : '';
        findings.push({
          severity: t.breach.presenceOnly ? 'warning' : rule.severity,
          rule: rule.id,
          zone,
          profile: t.profile,
          field: t.breach.field,
          nights: t.count,
          firstNight: t.first,
          message:
            `Zone « ${zone} », profil « ${t.profile} » : ${t.breach.detail} ` +
            `(${t.count} nuit${plural} sur ${nights.length}, dès la nuit du ${frenchDate(t.first)}). Règle : ${rule.title}.`,
        });
      }
    }
  }

  findings.push(...colourFindings(input, rules));
  return findings;
}

function applies(rule: ComplianceRule, info: ZoneInfo | undefined): boolean {
  if (rule.categories === 'all') return true;
  if (info && rule.categories.includes(info.category)) return true;
  // A zone that sets its own cap or extinction hours is held to them whatever its category.
  if (rule.check.kind === 'max-level') return info?.maxLevel !== undefined;
  if (rule.check.kind === 'extinction') return info?.extinction !== undefined;
  return false;
}

const ZONE_FIELD_LABEL = { closingTime: 'heure de fermeture', activityEnd: 'heure de fin d’activité' } as const;

function missingZoneData(check: ComplianceCheck, info: ZoneInfo | undefined): { field: string; label: string } | null {
  if (check.kind === 'off-by' && check.latest === undefined && check.zoneTime && info?.[check.zoneTime.field] === undefined) {
    return { field: check.zoneTime.field, label: ZONE_FIELD_LABEL[check.zoneTime.field] };
  }
  if (check.kind === 'max-level' && check.level === undefined && info?.maxLevel === undefined) {
    return { field: 'maxLevel', label: 'niveau maximal' };
  }
  if (check.kind === 'extinction' && (check.from === undefined || check.to === undefined) && info?.extinction === undefined) {
    return { field: 'extinction', label: 'plage d’extinction' };
  }
  return null;
}

interface Fmt {
  hhmm(t: number): string;
  clock(s: string, night: Night): number;
}

function evaluate(
  check: ComplianceCheck,
  info: ZoneInfo | undefined,
  pn: ProfileNight,
  night: Night,
  profile: string,
  f: Fmt,
): Breach[] {
  const one = evaluateOne(check, info, pn, night, profile, f);
  return Array.isArray(one) ? one : one ? [one] : [];
}

function evaluateOne(
  check: ComplianceCheck,
  info: ZoneInfo | undefined,
  pn: ProfileNight,
  night: Night,
  profile: string,
  f: Fmt,
): Breach | Breach[] | null {
  const field = (seg: Segment, end: 'from' | 'to' | 'level', presenceOnly: boolean): string =>
    presenceOnly ? `profiles.${profile}.presence` : `profiles.${profile}.schedule[${seg.slot}].${end}`;
  switch (check.kind) {
    case 'not-before-sunset': {
      const hit = firstLit(pn, night.windowStart, night.dusk);
      if (!hit) return null;
      const at = Math.max(hit.seg.start, night.windowStart);
      return {
        field: field(hit.seg, 'from', hit.presenceOnly),
        presenceOnly: hit.presenceOnly,
        detail: `${hit.presenceOnly ? 'peut s’allumer sur détection' : 'allumé'} dès ${f.hhmm(at)}, avant le coucher du soleil (${f.hhmm(night.dusk)})`,
      };
    }
    case 'not-after-sunrise': {
      const hit = lastLit(pn, night.dawn, night.windowEnd);
      if (!hit) return null;
      return {
        field: field(hit.seg, 'to', hit.presenceOnly),
        presenceOnly: hit.presenceOnly,
        detail: `${hit.presenceOnly ? 'peut rester allumé sur détection' : 'allumé'} jusqu’à ${f.hhmm(Math.min(hit.seg.end, night.windowEnd))}, après le lever du soleil (${f.hhmm(night.dawn)})`,
      };
    }
    case 'off-by': {
      let deadline: number | null = check.latest !== undefined ? f.clock(check.latest, night) : null;
      let why = check.latest !== undefined ? `à ${check.latest}` : '';
      const zt = check.zoneTime;
      const zoneValue = zt ? info?.[zt.field] : undefined;
      if (zt && zoneValue !== undefined) {
        const t = f.clock(zoneValue, night) + zt.plusMin * MINUTE_MS;
        const useZone = zt.combine === 'instead' || deadline === null || t > deadline;
        if (useZone) {
          deadline = t;
          why = `${zt.plusMin / 60} h après ${zt.field === 'closingTime' ? 'la fermeture' : 'la fin d’activité'} (${zoneValue}), soit à ${f.hhmm(t)}`;
        }
      }
      if (deadline === null) return null;
      const until = check.relightFrom !== undefined ? Math.min(f.clock(check.relightFrom, night), night.dawn) : night.dawn;
      // Every slot lit in the window is its own breach: an evening slot that runs over and a
      // morning slot that comes back too early need two different fixes.
      const breaches: Breach[] = [];
      for (const hit of allLit(pn, deadline, until)) {
        const how = hit.presenceOnly ? 'peut s’allumer sur détection' : 'reste allumé';
        // A slot that starts after the deadline is wrong by its start, one that runs over by its end.
        if (hit.seg.start >= deadline) {
          breaches.push({
            field: field(hit.seg, 'from', hit.presenceOnly),
            presenceOnly: hit.presenceOnly,
            detail: `doit rester éteint de ${f.hhmm(deadline)} à ${f.hhmm(until)}, mais ${hit.presenceOnly ? 'peut s’allumer sur détection' : 's’allume'} dès ${f.hhmm(hit.seg.start)}`,
          });
        } else {
          breaches.push({
            field: field(hit.seg, 'to', hit.presenceOnly),
            presenceOnly: hit.presenceOnly,
            detail: `doit être éteint ${why}, mais ${how} jusqu’à ${f.hhmm(Math.min(hit.seg.end, until))}`,
          });
        }
      }
      return breaches;
    }
    case 'max-level': {
      const max = info?.maxLevel ?? check.level!;
      let worst: Segment | null = null;
      for (const seg of pn.segments) {
        if (seg.slot >= 0 && seg.level > max && (!worst || seg.level > worst.level)) worst = seg;
      }
      if (worst) {
        return { field: field(worst, 'level', false), presenceOnly: false, detail: `niveau ${worst.level} % au-dessus du plafond de ${max} %` };
      }
      if (pn.presenceLevel > max && pn.segments.some((s) => s.slot >= 0)) {
        // A boost above the cap is a breach, not a mere possibility: the profile asks for it.
        return {
          field: `profiles.${profile}.presence.level`,
          presenceOnly: false,
          detail: `niveau de détection ${pn.presenceLevel} % au-dessus du plafond de ${max} %`,
        };
      }
      return null;
    }
    case 'extinction': {
      const from = info?.extinction?.from ?? check.from!;
      const to = info?.extinction?.to ?? check.to!;
      const hit = firstLit(pn, f.clock(from, night), f.clock(to, night));
      if (!hit) return null;
      return {
        field: field(hit.seg, 'level', hit.presenceOnly),
        presenceOnly: hit.presenceOnly,
        detail: `${hit.presenceOnly ? 'peut s’allumer sur détection' : 'allumé'} pendant l’extinction obligatoire de ${from} à ${to}`,
      };
    }
    case 'max-colour-temperature':
      return null;
  }
}

/** The profile's level over the night's window, first listed slot winning (schedule.ts). */
function resolveProfileNight(profile: Profile, name: string, night: Night, tz: string): ProfileNight {
  const resolved = resolveSchedule(compileSchedule(profile.schedule, `profiles.${name}.schedule`), night, tz);
  const cuts = [night.windowStart, night.windowEnd];
  for (let i = 0; i < resolved.length; i += 3) {
    for (const t of [resolved[i]!, resolved[i + 1]!]) if (t > night.windowStart && t < night.windowEnd) cuts.push(t);
  }
  cuts.sort((a, b) => a - b);
  const segments: Segment[] = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    const start = cuts[k]!;
    const end = cuts[k + 1]!;
    if (end <= start) continue;
    const slot = slotIndexAt(resolved, start);
    const level = slot < 0 ? 0 : resolved[3 * slot + 2]!;
    const last = segments[segments.length - 1];
    if (last && last.slot === slot && last.end === start) last.end = end;
    else segments.push({ start, end, level, slot });
  }
  return { segments, presenceLevel: profile.presence?.level ?? 0 };
}

/** The first stretch lit within [a, b): by schedule first, else one that a detection could light. */
function firstLit(pn: ProfileNight, a: number, b: number): { seg: Segment; presenceOnly: boolean } | null {
  let byPresence: Segment | null = null;
  for (const seg of pn.segments) {
    if (seg.end <= a || seg.start >= b || seg.slot < 0) continue;
    if (seg.level > 0) return { seg, presenceOnly: false };
    if (pn.presenceLevel > 0 && !byPresence) byPresence = seg;
  }
  return byPresence ? { seg: byPresence, presenceOnly: true } : null;
}

/** Every stretch within [a, b) lit by schedule, or by detection where the slot is at 0; one per slot. */
function allLit(pn: ProfileNight, a: number, b: number): Array<{ seg: Segment; presenceOnly: boolean }> {
  const out: Array<{ seg: Segment; presenceOnly: boolean }> = [];
  const seen = new Set<number>();
  for (const seg of pn.segments) {
    if (seg.end <= a || seg.start >= b || seg.slot < 0 || seen.has(seg.slot)) continue;
    if (seg.level > 0 || pn.presenceLevel > 0) {
      seen.add(seg.slot);
      out.push({ seg, presenceOnly: seg.level === 0 });
    }
  }
  return out;
}

/** The last stretch lit within [a, b), by schedule first, else by detection. */
function lastLit(pn: ProfileNight, a: number, b: number): { seg: Segment; presenceOnly: boolean } | null {
  let byPresence: Segment | null = null;
  for (let k = pn.segments.length - 1; k >= 0; k--) {
    const seg = pn.segments[k]!;
    if (seg.end <= a || seg.start >= b || seg.slot < 0) continue;
    if (seg.level > 0) return { seg, presenceOnly: false };
    if (pn.presenceLevel > 0 && !byPresence) byPresence = seg;
  }
  return byPresence ? { seg: byPresence, presenceOnly: true } : null;
}

function colourFindings(input: ComplianceInput, rules: readonly ComplianceRule[]): ComplianceFinding[] {
  const out: ComplianceFinding[] = [];
  const lamps = input.lamps ?? [];
  for (const rule of rules) {
    if (rule.check.kind !== 'max-colour-temperature') continue;
    const maxK = rule.check.maxK;
    const byZone = new Map<string, { first: number; count: number; worst: number }>();
    lamps.forEach((lamp, i) => {
      const k = lamp.colourTemperatureK;
      if (k === undefined || k <= maxK) return;
      const info = Object.hasOwn(input.zones, lamp.zone) ? input.zones[lamp.zone] : undefined;
      if (!applies(rule, info)) return;
      const z = byZone.get(lamp.zone);
      if (z) {
        z.count++;
        z.worst = Math.max(z.worst, k);
      } else byZone.set(lamp.zone, { first: i, count: 1, worst: k });
    });
    for (const [zone, z] of [...byZone].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const first = lamps[z.first]!;
      const profile = Object.hasOwn(input.plan.zones, zone) ? input.plan.zones[zone]! : input.plan.defaultProfile;
      out.push({
        severity: rule.severity,
        rule: rule.id,
        zone,
        profile,
        field: `lamps[${z.first}].colourTemperatureK`,
        message:
          `Zone « ${zone} » : ${z.count} luminaire${z.count > 1 ? 's' : ''} au-dessus de ${maxK} K ` +
          `(jusqu’à ${z.worst} K${first.id ? `, dont ${first.id}` : ''}). Règle : ${rule.title}.`,
      });
    }
  }
  return out;
}

const MONTHS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];

function frenchDate(date: string): string {
  const day = Number(date.slice(8, 10));
  return `${day === 1 ? '1er' : day} ${MONTHS[Number(date.slice(5, 7)) - 1]} ${date.slice(0, 4)}`;
}
