import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressKey, FailedLoginLimiter } from './login-limiter.js';

describe('FailedLoginLimiter', () => {
  it('limits an address after maxFailures within the window, until the oldest failure is windowMs old', () => {
    const limiter = new FailedLoginLimiter({ maxFailures: 3, windowMs: 1000 });
    const t0 = 1_000_000;
    limiter.recordFailure('10.0.0.1', t0);
    limiter.recordFailure('10.0.0.1', t0 + 100);
    expect(limiter.isLimited('10.0.0.1', t0 + 100)).toBe(false);
    limiter.recordFailure('10.0.0.1', t0 + 200);
    expect(limiter.isLimited('10.0.0.1', t0 + 200)).toBe(true);
    expect(limiter.isLimited('10.0.0.2', t0 + 200)).toBe(false);
    expect(limiter.isLimited('10.0.0.1', t0 + 999)).toBe(true);
    expect(limiter.isLimited('10.0.0.1', t0 + 1000)).toBe(false);
  });

  it('does not count failures older than the window', () => {
    const limiter = new FailedLoginLimiter({ maxFailures: 2, windowMs: 1000 });
    limiter.recordFailure('a', 0);
    limiter.recordFailure('a', 1500);
    expect(limiter.isLimited('a', 1500)).toBe(false);
    limiter.recordFailure('a', 1600);
    expect(limiter.isLimited('a', 1600)).toBe(true);
  });

  it('never remembers more than maxAddresses, and forgets expired ones', () => {
    const limiter = new FailedLoginLimiter({ maxFailures: 2, windowMs: 1000, maxAddresses: 50 });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.ipV4(), fc.nat(100)), { maxLength: 400 }), (events) => {
        let t = 0;
        for (const [addr, dt] of events) {
          t += dt;
          limiter.recordFailure(addr, t);
          expect(limiter.size()).toBeLessThanOrEqual(50);
        }
      }),
    );
    const sweeping = new FailedLoginLimiter({ maxFailures: 2, windowMs: 1000 });
    for (let i = 0; i < 100; i++) sweeping.recordFailure(`10.0.${i >> 8}.${i & 255}`, 0);
    // Each later failure sweeps a few expired addresses.
    for (let i = 0; i < 100; i++) sweeping.recordFailure('192.0.2.1', 5000 + i);
    expect(sweeping.size()).toBe(1);
  });

  it('the most recently failing addresses survive eviction', () => {
    const limiter = new FailedLoginLimiter({ maxFailures: 1, windowMs: 10_000, maxAddresses: 3 });
    for (const [i, a] of ['a', 'b', 'c', 'd'].entries()) limiter.recordFailure(a, i);
    expect(['a', 'b', 'c', 'd'].map((a) => limiter.isLimited(a, 10))).toEqual([false, true, true, true]);
  });
});

describe('addressKey', () => {
  it('keys IPv4 by address, IPv4-mapped IPv6 as IPv4 and IPv6 by /64', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });

  it('two addresses of one /64 share a limit', () => {
    const limiter = new FailedLoginLimiter({ maxFailures: 2, windowMs: 1000 });
    limiter.recordFailure('2001:db8:1:2::1', 0);
    limiter.recordFailure('2001:db8:1:2::ffff', 1);
    expect(limiter.isLimited('2001:db8:1:2:dead:beef:0:1', 2)).toBe(true);
    expect(limiter.isLimited('2001:db8:1:3::1', 2)).toBe(false);
  });
});
