import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LucioleError } from '../core/errors.js';
import { tempDir } from '../tests/helpers.js';
import { openConfigStore, type SqliteConfigStore } from './config-store.js';
import type { AccessCredential } from './stores.js';

const T0 = Date.UTC(2026, 2, 1);

describe('config store: users, sessions and API tokens', () => {
  let tmp: ReturnType<typeof tempDir>;
  let now = T0;
  let store: SqliteConfigStore;

  beforeEach(() => {
    tmp = tempDir('config-access');
    now = T0;
    store = openConfigStore(`${tmp.dir}/config.db`, { now: () => now });
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  const credential = (id: string, username: string | null, over: Partial<AccessCredential> = {}) => ({
    id,
    tokenHash: `${id}`.padEnd(64, 'f'),
    kind: 'session' as const,
    username,
    label: 'session',
    role: 'viewer' as const,
    createdAt: now,
    createdBy: username ?? 'admin',
    expiresAt: now + 3_600_000,
    idleTimeoutMs: 600_000,
    revokedAt: null,
    ...over,
  });
  const audit = () => store.auditLog(100).map((e) => [e.actor, e.action, e.target, e.detail]);

  it('creates, reads, updates and deletes users, auditing each change and never the hash', () => {
    const u = store.createUser({ username: 'marie', role: 'technician', passwordHash: 'scrypt$hash-1' }, 'admin');
    expect(u).toEqual({ username: 'marie', role: 'technician', createdAt: T0, createdBy: 'admin', updatedAt: T0, disabled: false });
    expect(store.user('marie')?.passwordHash).toBe('scrypt$hash-1');
    expect(() => store.createUser({ username: 'marie', role: 'viewer', passwordHash: 'x' }, 'admin')).toThrow(LucioleError);
    expect(() => store.createUser({ username: 'bad', role: 'root' as never, passwordHash: 'x' }, 'admin')).toThrow();
    now += 1000;
    expect(store.updateUser('marie', { role: 'viewer', passwordHash: 'scrypt$hash-2', disabled: true }, 'chef')).toMatchObject({ role: 'viewer', disabled: true, updatedAt: T0 + 1000 });
    expect(() => store.updateUser('nobody', { role: 'viewer' }, 'chef')).toThrow(/no user/);
    expect(store.deleteUser('marie', 'chef')).toBe(true);
    expect(store.deleteUser('marie', 'chef')).toBe(false);
    expect(store.users()).toEqual([]);
    expect(audit()).toEqual([
      ['chef', 'user.delete', 'user:marie', ''],
      ['chef', 'user.update', 'user:marie', 'role=viewer, password changed, disabled'],
      ['admin', 'user.create', 'user:marie', 'role=technician'],
    ]);
    expect(JSON.stringify(store.auditLog(100))).not.toContain('scrypt$');
  });

  it('finds credentials by token hash only, revokes once, and ends a user’s credentials with a new password, disabling or deletion', () => {
    store.createUser({ username: 'paul', role: 'viewer', passwordHash: 'h' }, 'admin');
    store.createUser({ username: 'lea', role: 'admin', passwordHash: 'h' }, 'admin');
    store.addCredential(credential('ses_a', 'paul'), 'paul');
    store.addCredential(credential('ses_b', 'paul'), 'paul');
    store.addCredential(credential('tok_c', 'lea', { kind: 'token', idleTimeoutMs: null }), 'lea');
    store.addCredential(credential('tok_d', null, { kind: 'token', idleTimeoutMs: null }), 'admin');
    expect(store.credentialByTokenHash('ses_a'.padEnd(64, 'f'))?.id).toBe('ses_a');
    expect(store.credentialByTokenHash('ses_a')).toBeUndefined();
    expect(store.credentials({ kind: 'token' }).map((c) => c.id).sort()).toEqual(['tok_c', 'tok_d']);

    now += 10;
    expect(store.revokeCredential('ses_a', 'paul')).toBe(true);
    expect(store.revokeCredential('ses_a', 'paul')).toBe(false);
    expect(store.credential('ses_a')?.revokedAt).toBe(T0 + 10);
    expect(store.credentials({ activeAt: now }).map((c) => c.id).sort()).toEqual(['ses_b', 'tok_c', 'tok_d']);

    store.updateUser('paul', { passwordHash: 'h2' }, 'admin');
    expect(store.credential('ses_b')?.revokedAt).toBe(now);
    store.deleteUser('lea', 'admin');
    expect(store.credential('tok_c')?.revokedAt).toBe(now);
    // Issued with the bootstrap token: untouched by any user's change.
    expect(store.credentials({ activeAt: now }).map((c) => c.id)).toEqual(['tok_d']);
    // Past its expiry, a credential is no longer active.
    expect(store.credentials({ activeAt: T0 + 3_600_000 })).toEqual([]);
  });

  it('prunes ended credentials only', () => {
    store.addCredential(credential('ses_expired', 'x', { expiresAt: T0 + 10 }), 'x');
    store.addCredential(credential('ses_live', 'x'), 'x');
    expect(store.pruneCredentials(T0 + 100)).toBe(1);
    expect(store.credentials().map((c) => c.id)).toEqual(['ses_live']);
  });

  it('adds the tables to a database made by an earlier version', () => {
    store.close();
    const file = `${tmp.dir}/old.db`;
    const old = openConfigStore(file);
    old.close();
    const db = new Database(file);
    db.exec('DROP TABLE users; DROP TABLE access_credentials;');
    db.pragma('user_version = 3');
    db.close();
    store = openConfigStore(file, { now: () => now });
    expect(store.db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(4);
    expect(store.createUser({ username: 'ok', role: 'viewer', passwordHash: 'h' }, 'admin').username).toBe('ok');
  });
});
