import type { PresenceRecord, TelemetryRecord } from '../stores.js';

/**
 * The InfluxDB data model (1.x and 2.x alike), as line protocol built by hand: one string
 * concatenation per lamp, no intermediate objects (the `influx` client costs ~3 µs a point, which
 * on a 2-core machine shared with influxd is the difference between reaching the server's write
 * ceiling or not).
 *
 *   lamp,cabinet=C1,lamp=LYS-0001[,zone=Z] level=40,power_w=21.4,energy_wh=183442.1,seq=4711i[,fault="overheat"] <ts ms>
 *   cabinet,cabinet=C1 seq=4711i,lamps=42i,period_s=60i[,voltage_v=..,power_w=..,energy_wh=..] <ts ms>
 *   presence,cabinet=C1,kind=pedestrian,lamp=LYS-0003,sensor=S-12[,zone=Z] count=1i <ts ms>
 *
 * Exactly once by construction: a point is a pure function of the message (no receive time, no
 * value computed against earlier writes), and InfluxDB keys a point by series (measurement + tag
 * set) and timestamp. A message sent again (gateway outbox replay, a write retried after a timeout,
 * a spill segment re-sent after a crash) therefore overwrites itself with identical values: stored
 * once, whatever the order. Energy is computed at query time from the cumulative counters.
 *
 * Tags are bounded sets only: cabinet, lamp, zone (inventory), sensor (inventory), kind (an enum).
 * seq, levels, power and energy are fields. `level` and the meter values are always floats and the
 * counts and seq always integers (`i`), so a value like 40 never creates a field-type conflict.
 */

export const MEASUREMENT = { lamp: 'lamp', cabinet: 'cabinet', presence: 'presence' } as const;

/** lamp id → zone name, from the inventory; optional (no zone tag without it). */
export type LampZones = ReadonlyMap<string, string>;

// Tag keys and values: escape comma, space, equals sign (and backslash).
const TAG_SPECIAL = /[,= \\\n]/;
export function escapeTag(v: string): string {
  return TAG_SPECIAL.test(v) ? v.replace(/\\/g, '\\\\').replace(/([,= ])/g, '\\$1').replace(/\n/g, '\\n') : v;
}

export function escapeFieldString(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function float(v: number): string {
  // Line protocol floats: plain decimal or exponent; a non-finite value is refused by the schema upstream.
  return String(v);
}

function zoneTag(zones: LampZones | undefined, lampId: string): string {
  const z = zones?.get(lampId);
  return z ? `,zone=${escapeTag(z)}` : '';
}

/** Appends the lines of one telemetry message to `out`; returns the number of lamp samples. */
export function telemetryLines(rec: TelemetryRecord, zones: LampZones | undefined, out: string[]): number {
  const cab = escapeTag(rec.cabinetId);
  const ts = String(Math.trunc(rec.ts));
  const seq = `,seq=${Math.trunc(rec.seq)}i`;
  let meter = '';
  if (rec.cabinet) {
    const c = rec.cabinet;
    if (c.voltageV !== undefined && Number.isFinite(c.voltageV)) meter += `,voltage_v=${float(c.voltageV)}`;
    if (c.powerW !== undefined && Number.isFinite(c.powerW)) meter += `,power_w=${float(c.powerW)}`;
    if (c.energyWh !== undefined && Number.isFinite(c.energyWh)) meter += `,energy_wh=${float(c.energyWh)}`;
  }
  out.push(
    `cabinet,cabinet=${cab} seq=${Math.trunc(rec.seq)}i,lamps=${rec.lamps.length}i,period_s=${Math.trunc(rec.periodS)}i${meter} ${ts}`,
  );
  const head = `lamp,cabinet=${cab},lamp=`;
  for (const l of rec.lamps) {
    const fault = l.fault === null ? '' : `,fault=${escapeFieldString(l.fault)}`;
    out.push(
      `${head}${escapeTag(l.id)}${zoneTag(zones, l.id)} level=${float(l.level)},power_w=${float(l.powerW)},energy_wh=${float(l.energyWh)}${seq}${fault} ${ts}`,
    );
  }
  return rec.lamps.length;
}

export function presenceLine(p: PresenceRecord, zones: LampZones | undefined): string {
  return (
    `presence,cabinet=${escapeTag(p.cabinetId)},kind=${escapeTag(p.kind)},lamp=${escapeTag(p.lampId)},` +
    `sensor=${escapeTag(p.sensorId)}${zoneTag(zones, p.lampId)} count=${Math.trunc(p.count)}i ${Math.trunc(p.ts)}`
  );
}
