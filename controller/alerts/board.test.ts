import { describe, expect, it } from 'vitest';
import type { LampRecord } from '../inventory-schema.js';
import type { LampSample } from '../stores.js';
import { alertViewSchema, lampHistoryViewSchema, type AlertView } from '../views.js';
import { filterAlerts } from './alert-filter.js';
import { lampHistoryView } from './lamp-history.js';
import { workOrderHtml } from './work-order.js';

const T0 = Date.UTC(2026, 10, 20, 20, 0, 0);
const MIN = 60_000;

function alert(id: string, over: Partial<AlertView> = {}): AlertView {
  return alertViewSchema.parse({
    id,
    kind: 'lamp_failure',
    severity: 'major',
    state: 'open',
    cabinetId: 'ARM-01',
    lampId: 'L-1',
    openedAt: T0,
    lastSeen: T0,
    resolvedAt: null,
    count: 1,
    detail: 'lampe éteinte',
    ...over,
  });
}

describe('filterAlerts', () => {
  const zones: Record<string, string[]> = { 'L-1': ['centre'], 'L-2': ['parc'], 'ARM-01': ['centre', 'parc'] };
  const zonesOf = (a: AlertView) => new Set(zones[a.lampId ?? a.cabinetId] ?? []);
  const all = [
    alert('a'),
    alert('b', { state: 'acknowledged', lampId: 'L-2', severity: 'critical', openedAt: T0 + 10 * MIN }),
    alert('c', { state: 'resolved', kind: 'door_open', lampId: null, openedAt: T0 + 20 * MIN }),
    alert('d', { kind: 'cabinet_offline', lampId: null, cabinetId: 'ARM-09', openedAt: T0 + 30 * MIN }),
  ];
  const ids = (f: Parameters<typeof filterAlerts>[1]) => filterAlerts(all, f, zonesOf).map((a) => a.id);

  it('keeps every alert with no criterion, in the given order', () => {
    expect(ids({})).toEqual(['a', 'b', 'c', 'd']);
  });

  it('filters by state (active: open or acknowledged), kind, severity, age and limit', () => {
    expect(ids({ state: 'active' })).toEqual(['a', 'b', 'd']);
    expect(ids({ state: 'resolved' })).toEqual(['c']);
    expect(ids({ kind: 'door_open' })).toEqual(['c']);
    expect(ids({ severity: 'critical' })).toEqual(['b']);
    expect(ids({ since: T0 + 10 * MIN })).toEqual(['b', 'c', 'd']);
    expect(ids({ state: 'active', limit: 2 })).toEqual(['a', 'b']);
  });

  it("matches a zone through the lamp, or through the cabinet's lamps", () => {
    expect(ids({ zone: 'parc' })).toEqual(['b', 'c']);
    expect(ids({ zone: 'centre', state: 'active' })).toEqual(['a']);
    expect(ids({ zone: 'nowhere' })).toEqual([]);
  });
});

describe('lampHistoryView', () => {
  const samples: LampSample[] = [];
  for (let i = 0; i < 100; i++) samples.push({ ts: T0 + i * MIN, level: i < 50 ? 100 : 50, powerW: i === 70 ? 0.5 : i < 50 ? 30 : 15, energyWh: i, fault: i === 70 ? 'lamp_failure' : null });

  it('returns raw readings, oldest first, when they fit', () => {
    const v = lampHistoryView('L-1', T0, T0 + 100 * MIN, [...samples].reverse(), 200);
    expect(lampHistoryViewSchema.parse(v).bucketMs).toBeNull();
    expect(v.samples.map((s) => s.ts)).toEqual(samples.map((s) => s.ts));
  });

  it('averages into buckets beyond maxPoints, keeping a fault seen in a bucket', () => {
    const v = lampHistoryView('L-1', T0, T0 + 100 * MIN, samples, 10);
    expect(v.bucketMs).toBe(10 * MIN);
    expect(v.samples).toHaveLength(10);
    expect(v.samples[0]).toMatchObject({ level: 100, powerW: 30, fault: null });
    expect(v.samples[7]).toMatchObject({ level: 50, fault: 'lamp_failure' });
    expect(v.samples[7]!.powerW).toBeCloseTo((15 * 9 + 0.5) / 10, 2);
    expect(v.samples[0]!.ts).toBe(T0 + 5 * MIN);
  });
});

describe('workOrderHtml', () => {
  const lamp: LampRecord = {
    id: 'L-1',
    cabinetId: 'ARM-01',
    zone: 'centre',
    lat: 45.7641234,
    lon: 4.8357123,
    nominalPowerW: 35,
    baselinePowerW: null,
    neighbours: [],
  };

  it('gives a crew the lamp, its coordinates, the cabinet, the fault and the evidence, in French', () => {
    const a = alert('lamp_failure.L-1.x', {
      evidence: {
        rule: 'puissance < 3\u00a0W avec un niveau > 0 pendant 2 relevés consécutifs',
        expected: '≈ 30\u00a0W au niveau 100\u00a0%',
        measured: '0,5\u00a0W au niveau 100\u00a0%',
        window: { from: T0 - MIN, to: T0 },
        link: '/api/lamps/L-1/history?from=1&to=2',
      },
      history: [
        { at: T0, action: 'opened', by: 'system', note: null },
        { at: T0 + MIN, action: 'acknowledged', by: 'Claire (admin)', note: null },
      ],
    });
    const html = workOrderHtml({ alert: a, lamp, cabinet: { id: 'ARM-01', lat: 45.76, lon: 4.83 }, town: 'Ville', timeZone: 'Europe/Paris', now: T0 });
    expect(html).toContain('<html lang="fr">');
    expect(html).toMatch(/data-testid="wo-lamp">L-1</);
    expect(html).toContain('45.764123, 4.835712');
    expect(html).toMatch(/data-testid="wo-cabinet">ARM-01</);
    expect(html).toContain('Lampe éteinte (panne)');
    expect(html).toContain('<td>puissance &lt; 3\u00a0W avec un niveau &gt; 0 pendant 2 relevés consécutifs</td>');
    expect(html).toContain('<td>0,5\u00a0W au niveau 100\u00a0%</td>');
    expect(html).toContain('<td>35\u00a0W</td>');
    // The controller's own transitions are « system » in the data, named for people on paper.
    expect(html).toContain('<li>20 nov. 2026, 21:00 — ouverte par Luciole (automatique)</li>');
    expect(html).toContain('<li>20 nov. 2026, 21:01 — prise en charge par Claire (admin)</li>');
    expect(html).toContain('20 nov. 2026, 21:00');
  });

  it('escapes what gateways sent, so a detail cannot inject markup', () => {
    const a = alert('door_open.ARM-01.x', { kind: 'door_open', lampId: null, detail: '<script>alert(1)</script>" onload="x' });
    const html = workOrderHtml({ alert: a, lamp: null, cabinet: null, town: 'A & B', timeZone: 'Europe/Paris', now: T0 });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot; onload=&quot;x');
    expect(html).toContain('A &amp; B');
    expect(html).toContain('Pas de mesure jointe');
  });
});
