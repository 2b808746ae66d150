import { createHmac } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { COMMAND_KEY_LABEL, commandSchema, commandSigningInput, type InputOf } from '../protocol/index.js';

/**
 * Signed commands (docs/protocol.md, "Signed commands"): one helper used for every command the
 * controller sends (overrides, clears, relayed presence).
 *
 * The controller keeps only a scrypt hash of each cabinet's MQTT secret, so the command key is
 * derived from the secret when it is issued, K = HMAC-SHA256(secret, COMMAND_KEY_LABEL), and K is
 * stored. The gateway derives the same K from its configured password. Storing K is acceptable:
 * K cannot be turned back into the secret (HMAC is one-way), so a copy of the database still does
 * not let anyone log in to the broker as a cabinet or publish its telemetry; and whoever holds the
 * controller's database already commands the town through the controller itself. What K protects
 * against is everything between the controller and the gateway: a broker (or a hosted Mosquitto/
 * EMQX, a bridge) that is compromised or misconfigured, an account that slips past the topic ACL,
 * a captured command replayed later or to another cabinet.
 */

export function deriveCommandKey(secret: string): Buffer {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(COMMAND_KEY_LABEL, 'utf8').digest();
}

/** Hex HMAC-SHA256 of the command as the gateway will parse it. */
export function commandSignature(key: Buffer, cabinetId: string, command: InputOf<'command'>, seq: number): string {
  const { seq: _s, sig: _g, ...rest } = command;
  const parsed = commandSchema.parse(rest);
  return createHmac('sha256', key).update(commandSigningInput(cabinetId, parsed, seq), 'utf8').digest('hex');
}

export function signCommand(
  key: Buffer,
  cabinetId: string,
  command: InputOf<'command'>,
  seq: number,
): InputOf<'command'> & { seq: number; sig: string } {
  return { ...command, seq, sig: commandSignature(key, cabinetId, command, seq) };
}

/**
 * Command keys and per-cabinet command seqs, in the controller's config database (the one the
 * broker's credential store uses). `init()` creates the tables.
 */
export class CommandKeyStore {
  private stmts: {
    saveKey: Statement<[string, Buffer, number]>;
    key: Statement<[string]>;
    reserved: Statement<[string]>;
    reserve: Statement<[string, number]>;
  } | null = null;

  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  init(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS command_keys (
      cabinet_id TEXT PRIMARY KEY,
      key BLOB NOT NULL,
      created_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE IF NOT EXISTS command_seqs (
      cabinet_id TEXT PRIMARY KEY,
      reserved_up_to INTEGER NOT NULL
    ) STRICT`);
    this.stmts = {
      saveKey: this.db.prepare(`INSERT INTO command_keys (cabinet_id, key, created_at) VALUES (?, ?, ?)
        ON CONFLICT (cabinet_id) DO UPDATE SET key = excluded.key, created_at = excluded.created_at`),
      key: this.db.prepare('SELECT key FROM command_keys WHERE cabinet_id = ?'),
      reserved: this.db.prepare('SELECT reserved_up_to FROM command_seqs WHERE cabinet_id = ?'),
      reserve: this.db.prepare(`INSERT INTO command_seqs (cabinet_id, reserved_up_to) VALUES (?, ?)
        ON CONFLICT (cabinet_id) DO UPDATE SET reserved_up_to = max(reserved_up_to, excluded.reserved_up_to)`),
    };
  }

  private s(): NonNullable<CommandKeyStore['stmts']> {
    if (!this.stmts) throw new Error('CommandKeyStore.init() was not called');
    return this.stmts;
  }

  /** Stores the key derived from a newly issued cabinet secret (replacing the previous one). */
  saveSecret(cabinetId: string, secret: string): void {
    this.s().saveKey.run(cabinetId, deriveCommandKey(secret), this.now());
  }

  key(cabinetId: string): Buffer | null {
    const row = this.s().key.get(cabinetId) as { key?: unknown } | undefined;
    return row && Buffer.isBuffer(row.key) && row.key.length === 32 ? row.key : null;
  }

  reservedUpTo(cabinetId: string): number {
    const row = this.s().reserved.get(cabinetId) as { reserved_up_to?: unknown } | undefined;
    return typeof row?.reserved_up_to === 'number' ? row.reserved_up_to : 0;
  }

  reserve(cabinetId: string, upTo: number): void {
    this.s().reserve.run(cabinetId, upTo);
  }
}

/** Seqs reserved per database write: one write per cabinet per minute of the time floor at most. */
const SEQ_BLOCK = 60_000_000;

/**
 * Signs commands with strictly increasing per-cabinet seqs. A seq is at least the clock in
 * microsecond-sized steps (ms × 1000, good until the year 2255 as a safe integer), so a restored
 * database backup or a second controller does not fall below what a gateway already accepted;
 * and it is kept above every seq handed out before, in memory and, by blocks, on disk (a clock
 * stepped back cannot make it go down).
 */
export class CommandSigner {
  private readonly last = new Map<string, { last: number; reserved: number }>();

  constructor(
    private readonly keys: CommandKeyStore,
    private readonly now: () => number,
  ) {}

  /**
   * The command signed for `cabinetId`, or null when no key is known for it (its secret was
   * not issued by this controller): the caller sends it unsigned and the gateway refuses it.
   */
  sign(cabinetId: string, command: InputOf<'command'>): (InputOf<'command'> & { seq: number; sig: string }) | null {
    const key = this.keys.key(cabinetId);
    if (!key) return null;
    return signCommand(key, cabinetId, command, this.nextSeq(cabinetId));
  }

  nextSeq(cabinetId: string): number {
    let s = this.last.get(cabinetId);
    if (!s) {
      // Skip what is left of the block reserved before a restart: it may have been used.
      const reserved = this.keys.reservedUpTo(cabinetId);
      s = { last: reserved, reserved };
      this.last.set(cabinetId, s);
    }
    const seq = Math.max(s.last + 1, Math.floor(this.now()) * 1000);
    if (seq > s.reserved) {
      const upTo = seq + SEQ_BLOCK;
      this.keys.reserve(cabinetId, upTo);
      s.reserved = upTo;
    }
    s.last = seq;
    return seq;
  }
}
