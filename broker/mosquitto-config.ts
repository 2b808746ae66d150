import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { LucioleError } from '../core/errors.js';
import { ALERTS_PREFIX, CABINETS_PREFIX, DOWN_CHANNELS, ID_PATTERN, MAX_PAYLOAD_BYTES, UP_CHANNELS } from '../protocol/index.js';
import type { Role } from './identity.js';

/**
 * Files for running Luciole behind Debian's Mosquitto instead of the bundled broker: a
 * `password_file` in mosquitto_passwd's PBKDF2-SHA512 format (`$7$`), an `acl_file` that enforces
 * PROTOCOL.md's access rule per cabinet, and a `mosquitto.conf` that uses them.
 *
 * The controller's credential store keeps only scrypt hashes, which Mosquitto cannot read, so an
 * account gets into the password file at the moment its secret is issued; lines already in the
 * file are kept as they are (a regeneration does not rotate every gateway's secret).
 */

/** mosquitto_passwd's defaults (Mosquitto 2.0): 101 iterations, 12-byte salt, 64-byte SHA-512 key. */
export const MOSQUITTO_PBKDF2_ITERATIONS = 101;
const SALT_BYTES = 12;
const KEY_BYTES = 64;
const HASH_PREFIX = '$7$';

const usernameSchema = z.string().regex(ID_PATTERN, { message: 'must be 1 to 64 characters of A-Z a-z 0-9 _ . -' });

/** A `$7$` field as Mosquitto 2.0 writes it: `$7$<iterations>$<base64 salt>$<base64 key>`. */
const HASH_FIELD = /^\$7\$(\d{1,7})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

export interface MosquittoHashOptions {
  /** Injected by tests for a known answer; random otherwise. */
  salt?: Buffer;
  iterations?: number;
}

/** The `$7$` hash field of a password, as `mosquitto_passwd` would write it. */
export function hashMosquittoPassword(password: string, opts: MosquittoHashOptions = {}): string {
  const salt = opts.salt ?? randomBytes(SALT_BYTES);
  const iterations = opts.iterations ?? MOSQUITTO_PBKDF2_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new LucioleError('LUCIOLE_ERR_INVALID_ARGUMENT', 'iterations must be a positive integer', 'iterations');
  }
  const key = pbkdf2Sync(password, salt, iterations, KEY_BYTES, 'sha512');
  return `${HASH_PREFIX}${iterations}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** True when `password` matches a `$7$` hash field (any iteration count). */
export function verifyMosquittoPassword(password: string, field: string): boolean {
  const m = HASH_FIELD.exec(field);
  if (!m) return false;
  const iterations = Number(m[1]);
  const salt = Buffer.from(m[2]!, 'base64');
  const expected = Buffer.from(m[3]!, 'base64');
  if (iterations < 1 || expected.length === 0) return false;
  const key = pbkdf2Sync(password, salt, iterations, expected.length, 'sha512');
  return timingSafeEqual(key, expected);
}

/** One `username:$7$...` line. */
export function mosquittoPasswordLine(username: string, password: string, opts: MosquittoHashOptions = {}): string {
  const name = usernameSchema.safeParse(username);
  if (!name.success) {
    throw new LucioleError('LUCIOLE_ERR_INVALID_ARGUMENT', `username ${name.error.issues[0]?.message ?? 'is invalid'}`, 'username');
  }
  return `${username}:${hashMosquittoPassword(password, opts)}`;
}

/**
 * Reads a password_file: username → hash field. Lines that are not `id:$7$...` (comments, other
 * hash formats, foreign usernames) are refused with their line number, so nothing is dropped
 * silently when the file is rewritten.
 */
export function parseMosquittoPasswordFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    const username = colon > 0 ? line.slice(0, colon) : '';
    const field = line.slice(colon + 1);
    if (!ID_PATTERN.test(username) || !HASH_FIELD.test(field)) {
      throw new LucioleError('LUCIOLE_ERR_INVALID_ARGUMENT', `password file line ${i + 1}: not a luciole username with a $7$ hash`, `line ${i + 1}`);
    }
    out.set(username, field);
  }
  return out;
}

export function formatMosquittoPasswordFile(entries: ReadonlyMap<string, string>): string {
  return [...entries].map(([u, h]) => `${u}:${h}\n`).join('');
}

export interface MosquittoAclOptions {
  /** The controller's account (every cabinet's up channels in, down channels and alerts out). */
  controller: string;
  /**
   * No line is needed for the controllers' `$share/<group>/...` subscriptions: Mosquitto 2.0
   * checks them against the plain filter (tests/mosquitto/shared-controllers.test.ts).
   */
  cabinets: readonly string[];
}

/**
 * PROTOCOL.md's access rule as an acl_file: a block per cabinet (publish only its own up
 * channels, subscribe only its own down channels), one for the controller. Per-user blocks rather
 * than `pattern` lines: a pattern applies to every account, the controller's included, and a
 * cabinet that is not in the list gets no right at all.
 */
export function mosquittoAclFile(opts: MosquittoAclOptions): string {
  const check = (name: string, field: string): void => {
    if (!ID_PATTERN.test(name)) {
      throw new LucioleError('LUCIOLE_ERR_INVALID_ARGUMENT', `${field}: "${name.slice(0, 80)}" must be 1 to 64 characters of A-Z a-z 0-9 _ . -`, field);
    }
  };
  check(opts.controller, 'controller');
  const lines: string[] = ['# Generated by luciole: PROTOCOL.md access rule. Do not edit; regenerate.', ''];
  lines.push(`user ${opts.controller}`);
  for (const c of UP_CHANNELS) lines.push(`topic read ${CABINETS_PREFIX}+/${c}`);
  for (const c of DOWN_CHANNELS) lines.push(`topic write ${CABINETS_PREFIX}+/${c}`);
  lines.push(`topic write ${ALERTS_PREFIX}+`);
  lines.push('topic read $SYS/#');
  const seen = new Set<string>([opts.controller]);
  for (const id of opts.cabinets) {
    check(id, 'cabinets');
    if (seen.has(id)) {
      throw new LucioleError('LUCIOLE_ERR_INVALID_ARGUMENT', `cabinets: "${id}" is listed twice or is the controller account`, 'cabinets');
    }
    seen.add(id);
    lines.push('', `user ${id}`);
    for (const c of UP_CHANNELS) lines.push(`topic write ${CABINETS_PREFIX}${id}/${c}`);
    for (const c of DOWN_CHANNELS) lines.push(`topic read ${CABINETS_PREFIX}${id}/${c}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface MosquittoConfOptions {
  port: number;
  host: string;
  passwordFile: string;
  aclFile: string;
  /** Directory for Mosquitto's persistence (queued QoS 1 messages, retained policies); none if absent. */
  persistenceDir?: string;
  /** Log to stderr (tests, benches) instead of the Debian default (syslog/file from the main config). */
  logToStderr?: boolean;
  /** Started as root, Mosquitto switches to this account (its default: `mosquitto`). */
  user?: string;
}

/** A listener config for Luciole: no anonymous client, ACL on, Nagle off, protocol payload cap. */
export function mosquittoConf(o: MosquittoConfOptions): string {
  const lines = [
    '# Generated by luciole.',
    'per_listener_settings false',
    `listener ${o.port} ${o.host}`,
    'allow_anonymous false',
    `password_file ${o.passwordFile}`,
    `acl_file ${o.aclFile}`,
    // Small MQTT packets must not wait for a TCP ACK.
    'set_tcp_nodelay true',
    `message_size_limit ${MAX_PAYLOAD_BYTES}`,
    // A gateway reconnects on a cellular link for days; its queued receipts and commands stay.
    'max_queued_messages 10000',
    'max_inflight_messages 100',
  ];
  if (o.user) {
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(o.user)) throw new LucioleError('LUCIOLE_ERR_INVALID_ARGUMENT', 'user: not a system account name', 'user');
    lines.push(`user ${o.user}`);
  }
  if (o.persistenceDir) lines.push('persistence true', `persistence_location ${o.persistenceDir}/`);
  else lines.push('persistence false');
  if (o.logToStderr) lines.push('log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice', 'log_type information');
  return `${lines.join('\n')}\n`;
}

export interface SecretIssuer {
  /** Issues a new secret for `username`, revoking its previous one (CredentialStore.issue). */
  issue(username: string, role: Role): string;
}

export interface GenerateMosquittoFilesOptions {
  outDir: string;
  issuer: SecretIssuer;
  controller: string;
  cabinets: readonly string[];
  /** Issue a new secret to every account, not only to those missing from the existing file. */
  rotate?: boolean;
  /** For the generated mosquitto.conf. */
  listener?: { port: number; host: string };
  iterations?: number;
}

export interface GeneratedMosquittoFiles {
  passwordFile: string;
  aclFile: string;
  confFile: string;
  /** Only when some secret was issued: JSON username → secret, mode 0600. */
  secretsFile: string | null;
  /** The secrets issued by this run (shown once: hand them to the gateways, then delete the file). */
  issued: Map<string, string>;
  /** Accounts of the old file no longer in the list, dropped. */
  removed: string[];
}

/**
 * Writes password_file, acl_file and mosquitto.conf into `outDir`. Accounts already in an
 * existing password_file keep their line; missing ones (or all, with `rotate`) get a new secret
 * through `issuer`, written to `secrets.json`. Files are replaced atomically (write then rename).
 */
export function generateMosquittoFiles(o: GenerateMosquittoFilesOptions): GeneratedMosquittoFiles {
  mkdirSync(o.outDir, { recursive: true });
  const passwordFile = join(o.outDir, 'password_file');
  const aclFile = join(o.outDir, 'acl_file');
  const confFile = join(o.outDir, 'mosquitto.conf');
  // Validated (and the cabinet list checked for duplicates) before any secret is issued.
  const acl = mosquittoAclFile({ controller: o.controller, cabinets: o.cabinets });
  const existing = existsSync(passwordFile) ? parseMosquittoPasswordFile(readFileSync(passwordFile, 'utf8')) : new Map<string, string>();
  const accounts: Array<[string, Role]> = [[o.controller, 'controller'], ...o.cabinets.map((c): [string, Role] => [c, 'cabinet'])];
  const entries = new Map<string, string>();
  const issued = new Map<string, string>();
  const hashOpts = o.iterations !== undefined ? { iterations: o.iterations } : {};
  for (const [username, role] of accounts) {
    const kept = o.rotate ? undefined : existing.get(username);
    if (kept !== undefined) {
      entries.set(username, kept);
      continue;
    }
    const secret = o.issuer.issue(username, role);
    issued.set(username, secret);
    entries.set(username, hashMosquittoPassword(secret, hashOpts));
  }
  const removed = [...existing.keys()].filter((u) => !entries.has(u)).sort();
  let secretsFile: string | null = null;
  if (issued.size > 0) {
    secretsFile = join(o.outDir, 'secrets.json');
    writeAtomic(secretsFile, `${JSON.stringify(Object.fromEntries(issued), null, 2)}\n`, 0o600);
  }
  writeAtomic(passwordFile, formatMosquittoPasswordFile(entries), 0o600);
  writeAtomic(aclFile, acl, 0o644);
  const listener = o.listener ?? { port: 1883, host: '0.0.0.0' };
  writeAtomic(confFile, mosquittoConf({ port: listener.port, host: listener.host, passwordFile, aclFile }), 0o644);
  return { passwordFile, aclFile, confFile, secretsFile, issued, removed };
}

function writeAtomic(file: string, text: string, mode: number): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  // The mode of writeFileSync applies only to a new file and is masked by umask.
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}
