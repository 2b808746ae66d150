import { z } from 'zod';

/**
 * Failed MQTT logins per remote address. Pure: time is passed in. After `maxFailures` failures
 * within `windowMs` an address is refused without any credential check until the oldest of those
 * failures is `windowMs` old. Attempts refused while limited are not counted, so a limited
 * address is let back in when the window passes whatever it keeps sending.
 */

export const failedLoginLimitSchema = z.object({
  maxFailures: z.number().int().min(1).max(10_000).default(10),
  windowMs: z.number().int().min(1).default(60_000),
  /** Addresses remembered; the least recently failing one is forgotten first. */
  maxAddresses: z.number().int().min(1).default(10_000),
});
export type FailedLoginLimitOptions = z.input<typeof failedLoginLimitSchema>;
type Limits = z.output<typeof failedLoginLimitSchema>;

/** Entries looked at per recorded failure when sweeping expired ones: amortised, no timer. */
const SWEEP_PER_RECORD = 4;

export class FailedLoginLimiter {
  private readonly limits: Limits;
  /** Key: address key; value: failure times, oldest first, at most `maxFailures`. Map order = LRU. */
  private readonly failures = new Map<string, number[]>();

  constructor(opts: FailedLoginLimitOptions = {}) {
    this.limits = failedLoginLimitSchema.parse(opts);
  }

  isLimited(address: string, now: number): boolean {
    const times = this.failures.get(addressKey(address));
    if (!times || times.length < this.limits.maxFailures) return false;
    return now - times[0]! < this.limits.windowMs;
  }

  recordFailure(address: string, now: number): void {
    const key = addressKey(address);
    const times = this.failures.get(key) ?? [];
    this.failures.delete(key);
    while (times.length > 0 && now - times[0]! >= this.limits.windowMs) times.shift();
    times.push(now);
    if (times.length > this.limits.maxFailures) times.shift();
    this.failures.set(key, times);
    this.sweep(now);
  }

  /** Addresses currently remembered (for tests and stats). */
  size(): number {
    return this.failures.size;
  }

  private sweep(now: number): void {
    let looked = 0;
    for (const [key, times] of this.failures) {
      if (this.failures.size > this.limits.maxAddresses) {
        this.failures.delete(key);
        continue;
      }
      if (looked++ >= SWEEP_PER_RECORD) break;
      const last = times[times.length - 1];
      // LRU order: the first entry that is still fresh means the rest are fresher.
      if (last !== undefined && now - last < this.limits.windowMs) break;
      this.failures.delete(key);
    }
  }
}

/**
 * The unit an address is limited by. IPv4 (also IPv4-mapped IPv6): the address. IPv6: its /64,
 * because one host usually owns a whole /64 and could rotate through it to dodge a per-address
 * limit.
 */
export function addressKey(address: string): string {
  let a = address.trim().toLowerCase();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a);
  if (mapped) return mapped[1]!;
  if (!a.includes(':')) return a;
  const hextets = expandIpv6(a);
  if (!hextets) return a;
  return `${hextets.slice(0, 4).join(':')}::/64`;
}

function expandIpv6(a: string): string[] | null {
  const halves = a.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null;
  const all = [...head, ...Array<string>(Math.max(missing, 0)).fill('0'), ...tail];
  if (all.some((h) => !/^[0-9a-f]{1,4}$/.test(h))) return null;
  return all.map((h) => h.replace(/^0+(?=.)/, ''));
}
