import { describe, expect, it } from 'vitest';
import {
  atLevel,
  autoResolvedNote,
  byFr,
  count,
  duration,
  faultFr,
  foldedNote,
  frDateTime,
  frRatio,
  inARow,
  minutes,
  percent,
  signedPercent,
  volts,
  watts,
} from './alert-text.js';

/** NBSP (before units) shown as `~`, NNBSP (between thousands, as Intl writes French) as `_`. */
const show = (s: string): string => s.replaceAll('\u00a0', '~').replaceAll('\u202f', '_');

describe('alert text: French numbers with their units', () => {
  it('writes watts and volts with a decimal comma, one decimal at most, thousands apart', () => {
    expect([watts(12.46), watts(0.5), watts(25), watts(1520.34), watts(0)].map(show)).toEqual(['12,5~W', '0,5~W', '25~W', '1_520,3~W', '0~W']);
    expect([volts(230.44), volts(200), volts(196.5)].map(show)).toEqual(['230,4~V', '200~V', '196,5~V']);
  });

  it('writes percentages, signed deviations and ratios', () => {
    expect([percent(80), percent(15.4), percent(5.25, 1)].map(show)).toEqual(['80~%', '15~%', '5,3~%']);
    expect([signedPercent(30), signedPercent(-15), signedPercent(0)].map(show)).toEqual(['+30~%', '-15~%', '0~%']);
    expect([frRatio(1), frRatio(1.01234), frRatio(0.9)]).toEqual(['1,000', '1,012', '0,900']);
    expect(show(atLevel(60))).toBe('au niveau 60~%');
  });

  it('counts with French plurals (0 and 1 singular) and says how long a rule must hold', () => {
    expect([count(0, 'détection'), count(1, 'détection'), count(2, 'détection'), count(1800, 'détection')].map(show)).toEqual([
      '0 détection',
      '1 détection',
      '2 détections',
      '1_800 détections',
    ]);
    expect(count(3, "changement d'alerte", "changements d'alertes")).toBe("3 changements d'alertes");
    expect([inARow(1), inARow(3), inARow(2, 'message')]).toEqual(['sur 1 relevé', 'pendant 3 relevés consécutifs', 'pendant 2 messages consécutifs']);
    expect(show(minutes(30))).toBe('30~min');
  });

  it('writes a length of time in its two largest units', () => {
    const s = 1000;
    expect([0, 44_600, 60 * s, 185 * s, 3600 * s, 7_265 * s, 86_400 * s, 90_000 * s, -5 * s].map((ms) => show(duration(ms)))).toEqual([
      '0~s',
      '45~s',
      '1~min',
      '3~min 5~s',
      '1~h',
      '2~h 1~min',
      '1~j',
      '1~j 1~h',
      '0~s',
    ]);
  });
});

describe('alert text: words', () => {
  it('names driver fault codes in words and keeps the code; an unknown code stays as sent', () => {
    expect(faultFr('overheat')).toBe('surchauffe (overheat)');
    expect(faultFr('driver_failure')).toBe('panne du driver (driver_failure)');
    expect(faultFr('low_voltage')).toBe('sous-tension (low_voltage)');
    expect(faultFr('lamp_failure')).toBe('lampe hors service (lamp_failure)');
    expect(faultFr('comm_failure')).toBe('driver injoignable (comm_failure)');
    expect(faultFr('x_new_code')).toBe('x_new_code');
  });

  it('dates at the town time zone, the dash for none', () => {
    const t = Date.UTC(2025, 10, 21, 20, 0, 0);
    expect(frDateTime(t, 'Europe/Paris')).toBe('21 nov. 2025, 21:00');
    expect(frDateTime(t, 'America/Cayenne')).toBe('21 nov. 2025, 17:00');
    expect(frDateTime(null, 'Europe/Paris')).toBe('—');
  });

  it('writes the alert manager notes and who acted', () => {
    expect(show(autoResolvedNote(15 * 60_000))).toBe('résolue automatiquement : défaut non constaté depuis 15~min');
    expect(foldedNote('power_cut.ARM-01.abc', 'Coupure secteur')).toBe("regroupée sous l'alerte power_cut.ARM-01.abc (coupure secteur)");
    expect(byFr('system')).toBe('Luciole (automatique)');
    expect(byFr('Claire (admin)')).toBe('Claire (admin)');
  });
});
