import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashes for the API's users: scrypt (memory-hard, in node:crypto), a random salt per
 * password, parameters stored with the hash so they can be raised later without breaking old
 * hashes. Format: `scrypt$N$r$p$salt$hash`, salt and hash in base64url.
 */

const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** 128·N·r bytes, with room: node's default (32 MiB) is exactly too small for N = 2^15. */
const MAX_MEM = 64 * 1024 * 1024;

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

function derive(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  // Asynchronous: a sign-in must not stall every other request for the ~100 ms it costs.
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_BYTES, { ...opts, maxmem: MAX_MEM }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, { N, r: R, p: P });
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

const HASH_RE = /^scrypt\$(\d{1,7})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{8,64})\$([A-Za-z0-9_-]{16,128})$/;

/** False for a wrong password and for a stored value that is not a hash of ours (never throws on it). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = HASH_RE.exec(stored);
  if (!m) return false;
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Bounds on what a stored hash may ask for: a tampered row must not make us allocate gigabytes.
  if (n > 1 << 17 || (n & (n - 1)) !== 0 || n < 2 || r < 1 || r > 16 || p < 1 || p > 4) return false;
  const expected = Buffer.from(m[5]!, 'base64url');
  let key: Buffer;
  try {
    key = await derive(password, Buffer.from(m[4]!, 'base64url'), { N: n, r, p });
  } catch {
    return false; // parameters beyond the memory cap
  }
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A password for a user made without one: shown once to the admin, 24 characters of base64url. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * Spends the time of a real check when the user does not exist, so the answer's timing does
 * not tell which usernames exist. The hash is made once, lazily.
 */
let dummyHash: Promise<string> | null = null;
export async function burnPasswordCheck(password: string): Promise<false> {
  dummyHash ??= hashPassword('luciole-dummy-password');
  await verifyPassword(password, await dummyHash);
  return false;
}
