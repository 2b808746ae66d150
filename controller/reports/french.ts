import { DateTime } from 'luxon';

/**
 * French number and date formats for the server's documents (notes, CSV for spreadsheets, PDF):
 * comma decimals, spaces between thousands, « 21 novembre 2025 ».
 */

const formats = new Map<number, Intl.NumberFormat>();

/** `1234.5` → `1 234,5` (narrow no-break space between thousands, as Intl writes French). */
export function frNumber(n: number, digits = 1): string {
  let f = formats.get(digits);
  if (!f) formats.set(digits, (f = new Intl.NumberFormat('fr-FR', { minimumFractionDigits: 0, maximumFractionDigits: digits })));
  return f.format(n);
}

/** Null shows as an em dash: nothing measured, or nothing to compare with. */
export const frOrDash = (n: number | null, digits = 1, unit = ''): string => (n === null ? '—' : `${frNumber(n, digits)}${unit ? `\u00a0${unit}` : ''}`);

/** `2025-11-21` → `21 novembre 2025`. */
export function frDate(date: string): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).setLocale('fr').toFormat('d MMMM yyyy');
}

/** `2025-11-21` → `21/11/2025`. */
export function frShortDate(date: string): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).toFormat('dd/MM/yyyy');
}

/** The period in words: « nuit du 21 novembre 2025 », « du 1 novembre 2025 au 30 novembre 2025 ». */
export function frPeriod(from: string, to: string): string {
  return from === to ? `nuit du ${frDate(from)}` : `nuits du ${frDate(from)} au ${frDate(to)}`;
}
