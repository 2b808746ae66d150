import type { HolidayRegion } from '../protocol/index.js';

/**
 * French public holidays (jours fériés, Code du travail art. L3133-1), computed for any year so
 * a gateway needs no table and no network. Alsace-Moselle (départements 57, 67, 68) adds Good
 * Friday and 26 December (art. L3134-13). Pure: dates are plain `YYYY-MM-DD` strings.
 */

export interface Holiday {
  date: string;
  /** French name, as shown to technical services. */
  name: string;
}

const pad = (n: number): string => String(n).padStart(2, '0');
const isoDate = (y: number, m: number, d: number): string => `${y}-${pad(m)}-${pad(d)}`;

/** Easter Sunday by the anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
export function easterSunday(year: number): string {
  if (!Number.isInteger(year) || year < 1583 || year > 9999) {
    throw new RangeError(`year ${year}: the Gregorian computus needs an integer year from 1583 to 9999`);
  }
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return isoDate(year, month, day);
}

/** `date` shifted by whole days (calendar arithmetic on UTC midnights: no DST involved). */
export function shiftDate(date: string, days: number): string {
  const t = Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));
  const d = new Date(t + days * 86_400_000);
  return isoDate(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/** The public holidays of `year` in `region`, sorted by date. */
export function frenchPublicHolidays(year: number, region: HolidayRegion = 'FR'): Holiday[] {
  const easter = easterSunday(year);
  const list: Holiday[] = [
    { date: isoDate(year, 1, 1), name: "Jour de l'an" },
    { date: shiftDate(easter, 1), name: 'Lundi de Pâques' },
    { date: isoDate(year, 5, 1), name: 'Fête du Travail' },
    { date: isoDate(year, 5, 8), name: 'Victoire 1945' },
    { date: shiftDate(easter, 39), name: 'Ascension' },
    { date: shiftDate(easter, 50), name: 'Lundi de Pentecôte' },
    { date: isoDate(year, 7, 14), name: 'Fête nationale' },
    { date: isoDate(year, 8, 15), name: 'Assomption' },
    { date: isoDate(year, 11, 1), name: 'Toussaint' },
    { date: isoDate(year, 11, 11), name: 'Armistice 1918' },
    { date: isoDate(year, 12, 25), name: 'Noël' },
  ];
  if (region !== 'FR') {
    list.push({ date: shiftDate(easter, -2), name: 'Vendredi saint' });
    list.push({ date: isoDate(year, 12, 26), name: 'Saint-Étienne' });
  }
  return list.sort((x, y) => (x.date < y.date ? -1 : x.date > y.date ? 1 : 0));
}
