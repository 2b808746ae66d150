import { frNumber } from '../reports/french.js';

export { frNumber };

/**
 * The words and numbers of alerts as crews read them (maintenance page, e-mail, work order):
 * French, with French number formats. Detectors and the alert manager build their sentences from
 * these, so a quantity is written the same way everywhere. Pure: no clock, no I/O.
 *
 * A no-break space sits between a number and its unit (« 12,5 W », « 80 % »), as French
 * typography wants and as the reports write them (reports/french.ts): the page never wraps a
 * unit away from its number.
 */

const NB = '\u00a0';

/** Watts, at most one decimal: `12.46` → « 12,5 W », `1520` → « 1 520 W ». */
export function watts(x: number): string {
  return `${frNumber(x, 1)}${NB}W`;
}

/** Volts, at most one decimal: « 230,4 V ». */
export function volts(x: number): string {
  return `${frNumber(x, 1)}${NB}V`;
}

/** A quantity already in percent (a dimming level, a tolerance): `80` → « 80 % ». */
export function percent(x: number, digits = 0): string {
  return `${frNumber(x, digits)}${NB}%`;
}

const signed = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 0, signDisplay: 'exceptZero' });

/** A deviation in percent, signed: « +30 % », « -15 % », « 0 % ». */
export function signedPercent(x: number): string {
  return `${signed.format(x)}${NB}%`;
}

const ratios = new Intl.NumberFormat('fr-FR', { minimumFractionDigits: 3, maximumFractionDigits: 3 });

/** A dimensionless ratio, three decimals: « 1,012 ». */
export function frRatio(x: number): string {
  return ratios.format(x);
}

/** A count with its noun; French takes the singular for 0 and 1: « 0 détection », « 3 relevés ». */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${frNumber(n, 1)} ${Math.abs(n) < 2 ? singular : plural}`;
}

/** Minutes, as thresholds are set: « 30 min ». */
export function minutes(n: number): string {
  return `${frNumber(n, 1)}${NB}min`;
}

/**
 * A length of time in its two largest units, rounded to the second: « 45 s », « 3 min 5 s »,
 * « 2 h 10 min », « 1 j 4 h ». A silence of 7 200 s is easier to act on as « 2 h ».
 */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const two = (a: number, ua: string, b: number, ub: string): string => (b > 0 ? `${a}${NB}${ua} ${b}${NB}${ub}` : `${a}${NB}${ua}`);
  if (s < 60) return `${s}${NB}s`;
  if (s < 3600) return two(Math.floor(s / 60), 'min', s % 60, 's');
  if (s < 86_400) return two(Math.floor(s / 3600), 'h', Math.floor((s % 3600) / 60), 'min');
  return two(Math.floor(s / 86_400), 'j', Math.floor((s % 86_400) / 3600), 'h');
}

/** « au niveau 60 % »: the dimming level the gateway applied. */
export function atLevel(level: number): string {
  return `au niveau ${percent(level)}`;
}

/** How long a condition must last: « sur 1 relevé », « pendant 3 relevés consécutifs ». */
export function inARow(n: number, noun = 'relevé'): string {
  return n < 2 ? `sur 1 ${noun}` : `pendant ${frNumber(n, 0)} ${noun}s consécutifs`;
}

/** Driver fault codes of the protocol (`fault` of a lamp reading), in words. */
export const FAULT_FR: Readonly<Record<string, string>> = Object.freeze({
  lamp_failure: 'lampe hors service',
  driver_failure: 'panne du driver',
  overheat: 'surchauffe',
  low_voltage: 'sous-tension',
  comm_failure: 'driver injoignable',
});

/** « surchauffe (overheat) »: the words, and the code a technician looks up in the driver's manual. */
export function faultFr(code: string): string {
  const words = FAULT_FR[code];
  return words ? `${words} (${code})` : code;
}

/** The expectation of every rule on driver codes. */
export const NO_FAULT = 'aucun code de défaut';

const dateTimes = new Map<string, Intl.DateTimeFormat>();

/** A date and time at the town's time zone: « 21 nov. 2025, 18:05 »; « — » when there is none. */
export function frDateTime(ts: number | null | undefined, timeZone: string): string {
  if (ts === null || ts === undefined) return '—';
  let f = dateTimes.get(timeZone);
  if (!f) dateTimes.set(timeZone, (f = new Intl.DateTimeFormat('fr-FR', { timeZone, dateStyle: 'medium', timeStyle: 'short' })));
  return f.format(ts);
}

/** The note of an alert that resolved itself: its fault has not been seen for `clearedForMs`. */
export function autoResolvedNote(clearedForMs: number): string {
  return `résolue automatiquement : défaut non constaté depuis ${duration(clearedForMs)}`;
}

/** The note of a lamp alert folded under its cabinet's outage. */
export function foldedNote(parentId: string, parentKindFr: string): string {
  return `regroupée sous l'alerte ${parentId} (${parentKindFr.toLowerCase()})`;
}

/** Who did it, in a history line: the controller's own transitions are `system` in the data. */
export function byFr(who: string): string {
  return who === 'system' ? 'Luciole (automatique)' : who;
}
