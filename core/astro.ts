import { Body, Observer, SearchRiseSet } from 'astronomy-engine';
import { DateTime } from 'luxon';
import type { Site } from '../protocol/index.js';

/**
 * Dusk and dawn, computed from the site alone so a gateway needs no network.
 * Dusk is the official sunset and dawn the official sunrise (sun's upper limb on the horizon,
 * refraction included: -0.833°), the instants the French light-nuisance order refers to.
 *
 * A night is named by the local date of its dusk and owns the window from local noon of that
 * date to local noon of the next: any instant belongs to exactly one night.
 */
export interface Night {
  /** YYYY-MM-DD, local date of the dusk, in the site's time zone. */
  date: string;
  dusk: number;
  dawn: number;
  /** Local noon of `date` and of the next day: the night's window. */
  windowStart: number;
  windowEnd: number;
}

const cache = new Map<string, Night>();
const CACHE_MAX = 4096;

export function localNoon(date: string, timezone: string): number {
  const d = DateTime.fromISO(date, { zone: timezone }).set({ hour: 12, minute: 0, second: 0, millisecond: 0 });
  if (!d.isValid) throw new Error(`invalid date ${date} in ${timezone}`);
  return d.toMillis();
}

export function addDays(date: string, days: number): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days }).toISODate()!;
}

export function localDate(t: number, timezone: string): string {
  return DateTime.fromMillis(t, { zone: timezone }).toISODate()!;
}

/** The instant of local wall-clock time `hh:mm` on `date` (first occurrence when DST repeats it). */
export function localTime(date: string, hh: number, mm: number, timezone: string): number {
  return DateTime.fromISO(date, { zone: timezone }).set({ hour: hh, minute: mm, second: 0, millisecond: 0 }).toMillis();
}

export function nightForDate(site: Site, date: string): Night {
  const key = `${site.lat},${site.lon},${site.timezone},${date}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const windowStart = localNoon(date, site.timezone);
  const next = addDays(date, 1);
  const windowEnd = localNoon(next, site.timezone);
  // astronomy-engine (MIT) rather than suncalc 1.x, whose solar noon is about 1.3 min late and
  // put dusk up to 3 min off in autumn (caught by core/astro.test.ts against NOAA).
  const observer = new Observer(site.lat, site.lon, 0);
  const set = SearchRiseSet(Body.Sun, observer, -1, new Date(windowStart), 1);
  const rise = SearchRiseSet(Body.Sun, observer, +1, set ? set.date : new Date(windowStart), 1);
  const dusk = set ? set.date.getTime() : NaN;
  const dawn = rise ? rise.date.getTime() : NaN;
  if (!Number.isFinite(dusk) || !Number.isFinite(dawn) || dawn > windowEnd) {
    // Polar day or night: no sunset/sunrise. Not a case for French towns, but never leave it dark.
    throw new Error(`no sunset/sunrise at ${site.lat},${site.lon} on ${date}`);
  }
  const night: Night = { date, dusk, dawn, windowStart, windowEnd };
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, night);
  return night;
}

/** The night whose noon-to-noon window contains `t`. */
export function nightAt(site: Site, t: number): Night {
  const local = DateTime.fromMillis(t, { zone: site.timezone });
  const date = local.hour >= 12 ? local.toISODate()! : local.minus({ days: 1 }).toISODate()!;
  return nightForDate(site, date);
}

export function isDark(site: Site, t: number): boolean {
  const n = nightAt(site, t);
  return t >= n.dusk && t < n.dawn;
}
