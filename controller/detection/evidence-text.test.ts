import { describe, expect, it } from 'vitest';
import type { LampReading } from '../../protocol/index.js';
import { active, CAB, detectorSet, MIN, NIGHT, run, series, street } from './testing.js';
import { evidenceSchema, type Finding, type LampInfo } from './types.js';

/**
 * What a maintenance crew reads of each finding (maintenance page, e-mail, work order): the
 * finding's `detail` and its evidence's rule, expected and measured values, in French with
 * French numbers (« 0,5 W », « 60 % », a no-break space before the unit).
 */

const lamps = street(6); // L-1 … L-6, nominal 35 … 40 W
const H = 60 * MIN;
const evening = NIGHT.dusk + 30 * MIN;
const noon = NIGHT.windowEnd;
const t0 = evening + H;

function only(id: string, f: (l: LampInfo, r: LampReading, ts: number) => LampReading | null) {
  return (l: LampInfo, r: LampReading, ts: number): LampReading | null => (l.id === id ? f(l, r, ts) : r);
}

/** The text of a finding, NBSP shown as `~` so the expectations below stay readable. */
function text(f: Finding | undefined): { detail: string; rule?: string; expected?: string; measured?: string } {
  if (!f) throw new Error('no finding');
  const n = (s: string): string => s.replaceAll('\u00a0', '~');
  return {
    detail: n(f.detail),
    ...(f.evidence ? { rule: n(f.evidence.rule), expected: n(f.evidence.expected), measured: n(f.evidence.measured) } : {}),
  };
}

function sensorFindings(perHour: (sensor: string) => number): Finding[] {
  const sensorLamps = street(12);
  const d = detectorSet(sensorLamps);
  const out: Finding[] = [];
  for (const lampId of ['L-2', 'L-4', 'L-6', 'L-8', 'L-10']) {
    const s = `S-${lampId}`;
    d.registerSensor(s, lampId);
    const n = perHour(s) * 2;
    for (let i = 0; i < n; i++) {
      const ts = evening + Math.floor(((i + 0.5) * 2 * H) / n);
      d.presence(CAB, { v: 1, ts, sensorId: s, lampId, kind: 'pedestrian', count: 1 }, ts);
    }
  }
  for (let t = evening; t <= evening + 2 * H; t += 5 * MIN) out.push(...d.tick(t));
  return out;
}

/** One scenario per kind; every finding it gives, active and cleared. */
const scenarios: Record<string, () => Finding[]> = {
  lamp_failure: () =>
    run(detectorSet(lamps), series({ lamps, from: evening, to: t0 + 10 * MIN, tamper: only('L-3', (_l, r, ts) => (ts >= t0 && ts < t0 + 5 * MIN ? { ...r, powerW: 0.5 } : r)) })),
  lamp_failure_code: () =>
    run(detectorSet(lamps), series({ lamps, from: evening, to: evening + 2 * MIN, tamper: only('L-1', (_l, r, ts) => (ts === evening ? { ...r, fault: 'lamp_failure', powerW: 0.5 } : r)) })),
  driver_fault: () =>
    run(detectorSet(lamps), series({ lamps, from: evening, to: evening + 2 * MIN, tamper: only('L-2', (_l, r, ts) => (ts === evening ? { ...r, fault: 'overheat', powerW: 20 } : r)) })),
  day_burner: () =>
    run(detectorSet(lamps), series({ lamps, from: noon, to: noon + 10 * MIN, level: () => 0, tamper: only('L-2', (_l, r, ts) => (ts < noon + 5 * MIN ? { ...r, powerW: 30 } : r)) })),
  cycling: () =>
    run(
      detectorSet(lamps),
      series({ lamps, from: evening, to: t0 + 20 * MIN, tamper: only('L-4', (_l, r, ts) => (ts >= t0 && Math.floor((ts - t0) / MIN) % 2 === 1 ? { ...r, powerW: 0.5 } : r)) }),
    ),
  power_high: () =>
    run(detectorSet(lamps), series({ lamps, from: evening, to: t0 + 10 * MIN, tamper: only('L-5', (_l, r, ts) => (ts >= t0 && ts < t0 + 5 * MIN ? { ...r, powerW: 0.5 + (r.powerW - 0.5) * 1.3 } : r)) })),
  power_low: () =>
    run(detectorSet(lamps), series({ lamps, from: evening, to: t0 + 10 * MIN, tamper: only('L-5', (_l, r, ts) => (ts >= t0 ? { ...r, powerW: 0.5 + (r.powerW - 0.5) * 0.7 } : r)) })),
  voltage: () =>
    run(detectorSet(lamps), series({ lamps, from: evening, to: evening + 15 * MIN, cabinet: (s, ts) => ({ voltageV: ts >= evening + 10 * MIN ? 200 : 252, powerW: s + 4 }) })),
  cabinet_meter_mismatch: () =>
    run(detectorSet(lamps), series({ lamps, from: evening, to: t0 + 10 * MIN, cabinet: (s, ts) => ({ voltageV: 230, powerW: s + 4 + (ts >= t0 ? 1520 : 3) }) })),
  no_data: () => run(detectorSet(lamps), series({ lamps, from: evening, to: t0 + 10 * MIN, tamper: only('L-6', (_l, r, ts) => (ts >= t0 && ts < t0 + 5 * MIN ? null : r)) })),
  cabinet_offline: () => {
    const d = detectorSet(lamps);
    const fs = run(d, series({ lamps, from: evening, to: evening + 5 * MIN }));
    const last = evening + 4 * MIN + 500;
    return [...fs, ...d.tick(last + 2 * H + 65_000), ...d.status(CAB, { v: 1, online: false }, last + 3 * H)];
  },
  door_open: () => {
    const d = detectorSet(lamps);
    return [...d.event(CAB, { v: 1, ts: evening, code: 'door_open', detail: 'contact de porte' }, evening), ...d.event(CAB, { v: 1, ts: evening + MIN, code: 'door_closed' }, evening + MIN)];
  },
  power_cut: () => {
    const d = detectorSet(lamps);
    return [...d.event(CAB, { v: 1, ts: evening, code: 'power_cut' }, evening), ...d.event(CAB, { v: 1, ts: evening + MIN, code: 'power_restored' }, evening + MIN)];
  },
  sensor_stuck_never: () => sensorFindings((s) => (s === 'S-L-6' ? 0 : 30)),
  sensor_stuck_always: () => sensorFindings((s) => (s === 'S-L-4' ? 1800 : 30)),
};

const first = (name: string, kind: string): Finding | undefined => active(scenarios[name]!(), kind)[0];

describe('what a crew reads: finding and evidence, in French', () => {
  it('lamp_failure from power, and from the driver code', () => {
    // L-3: 37 W nominal at 60 %: 0,5 + 37 × 0,6 / (0,8 + 0,2 √0,6) ≈ 23,7 W; dark below 10 % of it.
    expect(text(first('lamp_failure', 'lamp_failure'))).toEqual({
      detail: 'lampe éteinte alors que commandée à 60~% (0,5~W)',
      rule: 'puissance < 2,4~W avec un niveau > 0 pendant 2 relevés consécutifs',
      expected: '≈ 23,7~W au niveau 60~%',
      measured: '0,5~W au niveau 60~%',
    });
    expect(text(first('lamp_failure_code', 'lamp_failure'))).toEqual({
      detail: 'le driver signale la lampe hors service (code lamp_failure) : 0,5~W au niveau 60~%',
      rule: 'le driver envoie le code de défaut lamp_failure',
      expected: 'aucun code de défaut',
      measured: 'lampe hors service (lamp_failure), 0,5~W au niveau 60~%',
    });
  });

  it('driver_fault names the fault in words and keeps the code for the driver manual', () => {
    expect(text(first('driver_fault', 'driver_fault'))).toEqual({
      detail: 'défaut du driver : surchauffe (overheat)',
      rule: 'le driver envoie un code de défaut driver_failure, overheat ou low_voltage',
      expected: 'aucun code de défaut',
      measured: 'surchauffe (overheat), 20~W au niveau 60~%',
    });
  });

  it('day_burner, cycling', () => {
    expect(text(first('day_burner', 'day_burner'))).toEqual({
      detail: 'lampe allumée en plein jour (30~W, niveau 0~%)',
      rule: 'puissance > 3~W entre le lever du soleil + 30~min et le coucher − 30~min, sans forçage, pendant 2 relevés consécutifs',
      expected: '≤ 3~W (éteinte le jour)',
      measured: '30~W au niveau 0~%',
    });
    expect(text(first('cycling', 'cycling'))).toEqual({
      detail: "lampe qui s'éteint et se rallume seule : 4 basculements en 60~min",
      rule: '≥ 4 basculements allumée/éteinte en 60~min, la passerelle la commandant allumée (niveau > 0)',
      expected: '< 4 basculements',
      measured: '4 basculements',
    });
  });

  it('power_high and power_low, with the signed deviation', () => {
    // L-5: 39 W nominal at 60 %, learnt ratio 1 (the series' spread for L-5 is 1): 0,5 + 39 × 0,6283 ≈ 25 W.
    expect(text(first('power_high', 'power_high'))).toEqual({
      detail: 'puissance trop élevée : 32,4~W au lieu de 25~W (+30~%)',
      rule: 'écart à la puissance attendue > 15~% à niveau stable pendant 3 relevés consécutifs',
      expected: '25~W au niveau 60~% (coefficient propre de la lampe 1,000)',
      measured: '32,4~W (+30~%)',
    });
    expect(text(first('power_low', 'power_low'))).toMatchObject({
      detail: 'puissance trop faible : 17,7~W au lieu de 25~W (-30~%)',
      measured: '17,7~W (-30~%)',
    });
  });

  it('cabinet checks: voltage, meter, missing lamp', () => {
    expect(text(first('voltage', 'voltage'))).toEqual({
      detail: "tension d'alimentation hors tolérance : 200~V",
      rule: "tension d'alimentation hors de 207~V – 253~V pendant 2 relevés consécutifs",
      expected: '230~V ± 10~%',
      measured: '200~V',
    });
    // Thousands get a narrow no-break space, as Intl writes French.
    expect(text(first('cabinet_meter_mismatch', 'cabinet_meter_mismatch'))).toEqual({
      detail: "le compteur de l'armoire dépasse de 1\u202f519~W la somme des lampes et de l'armoire",
      rule: "compteur − (Σ lampes + 5~W propres à l'armoire) > 15~W + 5~% de Σ lampes, pendant 3 relevés consécutifs",
      expected: '≤ 171,6~W (Σ lampes 144,4~W)',
      measured: '1\u202f668,4~W',
    });
    expect(text(first('no_data', 'no_data'))).toEqual({
      detail: "aucune mesure de la lampe dans les 3 derniers messages de l'armoire",
      rule: 'lampe absente de la télémesure de son armoire pendant 3 messages consécutifs',
      expected: 'une mesure de la lampe dans chaque message',
      measured: 'absente de 3 messages',
    });
  });

  it('cabinet_offline: a silence in hours and minutes, and a Last Will', () => {
    const [silent, will] = active(scenarios.cabinet_offline!(), 'cabinet_offline');
    expect(text(silent)).toEqual({
      detail: "aucun message de l'armoire depuis 2~h 1~min",
      rule: 'aucun message pendant plus de 3 périodes de télémesure',
      expected: 'un message au moins par période de 1~min',
      measured: 'aucun message depuis 2~h 1~min',
    });
    expect(text(will)).toEqual({
      detail: 'connexion de la passerelle perdue (message Last Will du broker MQTT)',
      rule: 'la passerelle s\'est déconnectée sans prévenir : le broker MQTT a publié son Last Will {"online":false}',
      expected: 'passerelle en ligne',
      measured: 'passerelle hors ligne (Last Will reçu)',
    });
  });

  it('door and mains events, and their ends (the note of an alert that closes at once)', () => {
    const door = scenarios.door_open!();
    expect(text(active(door)[0])).toEqual({
      detail: "porte de l'armoire ouverte (contact de porte)",
      rule: "la passerelle envoie l'événement door_open",
      expected: 'porte fermée',
      measured: "porte de l'armoire ouverte (événement door_open)",
    });
    expect(text(door.find((f) => f.kind === 'door_open' && !f.active))).toEqual({ detail: "porte de l'armoire fermée" });
    const cut = scenarios.power_cut!();
    expect(text(active(cut)[0])).toMatchObject({ detail: "coupure d'alimentation de l'armoire", expected: 'secteur présent' });
    expect(text(cut.find((f) => f.kind === 'power_cut' && !f.active))).toEqual({ detail: 'alimentation rétablie' });
  });

  it('sensor_stuck, silent and chattering (the verdict once the hour is full of data)', () => {
    const last = (name: string): Finding | undefined => active(scenarios[name]!(), 'sensor_stuck').at(-1);
    expect(text(last('sensor_stuck_never'))).toEqual({
      detail: 'capteur S-L-6 muet alors que ses voisins détectent 30 passages en 60~min (médiane)',
      rule: "aucune détection en 60~min alors que les capteurs voisins (jusqu'à 6 lampes de distance) en ont une médiane ≥ 15",
      expected: 'comparable aux voisins (médiane 30, maximum 30)',
      measured: '0 détection',
    });
    expect(text(last('sensor_stuck_always'))).toEqual({
      detail: 'capteur S-L-4 bloqué : 1\u202f800 détections en 60~min contre 30 au plus chez ses voisins',
      rule: '≥ 300 détections en 60~min, et ≥ 5 fois le voisin le plus actif',
      expected: 'comparable aux voisins (médiane 30, maximum 30)',
      measured: '1\u202f800 détections',
    });
  });

  it('no finding of any detector carries English words or a decimal point, and every evidence fits the alert view', () => {
    const english = /\b(at|level|readings?|switch(es)?|lamps?|power|expected|measured|detections?|messages? every|online|offline|silent|event|neighbours?|absent from|fault =|door closed|mains)\b/i;
    let n = 0;
    for (const [name, scenario] of Object.entries(scenarios)) {
      const fs = scenario();
      expect(fs.some((f) => f.active), name).toBe(true);
      expect(fs.some((f) => !f.active), name).toBe(true);
      for (const f of fs) {
        const texts = [f.detail, ...(f.evidence ? [f.evidence.rule, f.evidence.expected, f.evidence.measured] : [])];
        for (const s of texts) {
          n++;
          // Protocol literals quoted as such ({"online":false}) are not prose.
          expect(s.replace(/\{[^}]*\}/g, ''), `${name}: ${s}`).not.toMatch(english);
          expect(s, `${name}: ${s}`).not.toMatch(/\d\.\d/);
        }
        if (f.evidence) expect(evidenceSchema.parse(f.evidence)).toEqual(f.evidence);
      }
    }
    expect(n).toBeGreaterThan(100);
  });
});
