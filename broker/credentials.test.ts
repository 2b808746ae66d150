import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LucioleError } from '../core/errors.js';
import { CredentialStore } from './credentials.js';

describe('CredentialStore', () => {
  let dir: string;
  let file: string;
  let db: Database.Database;
  let now: number;
  let store: CredentialStore;
  const extra: Database.Database[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-cred-'));
    file = path.join(dir, 'config.db');
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    now = 1_763_758_800_000;
    store = new CredentialStore(db, { now: () => now });
    store.init();
  });

  afterEach(() => {
    for (const d of extra.splice(0)) d.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('issues a random base64url secret of 32 bytes and stores only its hash', async () => {
    const secret = store.issue('CAB-1', 'cabinet');
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(store.issue('CAB-2', 'cabinet')).not.toBe(secret);
    const row = db.prepare('SELECT * FROM mqtt_credentials WHERE username = ?').get('CAB-1') as Record<string, unknown>;
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(Buffer.isBuffer(row.hash)).toBe(true);
    expect(JSON.parse(row.params as string)).toEqual({ N: 2048, r: 8, p: 1, keylen: 32 });
    expect(await store.verify('CAB-1', secret)).toBe('cabinet');
  });

  it('verifies the role, and refuses a wrong secret or an unknown user', async () => {
    const cab = store.issue('CAB-1', 'cabinet');
    const ctl = store.issue('controller', 'controller');
    expect(await store.verify('controller', ctl)).toBe('controller');
    expect(await store.verify('CAB-1', ctl)).toBeNull();
    expect(await store.verify('CAB-1', '')).toBeNull();
    expect(await store.verify('nobody', cab)).toBeNull();
    // Cached successes never leak to another user or a wrong password.
    expect(await store.verify('CAB-1', cab)).toBe('cabinet');
    expect(await store.verify('CAB-1', cab)).toBe('cabinet');
    expect(await store.verify('CAB-1', cab + 'x')).toBeNull();
  });

  it('re-issuing revokes the old secret, even one verified (and cached) before', async () => {
    const first = store.issue('CAB-1', 'cabinet');
    expect(await store.verify('CAB-1', first)).toBe('cabinet');
    const second = store.issue('CAB-1', 'cabinet');
    expect(await store.verify('CAB-1', first)).toBeNull();
    expect(await store.verify('CAB-1', second)).toBe('cabinet');
    expect(store.list().find((c) => c.username === 'CAB-1')?.generation).toBe(2);
  });

  it('revoke stops a secret; re-issue brings the account back', async () => {
    const secret = store.issue('CAB-1', 'cabinet');
    expect(await store.verify('CAB-1', secret)).toBe('cabinet');
    now += 1000;
    expect(store.revoke('CAB-1')).toBe(true);
    expect(store.revoke('CAB-1')).toBe(false);
    expect(store.revoke('nobody')).toBe(false);
    expect(await store.verify('CAB-1', secret)).toBeNull();
    expect(store.list()).toEqual([
      { username: 'CAB-1', role: 'cabinet', generation: 2, createdAt: now - 1000, revokedAt: now },
    ]);
    const again = store.issue('CAB-1', 'cabinet');
    expect(await store.verify('CAB-1', again)).toBe('cabinet');
    expect(store.list()[0]?.revokedAt).toBeNull();
  });

  it('a revoke by another process (another connection to the file) beats the cache', async () => {
    const secret = store.issue('CAB-1', 'cabinet');
    expect(await store.verify('CAB-1', secret)).toBe('cabinet');
    const other = new Database(file);
    extra.push(other);
    const otherStore = new CredentialStore(other);
    otherStore.init();
    expect(otherStore.revoke('CAB-1')).toBe(true);
    expect(await store.verify('CAB-1', secret)).toBeNull();
  });

  it('verifyAccount and cachedAccount give the generation of the secret that matched', async () => {
    const first = store.issue('CAB-1', 'cabinet');
    expect(store.cachedAccount('CAB-1', first)).toBeNull();
    expect(await store.verifyAccount('CAB-1', first)).toEqual({ role: 'cabinet', generation: 1 });
    expect(store.cachedAccount('CAB-1', first)).toEqual({ role: 'cabinet', generation: 1 });
    const second = store.issue('CAB-1', 'cabinet');
    expect(await store.verifyAccount('CAB-1', first)).toBeNull();
    expect(await store.verifyAccount('CAB-1', second)).toEqual({ role: 'cabinet', generation: 2 });
  });

  it('the change marker moves on a write by another connection or this handle, and only then', () => {
    store.issue('CAB-1', 'cabinet');
    const other = new Database(file);
    extra.push(other);
    const otherStore = new CredentialStore(other);
    otherStore.init();

    const m0 = store.changeMarker();
    expect(store.changeMarker()).toBe(m0);
    // Reads, by anyone, are not changes.
    otherStore.list();
    expect(store.changeMarker()).toBe(m0);

    otherStore.issue('CAB-2', 'cabinet');
    const m1 = store.changeMarker();
    expect(m1).not.toBe(m0);
    expect(store.accountStates()).toEqual(
      new Map([
        ['CAB-1', { generation: 1, revoked: false }],
        ['CAB-2', { generation: 1, revoked: false }],
      ]),
    );

    expect(otherStore.revoke('CAB-1')).toBe(true);
    const m2 = store.changeMarker();
    expect(m2).not.toBe(m1);
    expect(store.accountState('CAB-1')).toEqual({ generation: 2, revoked: true });
    expect(store.accountState('nobody')).toBeNull();

    // This handle's own writes: data_version does not count them, the marker does.
    store.issue('CAB-2', 'cabinet');
    const m3 = store.changeMarker();
    expect(m3).not.toBe(m2);
    expect(store.revoke('CAB-2')).toBe(true);
    expect(store.changeMarker()).not.toBe(m3);
    expect(otherStore.accountState('CAB-2')).toEqual({ generation: 3, revoked: true });
  });

  it('refuses a username that is not an id, and a role change', () => {
    for (const bad of ['', 'a b', 'a/b', '+', '#', 'x'.repeat(65), 'é']) {
      expect(() => store.issue(bad, 'cabinet')).toThrow(LucioleError);
    }
    store.issue('CAB-1', 'cabinet');
    try {
      store.issue('CAB-1', 'controller');
      expect.unreachable('a role change must throw');
    } catch (e) {
      expect(e).toBeInstanceOf(LucioleError);
      expect((e as LucioleError).code).toBe('LUCIOLE_ERR_CREDENTIAL_ROLE');
      expect((e as LucioleError).field).toBe('role');
    }
    expect(store.list().map((c) => c.username)).toEqual(['CAB-1']);
  });

  it('init is idempotent and keeps the accounts', async () => {
    const secret = store.issue('CAB-1', 'cabinet');
    const again = new CredentialStore(db);
    again.init();
    expect(await again.verify('CAB-1', secret)).toBe('cabinet');
  });

  it('a corrupted row is refused, not thrown', async () => {
    const secret = store.issue('CAB-1', 'cabinet');
    db.prepare("UPDATE mqtt_credentials SET params = 'not json' WHERE username = 'CAB-1'").run();
    expect(await store.verify('CAB-1', secret)).toBeNull();
  });

  it('a successful verification evicts the oldest entry past the cache size, and still verifies', async () => {
    const small = new CredentialStore(db, { cacheSize: 1 });
    small.init();
    const s1 = store.issue('CAB-1', 'cabinet');
    const s2 = store.issue('CAB-2', 'cabinet');
    expect(await small.verify('CAB-1', s1)).toBe('cabinet');
    expect(await small.verify('CAB-2', s2)).toBe('cabinet');
    expect(await small.verify('CAB-1', s1)).toBe('cabinet');
    expect(await small.verify('CAB-2', s1)).toBeNull();
  });
});
