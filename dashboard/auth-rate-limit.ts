/**
 * Sign-in attempts allowed per username and per client address: after `maxPerUser` failures
 * for one username, or `maxPerAddress` from one address, within `windowMs`, further attempts
 * are refused without checking the password until the window ends. Pure: time is a parameter.
 * Memory is bounded: at most `maxKeys` counters per kind, the oldest dropped first.
 */
export interface LoginLimiterOptions {
  maxPerUser?: number;
  maxPerAddress?: number;
  windowMs?: number;
  maxKeys?: number;
}

interface Counter {
  failures: number;
  /** End of the window opened by the first failure. */
  resetAt: number;
}

export class LoginLimiter {
  readonly maxPerUser: number;
  readonly maxPerAddress: number;
  readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly byUser = new Map<string, Counter>();
  private readonly byAddress = new Map<string, Counter>();

  constructor(opts: LoginLimiterOptions = {}) {
    this.maxPerUser = opts.maxPerUser ?? 10;
    this.maxPerAddress = opts.maxPerAddress ?? 30;
    this.windowMs = opts.windowMs ?? 15 * 60_000;
    this.maxKeys = opts.maxKeys ?? 10_000;
  }

  /** Milliseconds to wait before the next attempt is allowed; 0: allowed now. */
  retryAfter(username: string, address: string, now: number): number {
    const wait = (c: Counter | undefined, max: number): number => (c && c.resetAt > now && c.failures >= max ? c.resetAt - now : 0);
    return Math.max(wait(this.byUser.get(username.toLowerCase()), this.maxPerUser), wait(this.byAddress.get(address), this.maxPerAddress));
  }

  /**
   * Records an attempt as a failure before the password is checked, and says how long to wait
   * (0: go on). Counting first means parallel attempts cannot all slip in before the first
   * failure is known; `succeeded` takes a good one back.
   */
  attempt(username: string, address: string, now: number): number {
    const wait = this.retryAfter(username, address, now);
    if (wait > 0) return wait;
    this.bump(this.byUser, username.toLowerCase(), now);
    this.bump(this.byAddress, address, now);
    return 0;
  }

  /** A success clears the username's failures and takes back its own count from the address. */
  succeeded(username: string, address: string): void {
    this.byUser.delete(username.toLowerCase());
    const c = this.byAddress.get(address);
    if (c && c.failures > 0) c.failures--;
  }

  /** Counters held, for tests of the memory bound. */
  size(): number {
    return this.byUser.size + this.byAddress.size;
  }

  private bump(map: Map<string, Counter>, key: string, now: number): void {
    const c = map.get(key);
    if (c && c.resetAt > now) {
      c.failures++;
      return;
    }
    map.delete(key);
    if (map.size >= this.maxKeys) {
      for (const [k, v] of map) if (v.resetAt <= now) map.delete(k);
      // Still full of live counters: drop the oldest (Map keeps insertion order).
      while (map.size >= this.maxKeys) map.delete(map.keys().next().value!);
    }
    map.set(key, { failures: 1, resetAt: now + this.windowMs });
  }
}
