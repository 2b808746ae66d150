import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localTime } from '../core/astro.js';
import { ManualClock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import { commandSchema, type Command, type InputOf } from '../protocol/index.js';
import { openConfigStore, type SqliteConfigStore } from './config-store.js';
import type { PlanVersion, TownPlan } from './plan.js';
import { PlanNoncompliantError, PolicyService } from './policy-service.js';
import { SqliteTelemetryStore } from './sqlite-telemetry-store.js';

const site = { lat: 45.764, lon: 4.8357, timezone: 'Europe/Paris' };
const NOW = localTime('2026-11-20', 20, 0, site.timezone);

const feature = (id: string, cabinetId: string, zone: string) => ({
  type: 'Feature',
  geometry: { type: 'Point', coordinates: [4.83, 45.76] },
  properties: { id, cabinetId, zone, nominalPowerW: 40 },
});

const plan: TownPlan = {
  id: 'p',
  failsafeLevel: 100,
  defaultProfile: 'rue',
  zones: { parc: 'parc' },
  profiles: {
    rue: { schedule: [{ from: 'dusk', to: 'dawn', level: 50 }] },
    parc: { schedule: [{ from: 'dusk', to: '22:00', level: 40 }] },
  },
};

describe('PolicyService over a real config store', () => {
  let dir: string;
  let store: SqliteConfigStore;
  let telemetry: SqliteTelemetryStore;
  let clock: ManualClock;
  let service: PolicyService;
  let sent: Array<{ cabinetId: string; command: Command }>;
  let published: PlanVersion[];
  let n: number;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-policy-service-'));
    clock = new ManualClock(NOW);
    store = openConfigStore(path.join(dir, 'config.db'), { now: () => clock.now() });
    store.importInventory({ type: 'FeatureCollection', features: [feature('A1', 'CA', 'rue'), feature('A2', 'CA', 'parc'), feature('B1', 'CB', 'parc')] }, 'test');
    store.setTown({ name: 'Test', site }, 'test');
    telemetry = new SqliteTelemetryStore({ file: path.join(dir, 'telemetry.db') });
    await telemetry.open();
    sent = [];
    published = [];
    n = 0;
    service = new PolicyService({
      configStore: store,
      telemetryStore: telemetry,
      clock,
      logger: silentLogger(),
      lamps: () => store.lamps(),
      publish: async (v) => {
        published.push(v);
        return 2;
      },
      sendCommand: async (cabinetId, command: InputOf<'command'>) => {
        sent.push({ cabinetId, command: commandSchema.parse(command) });
      },
      newCommandId: () => `c${n++}`,
      assertRunning: () => {},
      complianceNights: 30,
    });
    service.start();
  });

  afterEach(async () => {
    await telemetry.close();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a plan breaking a rule of its zone, saves and publishes a compliant one, rolls back with a note', async () => {
    service.updateZone('parc', { label: 'Parc', category: 'park' }, 'alice');
    const late = structuredClone(plan);
    late.profiles.parc!.schedule[0]!.to = '03:00';
    const err = await service.save(late, 'alice').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanNoncompliantError);
    expect((err as PlanNoncompliantError).findings.map((f) => f.rule)).toContain('arrete-2018-12-27.art2.parks-off');
    expect(store.planVersions()).toEqual([]);

    const saved = await service.save(plan, 'alice');
    expect(saved).toMatchObject({ version: 1, cabinets: 2, findings: [] });
    const second = structuredClone(plan);
    second.profiles.rue!.schedule[0]!.level = 30;
    await service.save(second, 'bob');
    const back = await service.rollback(1, 'carol');
    expect(back).toMatchObject({ version: 3, author: 'carol', note: 'rollback to v1', plan });
    expect(published.map((p) => p.version)).toEqual([1, 2, 3]);
    expect(service.version(3)?.diff.changes).toEqual([{ kind: 'changed', path: 'profiles.rue.schedule[0].level', before: 30, after: 50 }]);
    await expect(service.rollback(9, 'carol')).rejects.toMatchObject({ code: 'LUCIOLE_ERR_PLAN_VERSION_NOT_FOUND', field: 'version' });
  });

  it('lists zones from the inventory with counts, metadata and the profile each uses', async () => {
    await service.save(plan, 'alice');
    service.updateZone('parc', { label: 'Parc', category: 'park', closingTime: '21:00' }, 'alice');
    expect(service.zones()).toEqual([
      { name: 'parc', label: 'Parc', category: 'park', closingTime: '21:00', lamps: 2, cabinets: ['CA', 'CB'], profile: 'parc', inPlan: true, described: true },
      { name: 'rue', label: 'rue', category: 'other', lamps: 1, cabinets: ['CA'], profile: 'rue', inPlan: false, described: false },
    ]);
    expect(() => service.updateZone('nowhere', { label: 'x', category: 'road' }, 'a')).toThrow(expect.objectContaining({ code: 'LUCIOLE_ERR_ZONE_NOT_FOUND' }));
    expect(() => service.saveGroup({ id: 'g', lamps: ['A1', 'ZZ'] }, 'a')).toThrow(expect.objectContaining({ field: 'lamps.1' }));
  });

  it('tracks override acks per cabinet, sends again an override refused as expired, and reasserts others after a clear', async () => {
    const zone = await service.setOverride({ target: { type: 'zone', id: 'parc' }, level: 80, durationS: 3600, reason: 'fête' }, 'admin');
    expect(sent.map((s) => [s.cabinetId, s.command.kind, s.command.id])).toEqual([
      ['CA', 'override', 'c0'],
      ['CB', 'override', 'c1'],
    ]);
    expect(sent[0]!.command).toMatchObject({ lamps: ['A2'], level: 80, durationS: 3600, expiresAt: NOW + 60_000 });

    expect(service.onCommandAck('CA', 'c0', true, undefined)).toBe(true);
    // CB was away longer than the command lived: sent again for the time left.
    clock.advance(600_000);
    expect(service.onCommandAck('CB', 'c1', false, 'expired')).toBe(true);
    await Promise.resolve();
    expect(sent[2]).toMatchObject({ cabinetId: 'CB', command: { id: 'c2', kind: 'override', durationS: 3000 } });
    service.onCommandAck('CB', 'c2', true, undefined);
    const listed = service.overrides();
    expect(listed).toHaveLength(1);
    expect(listed[0]!.cabinets.map((c) => [c.cabinetId, c.state, c.resent])).toEqual([
      ['CA', 'applied', 0],
      ['CB', 'applied', 1],
    ]);
    expect(service.onCommandAck('CB', 'unknown', true, undefined)).toBe(false);

    const town = await service.setOverride({ target: { type: 'town' }, level: 100, durationS: 60, reason: 'urgence' }, 'admin');
    sent = [];
    await service.clearOverride(town.id, 'admin');
    // clear-override ends every override of those lamps at the gateway: the zone's is sent again after it.
    expect(sent.map((s) => [s.cabinetId, s.command.kind])).toEqual([
      ['CA', 'clear-override'],
      ['CA', 'override'],
      ['CB', 'clear-override'],
      ['CB', 'override'],
    ]);
    expect(service.overrides().map((o) => o.id)).toEqual([zone.id]);
    await expect(service.clearOverride(town.id, 'admin')).rejects.toMatchObject({ code: 'LUCIOLE_ERR_OVERRIDE_NOT_FOUND' });

    clock.advance(3_000_000);
    expect(service.overrides()).toEqual([]);
    expect(store.auditLog(10).map((e) => e.action)).toEqual(expect.arrayContaining(['override.set', 'override.clear']));
  });
});
