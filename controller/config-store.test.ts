import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LucioleError } from '../core/errors.js';
import { openConfigStore } from './config-store.js';
import type { TownPlan } from './plan.js';
import type { ConfigStore } from './stores.js';
import type { AlertView } from './views.js';

function feature(id: string, cabinetId: string, lon: number, lat: number, extra: Record<string, unknown> = {}): unknown {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [lon, lat] },
    properties: { id, cabinetId, zone: 'centre', nominalPowerW: 30, ...extra },
  };
}

const inventory = (features: unknown[]): unknown => ({ type: 'FeatureCollection', features });

const baseFeatures = (): unknown[] => [
  feature('L1', 'C1', 4.83, 45.76),
  feature('L2', 'C1', 4.8301, 45.7601),
  feature('L3', 'C2', 4.84, 45.77, { zone: 'parc', baselinePowerW: 150 }),
];

const plan = (id = 'plan-a'): TownPlan => ({
  id,
  failsafeLevel: 100,
  profiles: { residential: { schedule: [{ from: 'dusk', to: 'dawn', level: 50 }] } },
  zones: { centre: 'residential' },
  defaultProfile: 'residential',
});

describe('openConfigStore', () => {
  let dir: string;
  let file: string;
  let t: number;
  let store: ConfigStore;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-config-'));
    file = path.join(dir, 'config.db');
    t = 1_763_758_800_000;
    store = openConfigStore(file, { now: () => t });
  });

  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens in WAL with synchronous FULL, foreign keys and a schema version', () => {
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('user_version', { simple: true })).toBeGreaterThan(0);
  });

  it('imports an inventory, and a second identical import changes nothing', () => {
    const first = store.importInventory(inventory(baseFeatures()), 'alice');
    expect(first).toEqual({ lamps: 3, cabinets: 2, zones: 2, created: 3, updated: 0, unchanged: 0 });
    const lamps = store.lamps();
    expect(lamps.map((l) => l.id)).toEqual(['L1', 'L2', 'L3']);
    expect(lamps[2]).toMatchObject({ cabinetId: 'C2', zone: 'parc', lat: 45.77, lon: 4.84, baselinePowerW: 150 });
    expect(lamps[0]!.neighbours).toEqual(['L2']);

    const second = store.importInventory(inventory(baseFeatures()), 'alice');
    expect(second).toEqual({ lamps: 3, cabinets: 2, zones: 2, created: 0, updated: 0, unchanged: 3 });
    expect(store.lamps()).toEqual(lamps);
  });

  it('updates changed lamps and keeps lamps absent from a re-import', () => {
    store.importInventory(inventory(baseFeatures()), 'alice');
    const report = store.importInventory(
      inventory([feature('L1', 'C1', 4.83, 45.76, { nominalPowerW: 40 }), feature('L4', 'C3', 4.9, 45.8)]),
      'bob',
    );
    expect(report).toMatchObject({ lamps: 2, created: 1, updated: 1, unchanged: 0 });
    const lamps = store.lamps();
    expect(lamps.map((l) => l.id)).toEqual(['L1', 'L2', 'L3', 'L4']);
    expect(lamps[0]!.nominalPowerW).toBe(40);
  });

  it('writes nothing when a feature in the middle is invalid', () => {
    store.importInventory(inventory(baseFeatures()), 'alice');
    const features = [
      feature('L1', 'C1', 4.83, 45.76, { nominalPowerW: 99 }),
      feature('N1', 'C9', 4.85, 45.78),
      feature('N2', 'C9', 4.85, 45.781, { nominalPowerW: 'thirty' }),
      feature('N3', 'C9', 4.85, 45.782),
    ];
    let err: unknown;
    try {
      store.importInventory(inventory(features), 'alice');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LucioleError);
    expect((err as LucioleError).code).toBe('LUCIOLE_ERR_INVENTORY_INVALID');
    expect((err as LucioleError).field).toBe('features.2.properties.nominalPowerW');
    const lamps = store.lamps();
    expect(lamps.map((l) => l.id)).toEqual(['L1', 'L2', 'L3']);
    expect(lamps[0]!.nominalPowerW).toBe(30);
    expect(store.auditLog(10).filter((a) => a.action === 'inventory.import')).toHaveLength(1);
  });

  it('lists cabinets with centroid and lamp count', () => {
    store.importInventory(inventory(baseFeatures()), 'alice');
    const cabinets = store.cabinets();
    expect(cabinets.map((c) => [c.id, c.lamps])).toEqual([
      ['C1', 2],
      ['C2', 1],
    ]);
    expect(cabinets[0]!.lat).toBeCloseTo(45.76005, 9);
    expect(cabinets[0]!.lon).toBeCloseTo(4.83005, 9);
  });

  it('defaults the town to Paris without lamps, to the lamps centroid, then to what was set', () => {
    expect(store.town()).toEqual({ name: 'Ma commune', site: { lat: 48.8566, lon: 2.3522, timezone: 'Europe/Paris' } });
    store.importInventory(inventory(baseFeatures()), 'alice');
    const town = store.town();
    expect(town.site.lat).toBeCloseTo((45.76 + 45.7601 + 45.77) / 3, 9);
    expect(town.site.timezone).toBe('Europe/Paris');
    const lyon = { name: 'Lyon', site: { lat: 45.764, lon: 4.8357, timezone: 'Europe/Paris' } };
    store.setTown(lyon, 'mayor');
    expect(store.town()).toEqual(lyon);
    expect(() => store.setTown({ name: 'X', site: { lat: 45, lon: 4, timezone: 'Mars/Olympus' } }, 'mayor')).toThrow(
      /site\.timezone/,
    );
  });

  it('saves plan versions with increasing numbers, injected time, and refuses an invalid plan', () => {
    expect(store.currentPlan()).toBeNull();
    const v1 = store.savePlan(plan('a'), 'alice');
    t += 60_000;
    const v2 = store.savePlan(plan('b'), 'bob');
    expect(v1).toMatchObject({ version: 1, author: 'alice', createdAt: 1_763_758_800_000 });
    expect(v2).toMatchObject({ version: 2, author: 'bob', createdAt: 1_763_758_860_000 });
    expect(store.currentPlan()).toEqual(v2);
    expect(store.planVersions().map((p) => p.version)).toEqual([2, 1]);

    const bad = { ...plan('c'), zones: { centre: 'nope' } };
    let err: unknown;
    try {
      store.savePlan(bad, 'eve');
    } catch (e) {
      err = e;
    }
    expect((err as LucioleError).code).toBe('LUCIOLE_ERR_PLAN_INVALID');
    expect((err as LucioleError).field).toBe('zones.centre');
    expect(store.currentPlan()!.version).toBe(2);
  });

  it('writes audit entries for import, plan, town and caller-reported actions, newest first', () => {
    store.importInventory(inventory(baseFeatures()), 'alice');
    store.savePlan(plan(), 'bob');
    store.setTown({ name: 'Lyon', site: { lat: 45.764, lon: 4.8357, timezone: 'Europe/Paris' } }, 'carol');
    t += 1000;
    store.audit('dave', 'credentials.issue', 'cabinet:C1');
    const log = store.auditLog(10);
    expect(log.map((a) => [a.actor, a.action])).toEqual([
      ['dave', 'credentials.issue'],
      ['carol', 'town.set'],
      ['bob', 'plan.save'],
      ['alice', 'inventory.import'],
    ]);
    expect(log[0]).toMatchObject({ target: 'cabinet:C1', detail: '', at: t });
    expect(log[2]!.target).toBe('plan:plan-a@1');
    expect(JSON.parse(log[3]!.detail)).toMatchObject({ created: 3 });
    expect(store.auditLog(2)).toHaveLength(2);
  });

  it('tracks published and acked policy refs per cabinet', () => {
    store.setPolicyPublished('C1', { id: 'plan-a', version: 3 });
    store.setPolicyPublished('C2', { id: 'plan-a', version: 3 });
    store.setPolicyAcked('C1', { id: 'plan-a', version: 3 });
    store.setPolicyPublished('C1', { id: 'plan-a', version: 4 });
    expect(store.policyStates()).toEqual([
      { cabinetId: 'C1', published: { id: 'plan-a', version: 4 }, acked: { id: 'plan-a', version: 3 } },
      { cabinetId: 'C2', published: { id: 'plan-a', version: 3 }, acked: null },
    ]);
  });

  it('upserts alerts by id', () => {
    const alert: AlertView = {
      id: 'a1',
      kind: 'lamp_fault',
      severity: 'major',
      state: 'open',
      cabinetId: 'C1',
      lampId: 'L1',
      openedAt: 1000,
      lastSeen: 1000,
      resolvedAt: null,
      count: 1,
      detail: 'lamp_failure',
    };
    store.saveAlert(alert);
    store.saveAlert({ ...alert, id: 'a2', openedAt: 2000, lastSeen: 2000 });
    store.saveAlert({ ...alert, state: 'resolved', resolvedAt: 3000, count: 2 });
    const alerts = store.alerts();
    expect(alerts.map((a) => a.id)).toEqual(['a2', 'a1']);
    expect(alerts[1]).toMatchObject({ state: 'resolved', resolvedAt: 3000, count: 2 });
  });

  it('keeps everything across close and re-open', () => {
    store.importInventory(inventory(baseFeatures()), 'alice');
    const saved = store.savePlan(plan(), 'bob');
    store.setPolicyPublished('C1', { id: 'plan-a', version: 1 });
    store.close();
    store = openConfigStore(file, { now: () => t });
    expect(store.lamps()).toHaveLength(3);
    expect(store.currentPlan()).toEqual(saved);
    expect(store.policyStates()).toHaveLength(1);
    expect(store.savePlan(plan(), 'bob').version).toBe(2);
  });
});
