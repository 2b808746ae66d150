import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { addDays, isDark, localDate, localNoon, localTime, nightAt, nightForDate } from './astro.js';
import type { Site } from '../protocol/index.js';

/**
 * The reference: NOAA's solar calculator (NOAA Global Monitoring Laboratory, "General Solar
 * Position Calculations" and its spreadsheet, after Meeus, Astronomical Algorithms),
 * implemented here independently of the astronomy library. Official sunrise/sunset: zenith 90.833°
 * (refraction and the sun's semi-diameter). NOAA states about one minute of accuracy at
 * these latitudes; the tolerance below is two.
 */
const RAD = Math.PI / 180;
const DAY_MS = 86_400_000;

function noaaSun(tMs: number): { declRad: number; eqTimeMin: number } {
  const jd = tMs / DAY_MS + 2440587.5;
  const jc = (jd - 2451545) / 36525;
  const l0 = (((280.46646 + jc * (36000.76983 + jc * 0.0003032)) % 360) + 360) % 360;
  const m = 357.52911 + jc * (35999.05029 - 0.0001537 * jc);
  const e = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc);
  const c =
    Math.sin(m * RAD) * (1.914602 - jc * (0.004817 + 0.000014 * jc)) +
    Math.sin(2 * m * RAD) * (0.019993 - 0.000101 * jc) +
    Math.sin(3 * m * RAD) * 0.000289;
  const trueLong = l0 + c;
  const omega = 125.04 - 1934.136 * jc;
  const appLong = trueLong - 0.00569 - 0.00478 * Math.sin(omega * RAD);
  const meanObliq = 23 + (26 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) / 60) / 60;
  const obliq = meanObliq + 0.00256 * Math.cos(omega * RAD);
  const declRad = Math.asin(Math.sin(obliq * RAD) * Math.sin(appLong * RAD));
  const y = Math.tan((obliq / 2) * RAD) ** 2;
  const eqTimeMin =
    (4 / RAD) *
    (y * Math.sin(2 * l0 * RAD) -
      2 * e * Math.sin(m * RAD) +
      4 * e * y * Math.sin(m * RAD) * Math.cos(2 * l0 * RAD) -
      0.5 * y * y * Math.sin(4 * l0 * RAD) -
      1.25 * e * e * Math.sin(2 * m * RAD));
  return { declRad, eqTimeMin };
}

/** NOAA sunrise or sunset on UTC date `date`, ms; the sun's position is re-evaluated at the event. */
function noaaEvent(lat: number, lon: number, date: string, which: 'rise' | 'set'): number {
  const midnight = Date.parse(`${date}T00:00:00Z`);
  let t = midnight + (720 - 4 * lon) * 60_000;
  for (let k = 0; k < 4; k++) {
    const { declRad, eqTimeMin } = noaaSun(t);
    const cosHa =
      Math.cos(90.833 * RAD) / (Math.cos(lat * RAD) * Math.cos(declRad)) -
      Math.tan(lat * RAD) * Math.tan(declRad);
    const haDeg = Math.acos(cosHa) / RAD;
    const noonMin = 720 - 4 * lon - eqTimeMin;
    t = midnight + (which === 'set' ? noonMin + 4 * haDeg : noonMin - 4 * haDeg) * 60_000;
  }
  return t;
}

const TZ = 'Europe/Paris';
const CITIES: Record<string, Site> = {
  Paris: { lat: 48.8566, lon: 2.3522, timezone: TZ },
  Lyon: { lat: 45.764, lon: 4.8357, timezone: TZ },
  Marseille: { lat: 43.2965, lon: 5.3698, timezone: TZ },
  Lille: { lat: 50.6292, lon: 3.0573, timezone: TZ },
  Brest: { lat: 48.3904, lon: -4.4861, timezone: TZ },
};
/** Equinoxes and solstices of 2026, and a day each side of the year boundary. */
const DATES = ['2026-03-20', '2026-06-21', '2026-09-23', '2026-12-21', '2025-12-31'];
const TWO_MINUTES = 120_000;

const wall = (t: number): string => DateTime.fromMillis(t, { zone: TZ }).toFormat('yyyy-MM-dd HH:mm');

describe('dusk and dawn against the NOAA solar calculator', () => {
  for (const [city, site] of Object.entries(CITIES)) {
    for (const date of DATES) {
      it(`${city}, night of ${date}: within 2 minutes`, () => {
        const night = nightForDate(site, date);
        const sunset = noaaEvent(site.lat, site.lon, date, 'set');
        const sunrise = noaaEvent(site.lat, site.lon, addDays(date, 1), 'rise');
        expect(Math.abs(night.dusk - sunset), `dusk ${wall(night.dusk)} vs ${wall(sunset)}`).toBeLessThanOrEqual(
          TWO_MINUTES,
        );
        expect(Math.abs(night.dawn - sunrise), `dawn ${wall(night.dawn)} vs ${wall(sunrise)}`).toBeLessThanOrEqual(
          TWO_MINUTES,
        );
      });
    }
  }

  it('every night of 2026 in every city stays within 2 minutes, DST changes included', () => {
    let worst = 0;
    for (const site of Object.values(CITIES)) {
      for (let i = 0; i < 365; i++) {
        const date = addDays('2026-01-01', i);
        const n = nightForDate(site, date);
        worst = Math.max(
          worst,
          Math.abs(n.dusk - noaaEvent(site.lat, site.lon, date, 'set')),
          Math.abs(n.dawn - noaaEvent(site.lat, site.lon, addDays(date, 1), 'rise')),
        );
      }
    }
    expect(worst).toBeLessThanOrEqual(TWO_MINUTES);
  });

  it('the reference itself agrees with published Paris solstice times', () => {
    // IMCCE / timeanddate, Paris: 21 June sunrise 05:47, sunset 21:58 (CEST);
    // 21 December sunrise 08:42, sunset 16:56 (CET). Checks the reference, not only the code.
    const { lat, lon } = CITIES.Paris!;
    const at = (date: string, hh: number, mm: number): number => localTime(date, hh, mm, TZ);
    expect(Math.abs(noaaEvent(lat, lon, '2026-06-21', 'rise') - at('2026-06-21', 5, 47))).toBeLessThanOrEqual(TWO_MINUTES);
    expect(Math.abs(noaaEvent(lat, lon, '2026-06-21', 'set') - at('2026-06-21', 21, 58))).toBeLessThanOrEqual(TWO_MINUTES);
    expect(Math.abs(noaaEvent(lat, lon, '2026-12-21', 'rise') - at('2026-12-21', 8, 42))).toBeLessThanOrEqual(TWO_MINUTES);
    expect(Math.abs(noaaEvent(lat, lon, '2026-12-21', 'set') - at('2026-12-21', 16, 56))).toBeLessThanOrEqual(TWO_MINUTES);
  });

  it('longer nights in the north and west in winter: Lille dusk before Marseille, Brest after Paris', () => {
    const d = '2026-12-21';
    expect(nightForDate(CITIES.Lille!, d).dusk).toBeLessThan(nightForDate(CITIES.Marseille!, d).dusk);
    expect(nightForDate(CITIES.Brest!, d).dusk).toBeGreaterThan(nightForDate(CITIES.Paris!, d).dusk);
  });
});

describe('night windows', () => {
  const lyon = CITIES.Lyon!;

  it('an instant just before local noon belongs to the previous night, noon itself to the new one', () => {
    const noon = localTime('2026-01-15', 12, 0, TZ);
    expect(nightAt(lyon, noon - 1).date).toBe('2026-01-14');
    expect(nightAt(lyon, noon).date).toBe('2026-01-15');
    expect(nightAt(lyon, localTime('2026-01-16', 3, 0, TZ)).date).toBe('2026-01-15');
    expect(nightAt(lyon, localTime('2026-01-15', 23, 59, TZ)).date).toBe('2026-01-15');
  });

  it('the window runs from local noon to the next local noon with dusk and dawn inside it', () => {
    const n = nightForDate(lyon, '2026-01-15');
    expect(n.windowStart).toBe(Date.parse('2026-01-15T11:00:00Z'));
    expect(n.windowEnd).toBe(Date.parse('2026-01-16T11:00:00Z'));
    expect(n.windowStart).toBeLessThan(n.dusk);
    expect(n.dusk).toBeLessThan(n.dawn);
    expect(n.dawn).toBeLessThan(n.windowEnd);
    expect(localDate(n.dusk, TZ)).toBe('2026-01-15');
    expect(localDate(n.dawn, TZ)).toBe('2026-01-16');
  });

  it('the spring-forward night lasts 23 h and the fall-back night 25 h', () => {
    const spring = nightForDate(lyon, '2026-03-28');
    expect(spring.windowEnd - spring.windowStart).toBe(23 * 3_600_000);
    const autumn = nightForDate(lyon, '2026-10-24');
    expect(autumn.windowEnd - autumn.windowStart).toBe(25 * 3_600_000);
    const plain = nightForDate(lyon, '2026-05-10');
    expect(plain.windowEnd - plain.windowStart).toBe(24 * 3_600_000);
  });

  it('local noon and local time follow the zone offset (CET in winter, CEST in summer)', () => {
    expect(localNoon('2026-01-15', TZ)).toBe(Date.parse('2026-01-15T11:00:00Z'));
    expect(localNoon('2026-07-15', TZ)).toBe(Date.parse('2026-07-15T10:00:00Z'));
    expect(localTime('2026-03-29', 5, 30, TZ)).toBe(Date.parse('2026-03-29T03:30:00Z'));
    expect(localTime('2026-10-25', 5, 30, TZ)).toBe(Date.parse('2026-10-25T04:30:00Z'));
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });

  it('every instant of a year belongs to exactly the night whose window holds it', () => {
    const start = Date.parse('2026-01-01T00:00:00Z');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 366 * DAY_MS }), (offset) => {
        const t = start + offset;
        const n = nightAt(lyon, t);
        expect(t).toBeGreaterThanOrEqual(n.windowStart);
        expect(t).toBeLessThan(n.windowEnd);
        expect(isDark(lyon, t)).toBe(t >= n.dusk && t < n.dawn);
      }),
      { numRuns: 300 },
    );
  });
});
