import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { addDays, localTime, nightAt, nightForDate } from '../core/astro.js';
import { silentLogger } from '../core/log.js';
import { EdgeAgent } from '../edge-agent/agent.js';
import { SimulatedDriver } from '../edge-agent/sim-driver.js';
import { parseEdgeConfig } from '../edge-agent/config.js';
import { startServer, type RunningServer } from '../cli/server.js';
import type { TownPlan } from '../controller/plan.js';
import type { PresenceRecord } from '../controller/stores.js';
import { demoPlan, generateTown, townInventory } from '../sim/town.js';
import { eventually, tempDir } from './helpers.js';

/**
 * The policy editor's API over the real loop: bundled broker, controller, HTTP API, two gateways
 * with simulated drivers, SQLite files. One ManualClock drives the controller and both gateways,
 * so overrides end and nights pass exactly when the test says; the network runs in real time.
 */
const town = generateTown({ columns: 2, rows: 1, lampsPerStreet: 6, sensorEvery: 1 });
const site = town.site;
const TZ = site.timezone;
const START = localTime('2026-11-20', 20, 0, TZ);
const FESTIVE_DATE = '2026-11-21';
const TOKEN = 'test-admin-token-0123456789abcdef';
const MINUTE = 60_000;

/** The demo plan, compliant, with a festive profile for the centre on one date of the calendar. */
function planV1(): TownPlan {
  const p = demoPlan();
  return {
    ...p,
    profiles: {
      ...p.profiles,
      fete: { schedule: [{ from: 'dusk', to: 'dawn', level: 100 }] },
    },
    calendar: [{ name: 'Illuminations', when: { dates: [FESTIVE_DATE] }, profiles: { centre: 'fete' } }],
  };
}

describe('policies end to end: API, controller, broker, gateways', () => {
  const tmp = tempDir('policies-e2e');
  const clock = new ManualClock(START);
  let server: RunningServer;
  let serverStopped = false;
  const agents = new Map<string, { agent: EdgeAgent; driver: SimulatedDriver }>();
  // Both districts of this small town are 'centre', one cabinet each.
  const lampA = town.lamps.find((l) => l.cabinetId === 'ARM-01')!.id;
  const lampB = town.lamps.find((l) => l.cabinetId === 'ARM-02')!.id;

  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const res = await fetch(new URL(path, server.httpUrl), {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  /** The level the gateway engine gives now, and the one it last applied to the driver. */
  const engineLevel = (cab: string, lamp: string) => agents.get(cab)!.agent.engine.levelAt(lamp, clock.now());
  const appliedLevel = (cab: string, lamp: string) =>
    agents.get(cab)!.driver.read(clock.now()).lamps.find((l) => l.id === lamp)!.level;
  const rolloutComplete = async (version: number) => {
    const r = await call('GET', '/api/plan/rollout');
    return r.json.complete === true && r.json.plan?.version === version;
  };

  beforeAll(async () => {
    const inventory = join(tmp.dir, 'inventory.geojson');
    writeFileSync(inventory, JSON.stringify(townInventory(town)));
    server = await startServer(
      { dataDir: tmp.dir, mqttPort: 0, httpPort: 0, host: '127.0.0.1', inventory, periodS: 3600, adminToken: TOKEN },
      { clock, logger: silentLogger() },
    );
    server.configStore.setTown({ name: town.name, site }, 'test');
    for (const cab of town.cabinets) {
      const config = parseEdgeConfig({
        cabinetId: cab.id,
        brokerUrl: server.mqttUrl,
        password: server.credentials.issue(cab.id, 'cabinet'),
        dataDir: join(tmp.dir, 'edge', cab.id),
        periodS: 3600,
        tickMs: 60_000,
        site,
        lamps: town.lamps
          .filter((l) => l.cabinetId === cab.id)
          .map((l) => ({ id: l.id, nominalPowerW: l.nominalPowerW, sensorId: `S-${l.id}` })),
        sim: { seed: 1, traffic: 0 },
      });
      const driver = new SimulatedDriver({ clock, lamps: config.lamps, seed: 1, traffic: 0, timezone: TZ });
      const agent = new EdgeAgent({ config, clock, driver, logger: silentLogger() });
      agents.set(cab.id, { agent, driver });
      await agent.start();
      await agent.whenConnected();
    }
  });

  afterAll(async () => {
    for (const { agent } of agents.values()) await agent.stop();
    if (!serverStopped) await server?.stop();
    tmp.remove();
  });

  it('publishes a plan edited through PUT /api/plan to both gateways, which ack it; levels follow', async () => {
    const first = await call('PUT', '/api/plan', planV1());
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ version: 1, author: 'admin', cabinets: 2 });
    // Saved: no error (warnings, if any, come back with the version).
    expect(Array.isArray(first.json.findings)).toBe(true);
    expect(first.json.findings.filter((f: any) => f.severity === 'error')).toEqual([]);
    await eventually(() => rolloutComplete(1), 'rollout of v1 complete');
    expect(engineLevel('ARM-01', lampA)).toBe(70);

    const edited = planV1();
    edited.profiles.centre!.schedule[0]!.level = 50;
    const second = await call('PUT', '/api/plan', edited);
    expect(second.status).toBe(200);
    expect(second.json.diff.changes).toEqual([{ kind: 'changed', path: 'profiles.centre.schedule[0].level', before: 70, after: 50 }]);
    await eventually(() => rolloutComplete(2), 'rollout of v2 complete');
    const rollout = (await call('GET', '/api/plan/rollout')).json;
    expect(rollout.cabinets.map((c: any) => [c.cabinetId, c.acked.version, c.online])).toEqual([
      ['ARM-01', 2, true],
      ['ARM-02', 2, true],
    ]);
    for (const [cab, lamp] of [['ARM-01', lampA], ['ARM-02', lampB]] as const) {
      expect(agents.get(cab)!.agent.engine.getPolicy()?.version).toBe(2);
      expect(engineLevel(cab, lamp)).toBe(50);
      expect(appliedLevel(cab, lamp)).toBe(50);
    }
    // The gateways carry the calendar rule and its replacement profile, to apply it offline.
    expect(agents.get('ARM-01')!.agent.engine.getPolicy()?.calendar).toEqual(planV1().calendar);
    expect(Object.keys(agents.get('ARM-01')!.agent.engine.getPolicy()!.profiles).sort()).toEqual(['centre', 'fete']);

    const versions = (await call('GET', '/api/plan/versions')).json;
    expect(versions.map((v: any) => [v.version, v.current, v.diff.changed])).toEqual([
      [2, true, 1],
      [1, false, 0],
    ]);
    expect(versions[0].diff.summary).toBe('1 modification : profiles.centre.schedule[0].level');

    const doc = (await call('GET', '/api/openapi.json')).json;
    for (const p of ['/api/zones', '/api/groups/{id}', '/api/plan/versions/{v}', '/api/plan/rollback', '/api/plan/check', '/api/plan/what-if', '/api/plan/curve', '/api/plan/rollout', '/api/overrides', '/api/overrides/{id}']) {
      expect(Object.keys(doc.paths), p).toContain(p);
    }
    expect(JSON.stringify(doc.paths['/api/plan'].put.responses['422'])).toContain('findings');
  });

  it('refuses a noncompliant plan with the rule named, then rolls back as a new version equal to the old', async () => {
    const zone = await call('PUT', '/api/zones/parc', { label: 'Parc de la mairie', category: 'park' });
    expect(zone.status).toBe(200);
    expect(zone.json).toMatchObject({ name: 'parc', category: 'park', described: true, profile: 'parc' });

    const late = planV1();
    late.profiles.parc!.schedule = [{ from: 'dusk', to: '03:00', level: 40 }];
    const checked = await call('POST', '/api/plan/check', { plan: late });
    expect(checked.json.ok).toBe(false);
    const refused = await call('PUT', '/api/plan', late);
    expect(refused.status).toBe(422);
    expect(refused.json.code).toBe('LUCIOLE_ERR_POLICY_NONCOMPLIANT');
    expect(refused.json.message).toContain('arrete-2018-12-27.art2.parks-off');
    expect(refused.json.findings).toContainEqual(
      expect.objectContaining({ severity: 'error', rule: 'arrete-2018-12-27.art2.parks-off', zone: 'parc', field: 'profiles.parc.schedule[0].to' }),
    );
    const park = refused.json.findings.find((f: any) => f.rule === 'arrete-2018-12-27.art2.parks-off');
    expect(park.message).toMatch(/^Zone « parc », profil « parc » : doit être éteint à 01:00, mais reste allumé jusqu’à 03:00/);
    expect((await call('GET', '/api/plan')).json.version).toBe(2);

    const rolled = await call('POST', '/api/plan/rollback', { version: 1 });
    expect(rolled.status).toBe(200);
    expect(rolled.json).toMatchObject({ version: 3, note: 'rollback to v1', author: 'admin' });
    const v1 = (await call('GET', '/api/plan/versions/1')).json;
    const v3 = (await call('GET', '/api/plan/versions/3')).json;
    expect(v3.plan).toEqual(v1.plan);
    expect(v3.diff.changes).toEqual([{ kind: 'changed', path: 'profiles.centre.schedule[0].level', before: 50, after: 70 }]);
    await eventually(() => rolloutComplete(3), 'rollout of v3 complete');
    expect(engineLevel('ARM-02', lampB)).toBe(70);
  });

  it('applies an override on a zone at both gateways, lists it with who set it, and ends it by itself', async () => {
    const set = await call('POST', '/api/overrides', { target: { type: 'zone', id: 'centre' }, level: 10, durationS: 600, reason: 'essai de maintenance' });
    expect(set.status).toBe(201);
    const id = set.json.id as string;
    expect(set.json).toMatchObject({ actor: 'admin', level: 10, until: clock.now() + 600_000, lampCount: town.lamps.length });
    await eventually(() => engineLevel('ARM-01', lampA) === 10 && engineLevel('ARM-02', lampB) === 10, 'both gateways at 10 %');
    expect(appliedLevel('ARM-02', lampB)).toBe(10);
    await eventually(async () => {
      const list = (await call('GET', '/api/overrides')).json;
      return list.length === 1 && list[0].cabinets.every((c: any) => c.state === 'applied');
    }, 'the override acked by both cabinets');
    expect(server.configStore.auditLog(20).some((e) => e.action === 'override.set' && e.target === `override:${id}`)).toBe(true);

    clock.advance(599_000);
    expect(engineLevel('ARM-01', lampA)).toBe(10);
    expect((await call('GET', '/api/overrides')).json).toHaveLength(1);
    clock.advance(1_000);
    // Nothing was sent: each gateway ended it on its own clock.
    expect(engineLevel('ARM-01', lampA)).toBe(70);
    expect(engineLevel('ARM-02', lampB)).toBe(70);
    expect((await call('GET', '/api/overrides')).json).toEqual([]);
  });

  it('ends an override on a group early when it is deleted', async () => {
    const group = await call('PUT', '/api/groups/marche', { label: 'Marché', lamps: [lampA, lampB] });
    expect(group.status).toBe(200);
    const set = await call('POST', '/api/overrides', { target: { type: 'group', id: 'marche' }, level: 100, durationS: 3600, reason: 'marché de nuit' });
    expect(set.status).toBe(201);
    expect(set.json.cabinets.map((c: any) => [c.cabinetId, c.lamps])).toEqual([['ARM-01', [lampA]], ['ARM-02', [lampB]]]);
    await eventually(() => engineLevel('ARM-01', lampA) === 100 && engineLevel('ARM-02', lampB) === 100, 'group lamps at 100 %');
    const other = town.lamps.find((l) => l.cabinetId === 'ARM-01' && l.id !== lampA)!.id;
    expect(engineLevel('ARM-01', other)).toBe(70);

    const cleared = await call('DELETE', `/api/overrides/${set.json.id}`);
    expect(cleared.status).toBe(200);
    expect(cleared.json).toMatchObject({ clearedBy: 'admin' });
    await eventually(() => engineLevel('ARM-01', lampA) === 70 && engineLevel('ARM-02', lampB) === 70, 'back to the schedule');
    expect((await call('DELETE', `/api/overrides/${set.json.id}`)).status).toBe(404);
    expect((await call('DELETE', '/api/groups/marche')).status).toBe(204);
    expect((await call('GET', '/api/groups/marche')).status).toBe(404);
  });

  it('what-if: 7 nights for the draft and the plan in force, the dimmer draft using less energy', async () => {
    const tonight = nightAt(site, clock.now()).date;
    const records: PresenceRecord[] = [];
    for (let k = 1; k <= 7; k++) {
      const date = addDays(tonight, -k);
      for (const lamp of town.lamps) {
        for (const [hh, day] of [[21, date], [2, addDays(date, 1)]] as const) {
          records.push({ cabinetId: lamp.cabinetId, lampId: lamp.id, sensorId: `S-${lamp.id}`, kind: 'pedestrian', count: 1, ts: localTime(day, hh, 0, TZ) });
        }
      }
    }
    await server.telemetryStore.writePresence(records);

    const dimmer = planV1();
    for (const slot of dimmer.profiles.centre!.schedule) slot.level = Math.round(slot.level / 2);
    const res = await call('POST', '/api/plan/what-if', { plan: dimmer });
    expect(res.status).toBe(200);
    const r = res.json;
    expect(r).toMatchObject({ presence: 'recorded', current: { version: 3 }, lamps: town.lamps.length });
    expect(r.nights.map((n: any) => n.date)).toEqual([7, 6, 5, 4, 3, 2, 1].map((k) => addDays(tonight, -k)));
    for (const n of r.nights) {
      expect(n.dusk).toBe(nightForDate(site, n.date).dusk);
      expect(n.detections).toBe(town.lamps.length * 2);
      expect(n.draft.energyKWh).toBeGreaterThan(0);
      expect(n.draft.energyKWh).toBeLessThan(n.current.energyKWh);
      expect(n.draft.boostedShare).toBe(1);
    }
    expect(r.totals.draft.energyKWh).toBeLessThan(r.totals.current.energyKWh);
  });

  it('draws the level curve of a profile with the calendar applied', async () => {
    const plain = (await call('GET', `/api/plan/curve?profile=centre&date=2026-11-20`)).json;
    expect(plain).toMatchObject({ effectiveProfile: 'centre', calendarRule: null, stepMin: 5 });
    expect(plain.points.find((p: any) => p.t === START).level).toBe(70);
    const festive = (await call('GET', `/api/plan/curve?profile=centre&date=${FESTIVE_DATE}`)).json;
    expect(festive).toMatchObject({ effectiveProfile: 'fete', calendarRule: 'Illuminations' });
    expect(festive.points.find((p: any) => p.t === localTime(FESTIVE_DATE, 23, 0, TZ)).level).toBe(100);
    const draft = planV1();
    draft.profiles.centre!.schedule[0]!.level = 33;
    const drafted = (await call('POST', '/api/plan/curve', { profile: 'centre', date: '2026-11-20', plan: draft })).json;
    expect(drafted.points.find((p: any) => p.t === START).level).toBe(33);
  });

  it('a gateway cut from the broker keeps applying its policy and calendar', async () => {
    await server.stop();
    serverStopped = true;
    await eventually(() => [...agents.values()].every(({ agent }) => !agent.connected), 'gateways disconnected');

    clock.set(localTime('2026-11-20', 22, 59, TZ));
    expect(appliedLevel('ARM-01', lampA)).toBe(70);
    clock.set(localTime('2026-11-20', 23, 30, TZ));
    expect(appliedLevel('ARM-01', lampA)).toBe(25);
    expect(appliedLevel('ARM-02', lampB)).toBe(25);
    clock.set(localTime('2026-11-21', 12, 0, TZ));
    expect(appliedLevel('ARM-01', lampA)).toBe(0);
    // The calendar's date: the festive profile all night, decided by the gateway alone.
    clock.set(localTime(FESTIVE_DATE, 23, 30, TZ));
    expect(appliedLevel('ARM-01', lampA)).toBe(100);
    expect(appliedLevel('ARM-02', lampB)).toBe(100);
    clock.set(localTime('2026-11-22', 23, 30, TZ));
    expect(appliedLevel('ARM-01', lampA)).toBe(25);
    expect([...agents.values()].every(({ agent }) => !agent.connected)).toBe(true);
  });
});
