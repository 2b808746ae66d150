import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { z } from 'zod';
import { LucioleError } from '../core/errors.js';
import { ID_PATTERN } from '../protocol/index.js';
import { roleSchema, type Role } from './identity.js';

/**
 * MQTT accounts of the bundled broker, in the controller's config database. Only a scrypt hash of
 * each secret is stored; a secret is shown once, when issued.
 */

/**
 * Secrets are 32 random bytes (256 bits), never chosen by a person, so no amount of key
 * stretching is needed to resist guessing: scrypt is here so that a leaked database does not
 * give working secrets, and its cost is kept low (N=2^11, r=8: about 3.5 ms and 2 MiB per verify
 * on a small server) so that a whole town reconnecting after a broker restart costs seconds of
 * CPU, not minutes. Parameters are stored per row, so they can be raised later.
 */
export const DEFAULT_SCRYPT_PARAMS = { N: 2048, r: 8, p: 1, keylen: 32 } as const;

export const scryptParamsSchema = z.object({
  N: z.number().int().min(2).max(1 << 17),
  r: z.number().int().min(1).max(16),
  p: z.number().int().min(1).max(16),
  keylen: z.number().int().min(16).max(64),
});
export type ScryptParams = z.infer<typeof scryptParamsSchema>;

const SECRET_BYTES = 32;
const SALT_BYTES = 16;

const rowSchema = z.object({
  username: z.string(),
  role: roleSchema,
  hash: z.instanceof(Buffer),
  salt: z.instanceof(Buffer),
  params: z.string(),
  generation: z.number().int(),
  created_at: z.number().int(),
  revoked_at: z.number().int().nullable(),
});

const currentSchema = rowSchema.pick({ generation: true, revoked_at: true });
const stateRowSchema = rowSchema.pick({ username: true, generation: true, revoked_at: true });

/**
 * Where an account's secret stands. `generation` grows by one at every issue and every revoke,
 * so a connection authenticated under another generation holds a secret that is no longer valid.
 */
export const accountStateSchema = z.object({ generation: z.number().int(), revoked: z.boolean() });
export type AccountState = z.infer<typeof accountStateSchema>;

/** A secret that verified: the role it grants and the generation it belongs to. */
export const verifiedAccountSchema = z.object({ role: roleSchema, generation: z.number().int() });
export type VerifiedAccount = z.infer<typeof verifiedAccountSchema>;

const usernameSchema = z.string().regex(ID_PATTERN, { message: 'must be 1 to 64 characters of A-Z a-z 0-9 _ . -' });

export interface CredentialInfo {
  username: string;
  role: Role;
  generation: number;
  createdAt: number;
  revokedAt: number | null;
}

export interface CredentialStoreOptions {
  /** Wall-clock milliseconds for `created_at`/`revoked_at`. */
  now?: () => number;
  scrypt?: ScryptParams;
  /** Successful verifications remembered, least recently used evicted. */
  cacheSize?: number;
  /**
   * Called with each new cabinet secret, in the same transaction as its hash: the controller
   * derives and stores the cabinet's command key from it (controller/command-signing.ts), the one
   * moment the secret exists in clear. If it throws, nothing is issued.
   */
  onCabinetSecret?: (cabinetId: string, secret: string) => void;
}

function scryptOptions(params: ScryptParams): { N: number; r: number; p: number; maxmem: number } {
  // scrypt needs 128·N·r bytes; node's default ceiling (32 MiB) would refuse larger stored params.
  return { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
}

/** On libuv's thread pool: a verify never blocks the broker's event loop. */
function scryptAsync(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, params.keylen, scryptOptions(params), (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export class CredentialStore {
  private readonly now: () => number;
  private readonly params: ScryptParams;
  private readonly cacheSize: number;
  private readonly onCabinetSecret: ((cabinetId: string, secret: string) => void) | undefined;
  /** Key: username, generation and sha256 of the secret; value: the role granted. */
  private readonly cache = new Map<string, Role>();
  /** Issues and revokes through this handle; `PRAGMA data_version` counts only other connections' commits. */
  private localWrites = 0;
  private stmts: {
    get: Statement<[string]>;
    generation: Statement<[string]>;
    states: Statement<[]>;
    upsert: Statement<[string, string, Buffer, Buffer, string, number]>;
    revoke: Statement<[number, string]>;
    list: Statement<[]>;
  } | null = null;

  constructor(
    private readonly db: Database,
    opts: CredentialStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.params = scryptParamsSchema.parse(opts.scrypt ?? DEFAULT_SCRYPT_PARAMS);
    this.cacheSize = opts.cacheSize ?? 4096;
    this.onCabinetSecret = opts.onCabinetSecret;
  }

  init(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS mqtt_credentials (
      username TEXT PRIMARY KEY,
      role TEXT NOT NULL CHECK (role IN ('cabinet', 'controller')),
      hash BLOB NOT NULL,
      salt BLOB NOT NULL,
      params TEXT NOT NULL,
      generation INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      revoked_at INTEGER
    ) STRICT`);
    this.stmts = {
      get: this.db.prepare('SELECT * FROM mqtt_credentials WHERE username = ?'),
      generation: this.db.prepare('SELECT generation, revoked_at FROM mqtt_credentials WHERE username = ?'),
      states: this.db.prepare('SELECT username, generation, revoked_at FROM mqtt_credentials'),
      upsert: this.db.prepare(`INSERT INTO mqtt_credentials (username, role, hash, salt, params, generation, created_at, revoked_at)
        VALUES (?, ?, ?, ?, ?, 1, ?, NULL)
        ON CONFLICT (username) DO UPDATE SET hash = excluded.hash, salt = excluded.salt, params = excluded.params,
          generation = generation + 1, created_at = excluded.created_at, revoked_at = NULL`),
      revoke: this.db.prepare(
        'UPDATE mqtt_credentials SET revoked_at = ?, generation = generation + 1 WHERE username = ? AND revoked_at IS NULL',
      ),
      list: this.db.prepare('SELECT * FROM mqtt_credentials ORDER BY username'),
    };
  }

  private statements(): NonNullable<CredentialStore['stmts']> {
    if (!this.stmts) throw new LucioleError('LUCIOLE_ERR_NOT_INITIALISED', 'CredentialStore.init() was not called');
    return this.stmts;
  }

  /**
   * Issues a new secret for `username` and returns it (the only time it exists in clear). Any
   * previous secret of that account stops working. A username keeps the role it was first given.
   */
  issue(username: string, role: Role): string {
    const name = usernameSchema.safeParse(username);
    if (!name.success) {
      throw new LucioleError('LUCIOLE_ERR_CREDENTIAL_INVALID', `username ${name.error.issues[0]?.message ?? 'is invalid'}`, 'username');
    }
    const parsedRole = roleSchema.safeParse(role);
    if (!parsedRole.success) throw new LucioleError('LUCIOLE_ERR_CREDENTIAL_INVALID', 'role must be cabinet or controller', 'role');
    const s = this.statements();
    const existing = s.get.get(username);
    if (existing) {
      const row = rowSchema.parse(existing);
      // Re-issuing under another role would let a cabinet name take over the controller account, or
      // the reverse, by a slip of the operator.
      if (row.role !== role) {
        throw new LucioleError('LUCIOLE_ERR_CREDENTIAL_ROLE', `${username} is a ${row.role} account, not a ${role}`, 'role');
      }
    }
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    const salt = randomBytes(SALT_BYTES);
    // Synchronous on purpose: issuing is a rare admin action and the row must be written before return.
    const hash = scryptSync(secret, salt, this.params.keylen, scryptOptions(this.params));
    this.db.transaction(() => {
      s.upsert.run(username, role, hash, salt, JSON.stringify(this.params), this.now());
      if (role === 'cabinet') this.onCabinetSecret?.(username, secret);
    })();
    this.localWrites++;
    return secret;
  }

  /** Revokes the account's current secret. False when there was no active secret. */
  revoke(username: string): boolean {
    const changed = this.statements().revoke.run(this.now(), username).changes > 0;
    if (changed) this.localWrites++;
    return changed;
  }

  /**
   * A value that changes whenever this database may hold new credentials: after a commit by any
   * other connection (another process: `luciole cabinet credentials`) or an issue or revoke through
   * this handle. Costs one pragma, no table read: the broker polls it to know when to look at
   * `accountStates()`. Other tables' commits change it too; it only says "look again".
   */
  changeMarker(): string {
    this.statements();
    return `${String(this.db.pragma('data_version', { simple: true }))}:${this.localWrites}`;
  }

  /** Every account's current generation and revocation, read in one statement. */
  accountStates(): Map<string, AccountState> {
    const states = new Map<string, AccountState>();
    for (const raw of this.statements().states.all()) {
      const row = stateRowSchema.safeParse(raw);
      // A row this code cannot read cannot verify either (verify drops it the same way).
      if (row.success) states.set(row.data.username, { generation: row.data.generation, revoked: row.data.revoked_at !== null });
    }
    return states;
  }

  /** One account's current state; null when the account does not exist. */
  accountState(username: string): AccountState | null {
    const raw = this.statements().generation.get(username);
    if (raw === undefined) return null;
    const row = currentSchema.safeParse(raw);
    // Unreadable: treated as revoked, as verify() would refuse it.
    if (!row.success) return { generation: -1, revoked: true };
    return { generation: row.data.generation, revoked: row.data.revoked_at !== null };
  }

  /**
   * The role of `username` if `password` is its current secret, else null. Never throws for a
   * wrong or malformed password; rejects only if the database fails.
   */
  async verify(username: string, password: string): Promise<Role | null> {
    return (await this.verifyAccount(username, password))?.role ?? null;
  }

  /**
   * Like `verify`, with the generation of the secret that matched: the broker keeps it per
   * connection to notice later that the secret was re-issued or revoked.
   */
  async verifyAccount(username: string, password: string): Promise<VerifiedAccount | null> {
    const s = this.statements();
    const raw = s.get.get(username);
    if (raw === undefined) return null;
    const parsed = rowSchema.safeParse(raw);
    if (!parsed.success) return null;
    const row = parsed.data;
    if (row.revoked_at !== null) return null;

    const key = cacheKey(row.username, row.generation, password);
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      return { role: cached, generation: row.generation };
    }

    const params = scryptParamsSchema.safeParse(safeJson(row.params));
    if (!params.success || row.hash.length !== params.data.keylen) return null;
    const candidate = await scryptAsync(password, row.salt, params.data);
    if (!timingSafeEqual(candidate, row.hash)) return null;

    // The secret may have been re-issued or revoked, by this or another process, while scrypt ran.
    const current = currentSchema.safeParse(s.generation.get(username));
    if (!current.success || current.data.generation !== row.generation || current.data.revoked_at !== null) return null;

    this.cache.set(key, row.role);
    if (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    return { role: row.role, generation: row.generation };
  }

  /**
   * The role of `username` if `password` is its current secret and was verified recently (it is in
   * the cache), else null. Never runs scrypt: the broker uses it to let a known gateway in while
   * its address is refused for failed logins (cabinets behind one carrier NAT share an address).
   */
  cachedRole(username: string, password: string): Role | null {
    return this.cachedAccount(username, password)?.role ?? null;
  }

  /** `cachedRole` with the generation of the secret, as `verifyAccount` gives it. */
  cachedAccount(username: string, password: string): VerifiedAccount | null {
    const parsed = rowSchema.safeParse(this.statements().get.get(username));
    if (!parsed.success || parsed.data.revoked_at !== null) return null;
    const role = this.cache.get(cacheKey(parsed.data.username, parsed.data.generation, password));
    return role === undefined ? null : { role, generation: parsed.data.generation };
  }

  list(): CredentialInfo[] {
    return this.statements()
      .list.all()
      .map((raw) => {
        const row = rowSchema.parse(raw);
        return {
          username: row.username,
          role: row.role,
          generation: row.generation,
          createdAt: row.created_at,
          revokedAt: row.revoked_at,
        };
      });
  }
}

function cacheKey(username: string, generation: number, password: string): string {
  return `${username}\u0000${generation}\u0000${createHash('sha256').update(password).digest('base64')}`;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}
