import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ControllerApi } from '../controller/api.js';
import { openConfigStore, type SqliteConfigStore } from '../controller/config-store.js';
import { ManualClock } from '../core/clock.js';
import { tempDir } from '../tests/helpers.js';
import { buildApp } from './app.js';

/**
 * Sessions, API tokens and sign-in limits through app.inject(), over a real SQLite config store,
 * with a ManualClock the test moves: idle and absolute expiry, sign-out, revocation on a new
 * password, the per-username and per-address windows.
 */
const ADMIN = 'sessions-admin-token-0123456789abcdef';
const PASSWORD = 'a long enough password';
const MIN = 60_000;
const HOUR = 60 * MIN;

/** buildApp needs a controller; the routes tested here only read its clock. */
function stubController(clock: ManualClock): ControllerApi {
  return {
    clock,
    town: () => ({ name: 'Test', site: { lat: 45, lon: 5, timezone: 'Europe/Paris' } }),
    subscribe: () => () => undefined,
  } as unknown as ControllerApi;
}

describe('sessions and sign-in limits with an injected clock', () => {
  let tmp: ReturnType<typeof tempDir>;
  let clock: ManualClock;
  let store: SqliteConfigStore;
  let app: FastifyInstance;

  const call = async (token: string | null, method: string, url: string, body?: unknown, remoteAddress = '127.0.0.1') => {
    const res = await app.inject({
      method: method as 'GET',
      url,
      remoteAddress,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(body !== undefined ? { payload: body as object } : {}),
    });
    return { status: res.statusCode, json: res.body ? (JSON.parse(res.body) as any) : null, headers: res.headers };
  };
  const signIn = async (username: string, password = PASSWORD, address = '127.0.0.1') => call(null, 'POST', '/api/session', { username, password }, address);
  const me = async (token: string) => (await call(token, 'GET', '/api/session/me')).status;

  beforeEach(async () => {
    tmp = tempDir('auth-sessions');
    clock = new ManualClock(Date.UTC(2026, 0, 15, 8, 0));
    store = openConfigStore(`${tmp.dir}/config.db`, { now: () => clock.now() });
    app = await buildApp({
      controller: stubController(clock),
      adminToken: ADMIN,
      version: 'test',
      access: { store, sessionTtlMs: 12 * HOUR, sessionIdleMs: HOUR, loginLimits: { maxPerUser: 3, maxPerAddress: 5, windowMs: 15 * MIN } },
    });
    for (const [username, role] of [['marie', 'technician'], ['paul', 'viewer']] as const) {
      expect((await call(ADMIN, 'POST', '/api/users', { username, role, password: PASSWORD })).status).toBe(201);
    }
  });

  afterEach(async () => {
    await app.close();
    store.close();
    tmp.remove();
  });

  it('ends a session unused for longer than the idle limit, and keeps a used one', async () => {
    const session = await signIn('marie');
    expect(session.status).toBe(201);
    expect(session.json).toMatchObject({ username: 'marie', role: 'technician', expiresAt: clock.now() + 12 * HOUR, idleTimeoutS: 3600 });
    const token = session.json.token as string;
    expect(token).toMatch(/^lus_[A-Za-z0-9_-]{43}$/);
    // Stored only as its hash.
    expect(JSON.stringify(store.db.prepare('SELECT * FROM access_credentials').all())).not.toContain(token);

    clock.advance(59 * MIN);
    expect(await me(token)).toBe(200);
    clock.advance(59 * MIN);
    expect(await me(token)).toBe(200);
    clock.advance(61 * MIN);
    expect(await me(token)).toBe(401);
    // Idle expiry is final: using it again does not revive it.
    clock.advance(MIN);
    expect(await me(token)).toBe(401);
  });

  it('ends a session at its absolute expiry however much it is used', async () => {
    const token = (await signIn('marie')).json.token as string;
    // Used every 50 minutes (never idle) for 11 h 40 min...
    for (let i = 0; i < 14; i++) {
      clock.advance(50 * MIN);
      expect(await me(token)).toBe(200);
    }
    // ...and refused at 12 h.
    clock.advance(20 * MIN - 1);
    expect(await me(token)).toBe(200);
    clock.advance(1);
    expect(await me(token)).toBe(401);
    expect((await call(ADMIN, 'GET', '/api/sessions')).json).toEqual([]);
  });

  it('signs out: the token stops working at once; another user cannot end my session', async () => {
    const mine = (await signIn('marie')).json;
    const theirs = (await signIn('paul')).json.token as string;
    expect((await call(theirs, 'DELETE', `/api/sessions/${mine.id}`)).status).toBe(404);
    expect(await me(mine.token)).toBe(200);
    expect((await call(mine.token, 'DELETE', '/api/session')).status).toBe(204);
    expect(await me(mine.token)).toBe(401);
    expect((await call(mine.token, 'DELETE', '/api/session')).status).toBe(401);
    // The bootstrap token is not a session.
    expect((await call(ADMIN, 'DELETE', '/api/session')).json.code).toBe('LUCIOLE_ERR_NOT_A_SESSION');
  });

  it('revokes every session of a user given a new password, and of a disabled user', async () => {
    const a = (await signIn('marie')).json.token as string;
    const b = (await signIn('marie')).json.token as string;
    expect((await call(ADMIN, 'PATCH', '/api/users/marie', { password: 'another long password' })).status).toBe(200);
    expect([await me(a), await me(b)]).toEqual([401, 401]);
    expect((await signIn('marie')).status).toBe(401);
    const c = (await signIn('marie', 'another long password')).json.token as string;
    expect((await call(ADMIN, 'PATCH', '/api/users/marie', { disabled: true })).status).toBe(200);
    expect(await me(c)).toBe(401);
    expect((await signIn('marie', 'another long password')).status).toBe(401);
    expect((await call(ADMIN, 'PATCH', '/api/users/marie', { disabled: false })).status).toBe(200);
    expect((await signIn('marie', 'another long password')).status).toBe(201);
  });

  it('expires API tokens and lets an admin revoke them', async () => {
    const issued = await call(ADMIN, 'POST', '/api/tokens', { label: 'supervision', role: 'viewer', expiresInDays: 1 });
    expect(issued.status).toBe(201);
    const token = issued.json.token as string;
    expect(token).toMatch(/^lut_/);
    expect((await call(token, 'GET', '/api/session/me')).json).toMatchObject({ role: 'viewer', kind: 'token', name: `token:${issued.json.credential.id}` });
    // No idle limit for automation.
    clock.advance(23 * HOUR);
    expect(await me(token)).toBe(200);
    clock.advance(HOUR);
    expect(await me(token)).toBe(401);

    const other = (await call(ADMIN, 'POST', '/api/tokens', { label: 'export', role: 'viewer' })).json;
    expect(other.credential.expiresAt).toBe(clock.now() + 90 * 24 * HOUR);
    expect((await call(ADMIN, 'DELETE', `/api/tokens/${other.credential.id}`)).status).toBe(204);
    expect(await me(other.token)).toBe(401);
    expect((await call(ADMIN, 'DELETE', `/api/tokens/${other.credential.id}`)).status).toBe(404);
  });

  it('locks a username after 3 failures for the window, then lets it try again', async () => {
    for (let i = 0; i < 3; i++) expect((await signIn('marie', 'wrong password!!', `10.0.0.${i}`)).status).toBe(401);
    const locked = await signIn('marie', PASSWORD, '10.0.0.9');
    expect([locked.status, locked.json.code, locked.headers['retry-after']]).toEqual([429, 'LUCIOLE_ERR_RATE_LIMITED', '900']);
    clock.advance(14 * MIN);
    expect((await signIn('marie', PASSWORD, '10.0.0.9')).status).toBe(429);
    clock.advance(MIN);
    expect((await signIn('marie', PASSWORD, '10.0.0.9')).status).toBe(201);
    // A success clears the username's count.
    for (let i = 0; i < 2; i++) expect((await signIn('marie', 'wrong password!!', '10.0.1.1')).status).toBe(401);
    expect((await signIn('marie', PASSWORD, '10.0.1.2')).status).toBe(201);
    expect((await signIn('marie', 'wrong password!!', '10.0.1.3')).status).toBe(401);
    expect((await signIn('marie', PASSWORD, '10.0.1.3')).status).toBe(201);
  });

  it('locks an address after 5 failures across usernames, without locking the users elsewhere', async () => {
    const names = ['marie', 'paul', 'nobody', 'root', 'maire'];
    for (const n of names) expect((await signIn(n, 'wrong password!!', '192.0.2.66')).status).toBe(401);
    expect((await signIn('paul', PASSWORD, '192.0.2.66')).status).toBe(429);
    expect((await signIn('paul', PASSWORD, '192.0.2.67')).status).toBe(201);
    clock.advance(15 * MIN);
    expect((await signIn('paul', PASSWORD, '192.0.2.66')).status).toBe(201);
  });

  it('without an access store: the admin token works, user and session routes answer 501', async () => {
    const bare = await buildApp({ controller: stubController(clock), adminToken: ADMIN, version: 'test' });
    try {
      const who = await bare.inject({ method: 'GET', url: '/api/session/me', headers: { authorization: `Bearer ${ADMIN}` } });
      expect(who.json()).toEqual({ name: 'admin', role: 'admin', kind: 'bootstrap', username: null, expiresAt: null });
      const login = await bare.inject({ method: 'POST', url: '/api/session', payload: { username: 'marie', password: PASSWORD } });
      expect(login.statusCode).toBe(501);
      const users = await bare.inject({ method: 'GET', url: '/api/users', headers: { authorization: `Bearer ${ADMIN}` } });
      expect(users.statusCode).toBe(501);
    } finally {
      await bare.close();
    }
  });
});
