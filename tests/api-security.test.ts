import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { localTime } from '../core/astro.js';
import { startServer, configDbPath, type RunningServer } from '../cli/server.js';
import type { SqliteConfigStore } from '../controller/config-store.js';
import { ROLES, type Role } from '../controller/stores.js';
import { roleAtLeast, tokenHash } from '../dashboard/auth.js';
import { demoPlan, generateTown, townInventory } from '../sim/town.js';
import { cabinetTopic } from '../protocol/index.js';
import { eventually, tempDir } from './helpers.js';

/**
 * Issue 7's HTTP API battery over the real parts: bundled aedes broker, controller, dashboard,
 * SQLite files in a temp dir. One ManualClock that the test never moves drives the controller,
 * so nothing writes to the databases behind the test's back: every difference between two
 * dumps comes from the requests made in between.
 *
 * Every route comes from the OpenAPI document, so a route added later is checked too:
 * - every route × every role × tampered tokens: 401 / 403 as its `x-min-role` says, no 5xx;
 * - each role below admin calls every route above it: the databases are unchanged;
 * - every change writes an audit entry naming who made it;
 * - invalid bodies generated with fast-check on every route with a body: 4xx only, no write;
 * - no secret reaches the log.
 */
const town = generateTown({ columns: 2, rows: 1, lampsPerStreet: 4, sensorEvery: 1 });
const site = town.site;
const START = localTime('2026-11-20', 20, 0, site.timezone);
const ADMIN_TOKEN = 'security-admin-token-0123456789abcdef';
const PASSWORD = 'correct horse battery staple';

/** One user per role; each signs in, so every role is tested with a real session token. */
const USERS: Record<Role, string> = { viewer: 'elu', maintenance: 'equipe', technician: 'technicien', admin: 'chef' };

/** The role each route of the brief must need (a route added elsewhere is checked against its own `x-min-role`). */
const EXPECTED_ROLES: Record<string, Role> = {
  'GET /api/openapi.json': 'viewer',
  'GET /api/town': 'viewer',
  'GET /api/cabinets': 'viewer',
  'GET /api/cabinets/{id}': 'viewer',
  'POST /api/cabinets/{id}/credentials': 'admin',
  'GET /api/lamps': 'viewer',
  'PATCH /api/lamps/{id}': 'admin',
  'GET /api/energy': 'viewer',
  'GET /api/stats': 'viewer',
  'GET /api/plan': 'viewer',
  'PUT /api/plan': 'technician',
  'GET /api/plan/versions': 'viewer',
  'POST /api/plan/rollback': 'technician',
  'PUT /api/zones/{zone}': 'technician',
  'PUT /api/groups/{id}': 'technician',
  'DELETE /api/groups/{id}': 'technician',
  'POST /api/overrides': 'technician',
  'DELETE /api/overrides/{id}': 'technician',
  'GET /api/overrides': 'viewer',
  'PUT /api/reports/settings': 'technician',
  'POST /api/inventory/import': 'admin',
  'GET /metrics': 'admin',
  'GET /api/stream': 'viewer',
  'GET /api/users': 'admin',
  'POST /api/users': 'admin',
  'POST /api/tokens': 'admin',
  'GET /api/audit': 'admin',
  'GET /api/session/me': 'viewer',
  'DELETE /api/session': 'viewer',
};

/** Mutating routes a viewer may call: they act on the caller's own session only. */
const SELF_SERVICE = new Set(['DELETE /api/session', 'DELETE /api/sessions/{id}']);

interface Op {
  method: string;
  path: string;
  key: string;
  minRole: Role | 'public';
  hasBody: boolean;
  stream: boolean;
}

interface Reply {
  status: number;
  json: any;
  headers: Record<string, unknown>;
}

describe('HTTP API security battery', () => {
  const tmp = tempDir('api-security');
  const clock = new ManualClock(START);
  const logLines: string[] = [];
  /** Every secret seen during the run: none may appear in the log. */
  const secrets = new Set<string>([ADMIN_TOKEN, PASSWORD]);
  const statuses: Array<{ key: string; status: number }> = [];
  const tokens = {} as Record<Role, string>;
  let server: RunningServer;
  let store: SqliteConfigStore;
  let ops: Op[] = [];
  let viewerApiToken = '';
  let dumpConfig: () => string;
  let dumpTelemetry: () => string;
  const readers: Database.Database[] = [];

  const call = async (
    token: string | null,
    method: string,
    url: string,
    body?: unknown,
    extra: { headers?: Record<string, string>; raw?: string; remoteAddress?: string } = {},
  ): Promise<Reply> => {
    const headers: Record<string, string> = { ...(token !== null ? { authorization: `Bearer ${token}` } : {}), ...extra.headers };
    let payload: string | undefined;
    if (extra.raw !== undefined) payload = extra.raw;
    else if (body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
    const res = await server.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(payload !== undefined ? { payload } : {}),
      ...(extra.remoteAddress ? { remoteAddress: extra.remoteAddress } : {}),
    });
    statuses.push({ key: `${method} ${url}`, status: res.statusCode });
    let json: unknown = null;
    try {
      json = res.body ? JSON.parse(res.body) : null;
    } catch {
      json = res.body;
    }
    return { status: res.statusCode, json, headers: res.headers };
  };
  const signIn = async (username: string, password = PASSWORD, remoteAddress?: string): Promise<string> => {
    const res = await call(null, 'POST', '/api/session', { username, password }, remoteAddress ? { remoteAddress } : {});
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    secrets.add(res.json.token);
    return res.json.token as string;
  };
  const auditCount = (): number => (store.db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n;
  const auditSince = (n: number) =>
    store.db.prepare('SELECT actor, action, target FROM audit_log ORDER BY id LIMIT -1 OFFSET ?').all(n) as Array<{ actor: string; action: string; target: string }>;
  const lampA = town.lamps.find((l) => l.cabinetId === 'ARM-01')!.id;
  const lampB = town.lamps.find((l) => l.cabinetId === 'ARM-02')!.id;

  /** A URL for a documented path: path parameters filled with plausible values. */
  const urlOf = (path: string): string =>
    path.replace(/\{(\w+)\}/g, (_m, name: string) => ({ id: 'ARM-01', v: '1', zone: 'centre', username: 'elu' })[name] ?? 'x');

  beforeAll(async () => {
    const inventory = join(tmp.dir, 'inventory.geojson');
    writeFileSync(inventory, JSON.stringify(townInventory(town)));
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
    server = await startServer(
      { dataDir: tmp.dir, mqttPort: 0, httpPort: 0, host: '127.0.0.1', inventory, periodS: 3600, adminToken: ADMIN_TOKEN },
      { clock, logger },
    );
    store = server.configStore as SqliteConfigStore;
    server.configStore.setTown({ name: town.name, site }, 'test');
    await server.controller.publishPlan(demoPlan(), 'test');

    for (const role of ROLES) {
      const res = await call(ADMIN_TOKEN, 'POST', '/api/users', { username: USERS[role], role, password: PASSWORD });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
    }
    const signedIn = await Promise.all(ROLES.map((role) => signIn(USERS[role])));
    ROLES.forEach((role, i) => (tokens[role] = signedIn[i]!));
    const apiToken = await call(ADMIN_TOKEN, 'POST', '/api/tokens', { label: 'tableau de bord mairie', role: 'viewer', expiresInDays: 30 });
    expect(apiToken.status).toBe(201);
    viewerApiToken = apiToken.json.token;
    secrets.add(viewerApiToken);

    const doc = await call(tokens.viewer, 'GET', '/api/openapi.json');
    expect(doc.status).toBe(200);
    for (const [path, item] of Object.entries(doc.json.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(item)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        const key = `${method.toUpperCase()} ${path}`;
        const isPublic = Array.isArray(op.security) && op.security.length === 0;
        ops.push({
          method: method.toUpperCase(),
          path,
          key,
          minRole: isPublic ? 'public' : op['x-min-role'],
          hasBody: op.requestBody !== undefined || key === 'POST /api/inventory/import',
          stream: Object.keys(op.responses?.['200']?.content ?? {}).includes('text/event-stream') || path === '/api/stream',
        });
      }
    }
    ops = ops.sort((a, b) => a.key.localeCompare(b.key));

    // Separate read-only connections: the dumps see exactly what is committed.
    const config = new Database(configDbPath(tmp.dir), { readonly: true, fileMustExist: true });
    const telemetry = new Database(join(tmp.dir, 'telemetry.db'), { readonly: true, fileMustExist: true });
    readers.push(config, telemetry);
    dumpConfig = () => dumpDatabase(config);
    dumpTelemetry = () => dumpDatabase(telemetry);
  }, 60_000);

  afterAll(async () => {
    for (const r of readers) r.close();
    await server?.stop();
    tmp.remove();
  });

  it('documents a role for every protected route, the brief’s roles for the routes it names, and no mutating route for the viewer', () => {
    expect(ops.length).toBeGreaterThan(40);
    for (const op of ops) {
      if (op.minRole === 'public') continue;
      expect(ROLES, `${op.key} has no x-min-role`).toContain(op.minRole);
    }
    const byKey = new Map(ops.map((o) => [o.key, o.minRole]));
    for (const [key, role] of Object.entries(EXPECTED_ROLES)) expect([key, byKey.get(key)]).toEqual([key, role]);
    // The public routes are exactly these: nothing else is reachable without a token.
    expect(ops.filter((o) => o.minRole === 'public').map((o) => o.key)).toEqual(['GET /api/health', 'POST /api/session']);
    const viewerWrites = ops.filter((o) => o.method !== 'GET' && o.minRole === 'viewer').map((o) => o.key);
    expect(viewerWrites.filter((k) => !SELF_SERVICE.has(k))).toEqual([]);
  });

  it('answers every route for every role as its x-min-role says: 403 below it, never 401/403 at or above it (reads)', async () => {
    const callers: Array<{ who: string; role: Role; token: string }> = [
      ...ROLES.map((role) => ({ who: `${role} session`, role, token: tokens[role] })),
      { who: 'bootstrap admin token', role: 'admin', token: ADMIN_TOKEN },
      { who: 'viewer API token', role: 'viewer', token: viewerApiToken },
    ];
    let checked = 0;
    for (const op of ops) {
      if (op.minRole === 'public') continue;
      for (const c of callers) {
        const allowed = roleAtLeast(c.role, op.minRole);
        // Allowed writes are exercised with real bodies by the audit test; a stream never ends under inject.
        if (allowed && (op.method !== 'GET' || op.stream)) continue;
        const res = await call(c.token, op.method, urlOf(op.path), op.hasBody ? {} : undefined);
        checked++;
        if (allowed) {
          expect([401, 403], `${c.who} on ${op.key}: ${res.status}`).not.toContain(res.status);
          expect(res.status, `${c.who} on ${op.key}`).toBeLessThan(500);
        } else {
          expect([op.key, c.who, res.status, res.json?.code]).toEqual([op.key, c.who, 403, 'LUCIOLE_ERR_FORBIDDEN']);
        }
      }
    }
    expect(checked).toBeGreaterThan(ops.length * 3);
  });

  it('refuses tampered, expired, revoked and foreign tokens on every protected route with 401', async () => {
    // A session of another user, signed out: its token is revoked.
    const leaver = await call(ADMIN_TOKEN, 'POST', '/api/users', { username: 'depart', role: 'admin', password: PASSWORD });
    expect(leaver.status).toBe(201);
    const revoked = await signIn('depart');
    expect((await call(revoked, 'DELETE', '/api/session')).status).toBe(204);
    // Sessions whose user was disabled, or deleted.
    for (const u of ['suspendu', 'supprime']) expect((await call(ADMIN_TOKEN, 'POST', '/api/users', { username: u, role: 'admin', password: PASSWORD })).status).toBe(201);
    const ofDisabled = await signIn('suspendu');
    const ofDeleted = await signIn('supprime');
    expect((await call(ADMIN_TOKEN, 'PATCH', '/api/users/suspendu', { disabled: true })).status).toBe(200);
    expect((await call(ADMIN_TOKEN, 'DELETE', '/api/users/supprime')).status).toBe(204);
    // An expired admin session: a real row whose absolute expiry has passed.
    const expired = 'lus_expiredsessiontoken0123456789abcdefghijklmnopq';
    store.addCredential(
      { id: 'ses_expired', tokenHash: tokenHash(expired), kind: 'session', username: 'chef', label: 'session', role: 'admin', createdAt: START - 13 * 3_600_000, createdBy: 'chef', expiresAt: START - 3_600_000, idleTimeoutMs: 3_600_000, revokedAt: null },
      'test',
    );
    const admin = tokens.admin;
    const flip = (t: string) => t.slice(0, -1) + (t.endsWith('A') ? 'B' : 'A');
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const tampered: Record<string, string> = {
      'random session token': `lus_${'Q'.repeat(43)}`,
      'truncated session': admin.slice(0, -1),
      'extended session': `${admin}A`,
      'one character changed': flip(admin),
      'upper-cased session': admin.toUpperCase(),
      'kind changed (lus_ → lut_)': `lut_${admin.slice(4)}`,
      'role claim forged (JWT)': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'elu', role: 'admin' })}.`,
      'viewer API token with a role suffix': `${viewerApiToken}.admin`,
      'admin token truncated': ADMIN_TOKEN.slice(0, -1),
      'admin token extended': `${ADMIN_TOKEN}x`,
      'hash of a session sent as token': tokenHash(admin),
      'revoked session of another user': revoked,
      'session of a disabled user': ofDisabled,
      'session of a deleted user': ofDeleted,
      'expired session': expired,
    };
    const badHeaders: Record<string, Record<string, string>> = {
      'Basic scheme': { authorization: `Basic ${Buffer.from(`chef:${PASSWORD}`).toString('base64')}` },
      'no token after Bearer': { authorization: 'Bearer ' },
      'token in another header': { 'x-api-key': ADMIN_TOKEN },
    };
    let checked = 0;
    for (const op of ops) {
      if (op.minRole === 'public') continue;
      for (const [what, token] of Object.entries(tampered)) {
        const res = await call(token, op.method, urlOf(op.path), op.hasBody ? {} : undefined);
        expect([op.key, what, res.status, res.json?.code]).toEqual([op.key, what, 401, 'LUCIOLE_ERR_UNAUTHORIZED']);
        checked++;
      }
      for (const [what, headers] of Object.entries(badHeaders)) {
        const res = await call(null, op.method, urlOf(op.path), undefined, { headers });
        expect([op.key, what, res.status]).toEqual([op.key, what, 401]);
      }
      const inQuery = await call(null, op.method, `${urlOf(op.path)}?access_token=${ADMIN_TOKEN}`);
      expect([op.key, inQuery.status]).toEqual([op.key, 401]);
    }
    expect(checked).toBe(Object.keys(tampered).length * ops.filter((o) => o.minRole !== 'public').length);
    // The real tokens still work after all that.
    expect((await call(admin, 'GET', '/api/session/me')).json).toMatchObject({ name: 'chef', role: 'admin', kind: 'session' });
  });

  it('changes nothing in either database when a role below admin calls every route above its own', async () => {
    const otherSession = (await call(tokens.admin, 'GET', '/api/sessions')).json.find((s: any) => s.username === 'chef').id as string;
    const examples = validExamples();
    for (const role of ROLES.filter((r) => r !== 'admin')) {
      const beforeConfig = dumpConfig();
      const beforeTelemetry = dumpTelemetry();
      const auditBefore = auditCount();
      let calls = 0;
      for (const op of ops) {
        if (op.minRole === 'public' || roleAtLeast(role, op.minRole) || op.stream) continue;
        const example = examples[op.key];
        const res = await call(tokens[role], op.method, example?.url ?? urlOf(op.path), example?.body ?? (op.hasBody ? {} : undefined), example?.extra ?? {});
        expect([role, op.key, res.status]).toEqual([role, op.key, 403]);
        calls++;
      }
      // Self-service routes on what is not theirs: another user's session.
      const foreign = await call(tokens[role], 'DELETE', `/api/sessions/${otherSession}`);
      expect([role, foreign.status]).toEqual([role, 404]);
      // A failed sign-in writes nothing either.
      expect((await call(null, 'POST', '/api/session', { username: USERS[role], password: 'not the password at all' })).status).toBe(401);
      expect(calls).toBeGreaterThan(role === 'viewer' ? 15 : 5);
      expect(auditCount()).toBe(auditBefore);
      expect(dumpConfig()).toBe(beforeConfig);
      expect(dumpTelemetry()).toBe(beforeTelemetry);
    }
    expect((await call(tokens.admin, 'GET', '/api/session/me')).status).toBe(200);
  });

  it('writes an audit entry naming the author for every change, through every mutating route', async () => {
    const zone = (await call(tokens.viewer, 'GET', '/api/zones')).json.find((z: any) => z.name === 'centre');
    const { name: _n, lamps: _l, cabinets: _c, profile: _p, inPlan: _i, described: _d, ...zoneMeta } = zone;
    const created: Record<string, string> = {};
    const reportSettings = (await call(tokens.viewer, 'GET', '/api/reports/settings')).json as unknown;
    // A cabinet door opened: an alert for the maintenance crew to acknowledge and resolve.
    const gateway = await mqtt.connectAsync(server.mqttUrl, {
      username: 'ARM-02',
      password: server.credentials.issue('ARM-02', 'cabinet'),
      clientId: 'edge-ARM-02',
      reconnectPeriod: 0,
    });
    try {
      await gateway.publishAsync(cabinetTopic('ARM-02', 'event'), JSON.stringify({ v: 1, ts: START, code: 'door_open', lampId: null, detail: 'test' }), { qos: 1 });
      await eventually(async () => {
        const alerts = (await call(tokens.viewer, 'GET', '/api/alerts')).json as Array<{ id: string; kind: string }>;
        created.alert = alerts.find((a) => a.kind === 'door_open')?.id ?? '';
        return created.alert !== '';
      }, 'a door_open alert');
    } finally {
      await gateway.endAsync(true);
    }
    type Step = { key: string; as: Role | 'bootstrap'; url?: string; body?: () => unknown; expect: number; actor?: string; after?: (r: Reply) => void; extra?: { headers?: Record<string, string> } };
    const steps: Step[] = [
      { key: 'PUT /api/zones/{zone}', as: 'technician', url: '/api/zones/centre', body: () => ({ ...zoneMeta, label: 'Centre-ville' }), expect: 200 },
      { key: 'PUT /api/groups/{id}', as: 'technician', url: '/api/groups/marche', body: () => ({ label: 'Marché', lamps: [lampA, lampB] }), expect: 200 },
      { key: 'DELETE /api/groups/{id}', as: 'technician', url: '/api/groups/marche', expect: 204 },
      { key: 'PUT /api/plan', as: 'technician', body: () => demoPlan(), expect: 200 },
      { key: 'POST /api/plan/rollback', as: 'technician', body: () => ({ version: 1 }), expect: 200 },
      { key: 'POST /api/overrides', as: 'technician', body: () => ({ target: { type: 'zone', id: 'centre' }, level: 10, durationS: 600, reason: 'essai de maintenance' }), expect: 201, after: (r) => (created.override = r.json.id) },
      { key: 'DELETE /api/overrides/{id}', as: 'technician', url: '/api/overrides/{override}', expect: 200 },
      { key: 'PUT /api/reports/settings', as: 'technician', body: () => reportSettings, expect: 200 },
      { key: 'POST /api/alerts/{id}/acknowledge', as: 'maintenance', url: '/api/alerts/{alert}/acknowledge', body: () => ({}), expect: 200 },
      { key: 'POST /api/alerts/{id}/resolve', as: 'maintenance', url: '/api/alerts/{alert}/resolve', body: () => ({ note: 'porte refermée' }), expect: 200 },
      { key: 'POST /api/cabinets/{id}/credentials', as: 'admin', url: '/api/cabinets/ARM-01/credentials', expect: 200, after: (r) => secrets.add(r.json.password) },
      { key: 'PATCH /api/lamps/{id}', as: 'admin', url: `/api/lamps/${lampA}`, body: () => ({ colourTemperatureK: 2700 }), expect: 200 },
      { key: 'POST /api/inventory/import', as: 'admin', body: () => townInventory(town), expect: 200 },
      { key: 'POST /api/users', as: 'admin', body: () => ({ username: 'stagiaire', role: 'viewer' }), expect: 201, after: (r) => secrets.add(r.json.password) },
      { key: 'PATCH /api/users/{username}', as: 'admin', url: '/api/users/stagiaire', body: () => ({ role: 'maintenance', password: `${PASSWORD}!` }), expect: 200 },
      { key: 'POST /api/session', as: 'bootstrap', body: () => ({ username: 'stagiaire', password: `${PASSWORD}!` }), expect: 201, actor: 'stagiaire', after: (r) => ((created.intern = r.json.token), (created.internId = r.json.id), secrets.add(r.json.token)) },
      { key: 'DELETE /api/sessions/{id}', as: 'admin', url: '/api/sessions/{internId}', expect: 204 },
      { key: 'DELETE /api/session', as: 'viewer', expect: 204, actor: 'elu' },
      { key: 'DELETE /api/users/{username}', as: 'admin', url: '/api/users/stagiaire', expect: 204 },
      { key: 'POST /api/tokens', as: 'bootstrap', body: () => ({ label: 'supervision', role: 'technician', expiresInDays: 7 }), expect: 201, actor: 'admin', after: (r) => ((created.token = r.json.credential.id), secrets.add(r.json.token)) },
      { key: 'DELETE /api/tokens/{id}', as: 'admin', url: '/api/tokens/{token}', expect: 204 },
    ];
    const readOnly = new Set(['POST /api/plan/check', 'POST /api/plan/what-if', 'POST /api/plan/curve']);
    const mutating = ops.filter((o) => o.method !== 'GET' && o.minRole !== 'public' && !readOnly.has(o.key)).map((o) => o.key);
    const covered = new Set(steps.map((s) => s.key));
    expect(mutating.filter((k) => !covered.has(k)), 'mutating routes without an audit step here: add one').toEqual([]);

    for (const step of steps) {
      const token = step.as === 'bootstrap' ? (step.key === 'POST /api/session' ? null : ADMIN_TOKEN) : tokens[step.as];
      const url = (step.url ?? step.key.split(' ')[1]!).replace(/\{(\w+)\}/g, (_m, k: string) => created[k] ?? `{${k}}`);
      const before = auditCount();
      const res = await call(token, step.key.split(' ')[0]!, url, step.body?.(), step.extra ?? {});
      expect([step.key, res.status, res.json?.message]).toEqual([step.key, step.expect, undefined]);
      step.after?.(res);
      const entries = auditSince(before);
      const actor = step.actor ?? (step.as === 'bootstrap' ? 'admin' : USERS[step.as]);
      expect(entries.length, `${step.key} wrote no audit entry`).toBeGreaterThan(0);
      expect(entries.map((e) => e.actor), step.key).toContain(actor);
    }
    tokens.viewer = await signIn('elu');

    // The read-only POSTs compute and store nothing.
    const beforeConfig = dumpConfig();
    const auditBefore = auditCount();
    for (const key of readOnly) {
      const body = key === 'POST /api/plan/curve' ? { profile: 'residentiel', date: '2026-11-20' } : { plan: demoPlan() };
      const res = await call(tokens.technician, 'POST', key.split(' ')[1]!, body);
      expect([key, res.status]).toEqual([key, 200]);
    }
    expect(auditCount()).toBe(auditBefore);
    expect(dumpConfig()).toBe(beforeConfig);

    const log = await call(tokens.admin, 'GET', '/api/audit?limit=1000');
    expect(log.status).toBe(200);
    expect(log.json.map((e: any) => e.action)).toEqual(expect.arrayContaining(['user.create', 'user.update', 'user.delete', 'session.create', 'session.revoke', 'token.create', 'token.revoke', 'override.set', 'plan.save']));
    expect(JSON.stringify(log.json)).not.toMatch(/scrypt\$/);
  }, 30_000);

  it('refuses generated invalid bodies on every route with a body: 4xx only, 0 writes', async () => {
    const examples = validExamples();
    const withBody = ops.filter((o) => o.hasBody);
    expect(withBody.length).toBeGreaterThan(10);
    const beforeConfig = dumpConfig();
    const beforeTelemetry = dumpTelemetry();
    const nasty = fc.oneof(
      fc.constant('x'.repeat(1_000_000)),
      fc.constantFrom(Number.MAX_VALUE, -0, 1e308, Number.MIN_VALUE, 'NaN', 'Infinity', '-Infinity', '1e999'),
      deepNesting(),
      // undefined would vanish from the JSON and leave a valid body.
      fc.anything({ maxDepth: 4 }).filter((v) => v !== undefined),
    );
    // Certainly invalid: the wrong type at the top, or a key no schema names (with anything in it).
    const invalidBody = fc.oneof(
      fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 5 })).map((v) => ({ value: v as unknown })),
      fc.tuple(fc.constantFrom('zzUnknown', 'isAdmin', 'role_', 'createdBy', 'passwordHash', 'id_'), nasty).map(([k, v]) => ({ extraKey: k, extra: v as unknown })),
    );
    const rawPayloads = [
      '{"__proto__":{"role":"admin"}}',
      '{"constructor":{"prototype":{"role":"admin"}}}',
      '{"username":"elu","password":',
      `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
      `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`,
      '{"level": NaN}',
      '\u0000',
    ];
    let sent = 0;
    for (const op of withBody) {
      const example = examples[op.key];
      const url = example?.url ?? urlOf(op.path);
      await fc.assert(
        fc.asyncProperty(invalidBody, async (input) => {
          // GeoJSON allows foreign members: the import's invalid bodies start from nothing.
          const base = (op.key === 'POST /api/inventory/import' ? {} : (example?.body ?? {})) as Record<string, unknown>;
          const body = 'extraKey' in input ? { ...base, [input.extraKey!]: input.extra } : input.value;
          const res = await call(ADMIN_TOKEN, op.method, url, body ?? null);
          sent++;
          if (res.status < 400 || res.status >= 500) {
            throw new Error(`${op.key} answered ${res.status} ${JSON.stringify(res.json).slice(0, 200)} to ${JSON.stringify(body)?.slice(0, 200)}`);
          }
        }),
        { numRuns: 12 },
      );
      for (const raw of rawPayloads) {
        const res = await call(ADMIN_TOKEN, op.method, url, undefined, { raw });
        sent++;
        expect([op.key, raw.slice(0, 30), res.status >= 400 && res.status < 500]).toEqual([op.key, raw.slice(0, 30), true]);
      }
    }
    expect(sent).toBe(withBody.length * (12 + rawPayloads.length));
    expect(dumpConfig()).toBe(beforeConfig);
    expect(dumpTelemetry()).toBe(beforeTelemetry);
    // And the valid examples are still accepted afterwards (the process did not fall over).
    expect((await call(ADMIN_TOKEN, 'GET', '/api/health')).status).toBe(200);
    expect((await call(tokens.technician, 'POST', '/api/plan/check', { plan: demoPlan() })).status).toBe(200);
  }, 120_000);

  it('refuses mass assignment and privilege escalation', async () => {
    const extra = await call(ADMIN_TOKEN, 'POST', '/api/users', { username: 'nouveau', role: 'viewer', password: PASSWORD, createdBy: 'someone-else' });
    expect([extra.status, extra.json.code, extra.json.field]).toEqual([400, 'LUCIOLE_ERR_VALIDATION', 'createdBy']);
    const rename = await call(ADMIN_TOKEN, 'PATCH', '/api/users/elu', { username: 'chef' });
    expect([rename.status, rename.json.field]).toEqual([400, 'username']);
    // The same rule on routes whose schemas are not strict themselves: the validator refuses dropped keys.
    const group = await call(tokens.technician, 'PUT', '/api/groups/g1', { label: 'G', lamps: [lampA], id: 'other' });
    expect([group.status, group.json.field]).toEqual([400, 'id']);
    const override = await call(tokens.technician, 'POST', '/api/overrides', { target: { type: 'town', id: 'x' }, level: 10, durationS: 60, reason: 'r', by: 'chef' });
    expect(override.status).toBe(400);

    // An admin demoted to technician: the open session and the tokens they issued drop to technician at once.
    expect((await call(ADMIN_TOKEN, 'POST', '/api/users', { username: 'ex-chef', role: 'admin', password: PASSWORD })).status).toBe(201);
    const exChef = await signIn('ex-chef');
    const issued = await call(exChef, 'POST', '/api/tokens', { label: 'script', role: 'admin', expiresInDays: 1 });
    expect(issued.status).toBe(201);
    secrets.add(issued.json.token);
    expect((await call(ADMIN_TOKEN, 'PATCH', '/api/users/ex-chef', { role: 'technician' })).status).toBe(200);
    for (const t of [exChef, issued.json.token as string]) {
      expect((await call(t, 'GET', '/api/session/me')).json.role).toBe('technician');
      expect((await call(t, 'POST', '/api/users', { username: 'pirate', role: 'admin', password: PASSWORD })).status).toBe(403);
      expect((await call(t, 'POST', '/api/tokens', { label: 'x', role: 'admin' })).status).toBe(403);
      expect((await call(t, 'PATCH', '/api/users/ex-chef', { role: 'admin' })).status).toBe(403);
    }
    expect(store.user('pirate')).toBeUndefined();

    // Object level: a user sees and ends only their own sessions.
    const mine = await call(tokens.maintenance, 'GET', '/api/sessions');
    expect(mine.status).toBe(200);
    expect(new Set(mine.json.map((s: any) => s.username))).toEqual(new Set(['equipe']));
    expect(mine.json.find((s: any) => s.current)).toBeDefined();
  });

  // Per address, windows and expiry with a moving clock: dashboard/auth-sessions.test.ts.
  it('limits sign-ins per username, counting parallel guesses', async () => {
    expect((await call(ADMIN_TOKEN, 'POST', '/api/users', { username: 'cible', role: 'technician', password: PASSWORD })).status).toBe(201);
    // Counted before the password is checked: parallel guesses do not slip through.
    const guesses = await Promise.all(
      Array.from({ length: 12 }, () => call(null, 'POST', '/api/session', { username: 'cible', password: 'guess-guess-guess' }, { remoteAddress: '198.51.100.7' })),
    );
    const codes = guesses.map((g) => g.status).sort();
    expect(codes.filter((c) => c === 401)).toHaveLength(10);
    expect(codes.filter((c) => c === 429)).toHaveLength(2);
    // Locked: even the right password is refused, with Retry-After, until the window ends.
    const locked = await call(null, 'POST', '/api/session', { username: 'cible', password: PASSWORD }, { remoteAddress: '198.51.100.8' });
    expect([locked.status, locked.json.code]).toEqual([429, 'LUCIOLE_ERR_RATE_LIMITED']);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // Other users are not locked out by it.
    expect((await call(null, 'POST', '/api/session', { username: 'equipe', password: PASSWORD }, { remoteAddress: '198.51.100.8' })).status).toBe(201);

    // Unknown and known usernames get the same answer: nothing tells which accounts exist.
    const unknown = await call(null, 'POST', '/api/session', { username: 'personne', password: 'guess-guess-guess' }, { remoteAddress: '192.0.2.1' });
    const known = await call(null, 'POST', '/api/session', { username: 'equipe', password: 'guess-guess-guess' }, { remoteAddress: '192.0.2.1' });
    expect([unknown.status, unknown.json]).toEqual([known.status, known.json]);
  }, 30_000);

  it('never writes a secret to the log', () => {
    const all = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(10);
    expect(all).toContain('signed in');
    for (const s of secrets) expect(all.includes(s), `a secret (${s.slice(0, 6)}…) is in the log: ${logLines.find((l) => l.includes(s))?.slice(0, 300)}`).toBe(false);
    expect(all).not.toMatch(/scrypt\$|lus_[A-Za-z0-9_-]{20}|lut_[A-Za-z0-9_-]{20}/);
  });

  it('answered no request with a 5xx', () => {
    expect(statuses.length).toBeGreaterThan(1000);
    expect(statuses.filter((s) => s.status >= 500)).toEqual([]);
    const by = (lo: number, hi: number) => statuses.filter((s) => s.status >= lo && s.status < hi).length;
    console.log(
      `[battery] HTTP API: ${statuses.length} requests over ${ops.length} documented routes (${ops.filter((o) => o.hasBody).length} with a body): ` +
        `${by(200, 300)} 2xx, ${statuses.filter((s) => s.status === 401).length} 401, ${statuses.filter((s) => s.status === 403).length} 403, ` +
        `${by(400, 500)} 4xx in all, ${by(500, 600)} 5xx; both databases unchanged by every refused call`,
    );
  });

  /** Valid requests per route, so that a denial is not merely a validation failure. */
  function validExamples(): Record<string, { url?: string; body?: unknown; extra?: { headers?: Record<string, string> } }> {
    return {
      'PUT /api/zones/{zone}': { url: '/api/zones/centre', body: { label: 'Centre', category: 'other' } },
      'PUT /api/groups/{id}': { url: '/api/groups/marche', body: { label: 'Marché', lamps: [lampA] } },
      'DELETE /api/groups/{id}': { url: '/api/groups/marche' },
      'PUT /api/plan': { body: demoPlan() },
      'POST /api/plan/rollback': { body: { version: 1 } },
      'POST /api/plan/check': { body: { plan: demoPlan() } },
      'POST /api/plan/what-if': { body: { plan: demoPlan() } },
      'POST /api/plan/curve': { body: { profile: 'residentiel', date: '2026-11-20' } },
      'POST /api/overrides': { body: { target: { type: 'town' }, level: 100, durationS: 600, reason: 'test' } },
      'POST /api/cabinets/{id}/credentials': { url: '/api/cabinets/ARM-01/credentials' },
      'POST /api/alerts/{id}/acknowledge': { url: '/api/alerts/a-1/acknowledge', body: {} },
      'PUT /api/reports/settings': { body: { tariffs: [], emissionFactorKgPerKWh: 0.05 } },
      'POST /api/alerts/{id}/resolve': { url: '/api/alerts/a-1/resolve', body: { note: 'fait' } },
      'PATCH /api/lamps/{id}': { url: `/api/lamps/${lampA}`, body: { colourTemperatureK: 3000 } },
      'POST /api/inventory/import': { body: townInventory(town) },
      'POST /api/users': { body: { username: 'intrus', role: 'admin', password: PASSWORD } },
      'PATCH /api/users/{username}': { url: '/api/users/elu', body: { role: 'admin' } },
      'DELETE /api/users/{username}': { url: '/api/users/chef' },
      'POST /api/tokens': { body: { label: 'intrus', role: 'admin', expiresInDays: 365 } },
      'POST /api/session': { body: { username: 'chef', password: PASSWORD } },
    };
  }
});

/** Every table as sorted JSON rows: equal strings, equal contents. */
function dumpDatabase(db: Database.Database): string {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>;
  const out: Record<string, string[]> = { user_version: [String(db.pragma('user_version', { simple: true }))] };
  for (const { name } of tables) {
    out[name] = (db.prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`).all() as unknown[]).map((r) => JSON.stringify(r)).sort();
  }
  return JSON.stringify(out);
}

/** Arrays or objects nested 50 to 2,000 deep. */
function deepNesting(): fc.Arbitrary<unknown> {
  return fc.tuple(fc.integer({ min: 50, max: 2000 }), fc.boolean()).map(([depth, arrays]) => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = arrays ? [v] : { a: v };
    return v;
  });
}
