import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialStore } from '../broker/credentials.js';
import { commandKeyFromSecret, checkCommand } from '../edge-agent/command-auth.js';
import { commandSchema, type InputOf } from '../protocol/index.js';
import { CommandKeyStore, CommandSigner } from './command-signing.js';
import { RelayLimiter } from './presence-relay.js';

const cmd: InputOf<'command'> = { v: 1, id: 'x', ts: 1, expiresAt: 2, kind: 'clear-override', lamps: 'all' };

describe('command keys and seqs in the config database', () => {
  let dir: string;
  let db: Database.Database;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-cmdsig-'));
    db = new Database(path.join(dir, 'config.db'));
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('issuing a cabinet secret stores the derived key, never the secret; the gateway verifies with its password', () => {
    const keys = new CommandKeyStore(db);
    keys.init();
    const creds = new CredentialStore(db, { onCabinetSecret: (id, s) => keys.saveSecret(id, s), scrypt: { N: 16, r: 1, p: 1, keylen: 32 } });
    creds.init();
    const secret = creds.issue('CAB-1', 'cabinet');
    creds.issue('controller', 'controller');
    expect(keys.key('controller')).toBeNull();
    const stored = keys.key('CAB-1')!;
    expect(stored.equals(commandKeyFromSecret(secret))).toBe(true);
    const dump = JSON.stringify(db.prepare('SELECT * FROM command_keys').all()) + fs.readFileSync(path.join(dir, 'config.db')).toString('latin1');
    expect(dump.includes(secret)).toBe(false);

    const signer = new CommandSigner(keys, () => 1_763_758_800_000);
    const signed = signer.sign('CAB-1', cmd)!;
    expect(checkCommand(commandKeyFromSecret(secret), 'CAB-1', commandSchema.parse(signed), 0).ok).toBe(true);
    expect(signer.sign('CAB-UNKNOWN', cmd)).toBeNull();

    // Re-issued: the old secret's key no longer verifies new commands.
    const secret2 = creds.issue('CAB-1', 'cabinet');
    const again = commandSchema.parse(signer.sign('CAB-1', cmd));
    expect(checkCommand(commandKeyFromSecret(secret), 'CAB-1', again, 0)).toEqual({ ok: false, error: 'bad_signature' });
    expect(checkCommand(commandKeyFromSecret(secret2), 'CAB-1', again, 0).ok).toBe(true);
  });

  it('a failing key hook issues nothing', () => {
    const creds = new CredentialStore(db, { onCabinetSecret: () => { throw new Error('disk'); }, scrypt: { N: 16, r: 1, p: 1, keylen: 32 } });
    creds.init();
    expect(() => creds.issue('CAB-1', 'cabinet')).toThrow('disk');
    expect(creds.list()).toEqual([]);
  });

  it('seqs strictly increase per cabinet, across a restart and a clock stepped back', () => {
    const keys = new CommandKeyStore(db);
    keys.init();
    keys.saveSecret('A', 's');
    let now = 1_763_758_800_000;
    const s1 = new CommandSigner(keys, () => now);
    const seen: number[] = [];
    for (let i = 0; i < 500; i++) seen.push(s1.nextSeq('A'));
    now -= 3_600_000; // the controller's clock stepped back an hour, then it restarts
    const reopened = new CommandKeyStore(db);
    reopened.init();
    const s2 = new CommandSigner(reopened, () => now);
    for (let i = 0; i < 500; i++) seen.push(s2.nextSeq('A'));
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]!);
    // Another cabinet has its own sequence, above the clock floor.
    expect(s2.nextSeq('B')).toBe(now * 1000);
  });
});

describe('RelayLimiter', () => {
  it('relays to a lamp at most once per interval, each lamp on its own', () => {
    const l = new RelayLimiter(1000);
    expect([l.allow('A', 0), l.allow('A', 500), l.allow('B', 500), l.allow('A', 999), l.allow('A', 1000)]).toEqual([true, false, true, false, true]);
    expect(l.dropped).toBe(2);
    // A clock stepped back does not silence the lamp.
    expect(l.allow('A', 10)).toBe(true);
  });
});
