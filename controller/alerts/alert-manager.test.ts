import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isDark } from '../../core/astro.js';
import { LucioleError } from '../../core/errors.js';
import type { Finding } from '../detection/types.js';
import { CAB, lineNeighbours, MIN, NIGHT, SITE, street } from '../detection/testing.js';
import { openConfigStore } from '../config-store.js';
import { alertId } from './alert-id.js';
import { alertViewSchema, type AlertView } from '../views.js';
import { AlertManager, type AlertChange, type AlertManagerOptions } from './alert-manager.js';

const lamps = street(8);
const evening = NIGHT.dusk + 60 * MIN;
const noon = NIGHT.windowEnd;

function setup(opts: Partial<AlertManagerOptions> = {}) {
  const changes: Array<{ alert: AlertView; change: AlertChange }> = [];
  const m = new AlertManager({
    neighbours: lineNeighbours(lamps),
    isNight: (t) => isDark(SITE, t),
    onChange: (alert, change) => changes.push({ alert, change }),
    ...opts,
  });
  return { m, changes };
}

const dark = (lampId: string, at: number, active = true): Finding => ({
  kind: 'lamp_failure',
  cabinetId: CAB,
  lampId,
  active,
  at,
  detail: active ? 'lampe éteinte alors que commandée à 60\u00a0% (0,5\u00a0W)' : 'lampe allumée',
  ...(active
    ? {
        evidence: {
          rule: 'puissance < 2\u00a0W avec un niveau > 0 pendant 2 relevés consécutifs',
          expected: '≈ 20\u00a0W au niveau 60\u00a0%',
          measured: '0,5\u00a0W au niveau 60\u00a0%',
          window: { from: at - MIN, to: at },
          link: `/api/lamps/${lampId}/history?from=1&to=2`,
        },
      }
    : {}),
});
const cabinet = (kind: Finding['kind'], at: number, active = true): Finding => ({ kind, cabinetId: CAB, lampId: null, active, at, detail: kind });

describe('AlertManager', () => {
  it('keeps one open alert per (kind, lamp): repeats bump lastSeen and count, told at most once a minute', () => {
    const { m, changes } = setup();
    for (let i = 0; i < 10; i++) m.apply([dark('L-1', evening + i * 20_000)], evening + i * 20_000);
    const open = m.list();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ kind: 'lamp_failure', lampId: 'L-1', count: 10, openedAt: evening, lastSeen: evening + 180_000, state: 'open' });
    expect(open[0]!.evidence).toMatchObject({ rule: 'puissance < 2\u00a0W avec un niveau > 0 pendant 2 relevés consécutifs', measured: '0,5\u00a0W au niveau 60\u00a0%' });
    expect(changes.filter((c) => c.change === 'opened')).toHaveLength(1);
    expect(changes.filter((c) => c.change === 'updated').length).toBeLessThanOrEqual(3);
    expect(alertViewSchema.parse(open[0])).toEqual(open[0]);
  });

  it('open → acknowledged (who) → resolved (who, note), with the history; wrong transitions are refused', () => {
    const { m } = setup();
    m.apply([dark('L-1', evening)], evening);
    const id = m.list()[0]!.id;
    expect(m.acknowledge(id, 'claire', evening + MIN)).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'claire', acknowledgedAt: evening + MIN });
    expect(() => m.acknowledge(id, 'claire', evening + MIN)).toThrow(LucioleError);
    expect(() => m.acknowledge(id, 'claire', evening + MIN)).toThrow(`l'alerte ${id} est déjà prise en charge : seule une alerte ouverte peut être prise en charge`);
    m.apply([dark('L-1', evening + 2 * MIN)], evening + 2 * MIN);
    expect(m.get(id)).toMatchObject({ state: 'acknowledged', count: 2 });
    const r = m.resolve(id, 'marc', 'lampe remplacée', evening + 3 * MIN);
    expect(r).toMatchObject({ state: 'resolved', resolvedBy: 'marc', note: 'lampe remplacée', resolvedAt: evening + 3 * MIN });
    expect(r.history!.map((h) => [h.action, h.by])).toEqual([
      ['opened', 'system'],
      ['acknowledged', 'claire'],
      ['resolved', 'marc'],
    ]);
    expect(() => m.resolve(id, 'marc', null, evening + 4 * MIN)).toThrow(`l'alerte ${id} est déjà résolue`);
    expect(() => m.resolve('nope', 'marc', null, evening)).toThrow('aucune alerte nope');
    expect(m.list()).toEqual([]);
  });

  it('resolves itself once the condition has cleared for the configured time, and reopens if it comes back', () => {
    const { m, changes } = setup({ autoResolveMs: 10 * MIN });
    m.apply([dark('L-2', evening)], evening);
    const id = m.list()[0]!.id;
    m.apply([dark('L-2', evening + MIN, false)], evening + MIN);
    m.tick(evening + 10 * MIN);
    expect(m.get(id)!.state).toBe('open');
    m.tick(evening + 11 * MIN);
    // Cleared at +1 min, resolved at the tick of +11 min: the note says for how long, in words.
    expect(m.get(id)).toMatchObject({ state: 'resolved', resolvedBy: 'system', note: 'résolue automatiquement : défaut non constaté depuis 10\u00a0min' });
    m.apply([dark('L-2', evening + 30 * MIN)], evening + 30 * MIN);
    expect(m.get(id)).toMatchObject({ state: 'open', count: 2, resolvedAt: null });
    expect(m.list().map((a) => a.id)).toEqual([id]);
    expect(changes.map((c) => c.change)).toEqual(['opened', 'resolved', 'reopened']);
    expect(m.get(id)!.history!.map((h) => h.action)).toEqual(['opened', 'resolved', 'reopened']);
  });

  it('a condition seen again before the delay keeps the alert open', () => {
    const { m } = setup({ autoResolveMs: 10 * MIN });
    m.apply([dark('L-2', evening)], evening);
    m.apply([dark('L-2', evening + MIN, false)], evening + MIN);
    m.apply([dark('L-2', evening + 5 * MIN)], evening + 5 * MIN);
    m.tick(evening + 20 * MIN);
    expect(m.list()).toHaveLength(1);
  });

  it('folds a cabinet power cut and its lamps into one alert', () => {
    const { m, changes } = setup();
    m.apply([dark('L-1', evening - MIN)], evening - MIN);
    m.apply([cabinet('power_cut', evening)], evening);
    m.apply(lamps.map((l) => dark(l.id, evening + MIN)), evening + MIN);
    const open = m.list();
    expect(open).toHaveLength(1);
    expect(open[0]!.kind).toBe('power_cut');
    expect(open[0]!.folded!.map((f) => f.lampId).sort()).toEqual(lamps.map((l) => l.id).sort());
    const early = changes.find((c) => c.alert.lampId === 'L-1' && c.change === 'resolved')!.alert;
    expect(early).toMatchObject({ parentId: open[0]!.id, state: 'resolved', note: `regroupée sous l'alerte ${open[0]!.id} (coupure secteur)` });
    // Mains back, but L-3 really is broken: its alert opens on its own.
    m.apply([cabinet('power_cut', evening + 20 * MIN, false)], evening + 20 * MIN);
    m.apply([dark('L-3', evening + 21 * MIN)], evening + 21 * MIN);
    expect(m.list().map((a) => [a.kind, a.lampId])).toEqual([['lamp_failure', 'L-3']]);
  });

  it('rates three adjacent dark lamps critical, two apart major, and lowers it when one is fixed', () => {
    const { m } = setup();
    m.apply([dark('L-1', evening), dark('L-5', evening)], evening);
    expect(m.list().map((a) => a.severity)).toEqual(['major', 'major']);
    m.apply([dark('L-2', evening + MIN), dark('L-3', evening + MIN)], evening + MIN);
    const sev = (id: string) => m.openAlert('lamp_failure', id)!.severity;
    expect(['L-1', 'L-2', 'L-3'].map(sev)).toEqual(['critical', 'critical', 'critical']);
    expect(sev('L-5')).toBe('major');
    m.resolve(m.openAlert('lamp_failure', 'L-2')!.id, 'marc', null, evening + 2 * MIN);
    expect(['L-1', 'L-3'].map(sev)).toEqual(['major', 'major']);
  });

  it('rates a cabinet offline critical at night, major by day, and escalates it at nightfall', () => {
    const { m, changes } = setup();
    m.apply([cabinet('cabinet_offline', evening)], evening);
    expect(m.list()[0]!.severity).toBe('critical');
    const { m: day, changes: dc } = setup();
    const afternoon = NIGHT.dusk - 60 * MIN;
    day.apply([cabinet('cabinet_offline', afternoon)], afternoon);
    expect(day.list()[0]!.severity).toBe('major');
    day.tick(NIGHT.dusk + MIN);
    expect(day.list()[0]!.severity).toBe('critical');
    expect(dc.at(-1)!.change).toBe('escalated');
    // Cleared by the next message: resolved at once (no delay for an explicit end).
    m.apply([cabinet('cabinet_offline', evening + MIN, false)], evening + MIN);
    expect(m.list()).toEqual([]);
    expect(changes.at(-1)!.change).toBe('resolved');
    expect(isDark(SITE, noon)).toBe(false);
  });

  it('takes over the open cabinet_offline alerts saved before a restart', () => {
    const saved: AlertView = {
      id: alertId('cabinet_offline', CAB, evening),
      kind: 'cabinet_offline',
      severity: 'critical',
      state: 'open',
      cabinetId: CAB,
      lampId: null,
      openedAt: evening,
      lastSeen: evening,
      resolvedAt: null,
      count: 1,
      detail: 'connexion de la passerelle perdue (message Last Will du broker MQTT)',
    };
    const { m, changes } = setup();
    m.restore([saved, { ...saved, id: 'x.resolved', state: 'resolved', resolvedAt: evening }]);
    expect(m.list()).toHaveLength(1);
    m.apply([cabinet('cabinet_offline', evening + MIN)], evening + MIN);
    expect(m.list()[0]).toMatchObject({ id: saved.id, count: 2 });
    m.apply([cabinet('cabinet_offline', evening + 2 * MIN, false)], evening + 2 * MIN);
    expect(changes.at(-1)).toMatchObject({ change: 'resolved', alert: { id: saved.id, state: 'resolved' } });
  });
});

describe('AlertManager with the config store', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('keeps the full history in SQLite, resolved episodes included', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-alerts-'));
    dirs.push(dir);
    const store = openConfigStore(path.join(dir, 'config.db'));
    try {
      const m = new AlertManager({
        neighbours: lineNeighbours(lamps),
        isNight: (t) => isDark(SITE, t),
        onChange: (a) => store.saveAlert(a),
        reopenWithinMs: 10 * MIN,
      });
      m.apply([dark('L-1', evening)], evening);
      m.resolve(m.list()[0]!.id, 'marc', 'réparée', evening + MIN);
      m.tick(evening + 60 * MIN);
      m.apply([dark('L-1', evening + 61 * MIN)], evening + 61 * MIN);
      const all = store.alerts();
      expect(all).toHaveLength(2);
      expect(all.map((a) => a.state).sort()).toEqual(['open', 'resolved']);
      expect(all.find((a) => a.state === 'resolved')).toMatchObject({ resolvedBy: 'marc', note: 'réparée' });
    } finally {
      store.close();
    }
  });
});
