import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generatePassword, hashPassword, verifyPassword } from './auth-passwords.js';
import { LoginLimiter } from './auth-rate-limit.js';
import { lowerRole, newCredentialToken, roleAtLeast, ROLES, tokenHash } from './auth.js';
import { redactUrl } from './request-log.js';
import { firstDroppedKey } from './strict-bodies.js';

describe('password hashes', () => {
  it('verifies the password, refuses any other, and never stores it', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(hash).not.toContain('correct');
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
    // Salted: the same password hashes differently each time.
    expect(await hashPassword('correct horse battery staple')).not.toBe(hash);
  });

  it('refuses tampered or hostile stored values without throwing', async () => {
    const hash = await hashPassword('p4ssword-p4ssword');
    const parts = hash.split('$');
    const tampered = [
      'plain-text-password',
      '',
      hash.slice(0, -2),
      [...parts.slice(0, 5), 'A'.repeat(parts[5]!.length)].join('$'),
      // Costs beyond the caps: must not allocate gigabytes.
      ['scrypt', String(1 << 24), '8', '1', parts[4], parts[5]].join('$'),
      ['scrypt', '32768', '16', '4', parts[4], parts[5]].join('$'),
      ['scrypt', '1000', '8', '1', parts[4], parts[5]].join('$'),
    ];
    for (const t of tampered) expect(await verifyPassword('p4ssword-p4ssword', t)).toBe(false);
  });

  it('generates passwords long and random enough', () => {
    const a = generatePassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(generatePassword()).not.toBe(a);
  });
});

describe('roles and tokens', () => {
  it('orders the roles viewer < maintenance < technician < admin', () => {
    expect(ROLES).toEqual(['viewer', 'maintenance', 'technician', 'admin']);
    for (const [i, a] of ROLES.entries()) {
      for (const [j, b] of ROLES.entries()) {
        expect(roleAtLeast(a, b)).toBe(i >= j);
        expect(lowerRole(a, b)).toBe(ROLES[Math.min(i, j)]);
      }
    }
  });

  it('makes 256-bit tokens with a kind prefix and a separate public id', () => {
    const s = newCredentialToken('session');
    const t = newCredentialToken('token');
    expect(s.token).toMatch(/^lus_[A-Za-z0-9_-]{43}$/);
    expect(t.token).toMatch(/^lut_[A-Za-z0-9_-]{43}$/);
    expect(s.id).toMatch(/^ses_/);
    expect(t.id).toMatch(/^tok_/);
    expect(s.id).not.toContain(s.token.slice(4, 12));
    expect(tokenHash(s.token)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('LoginLimiter', () => {
  it('allows maxPerUser attempts per window, counting before the check', () => {
    const l = new LoginLimiter({ maxPerUser: 3, maxPerAddress: 100, windowMs: 1000 });
    expect([0, 1, 2].map(() => l.attempt('Marie', 'a', 0))).toEqual([0, 0, 0]);
    expect(l.attempt('marie', 'b', 10)).toBe(990);
    expect(l.attempt('paul', 'b', 10)).toBe(0);
    expect(l.attempt('marie', 'c', 1000)).toBe(0);
  });

  it('gives a success back to the address and clears the username', () => {
    const l = new LoginLimiter({ maxPerUser: 2, maxPerAddress: 2, windowMs: 1000 });
    for (let i = 0; i < 10; i++) {
      expect(l.attempt('marie', 'office', i)).toBe(0);
      l.succeeded('marie', 'office');
    }
    l.attempt('x', 'office', 20);
    l.attempt('y', 'office', 21);
    expect(l.attempt('marie', 'office', 22)).toBeGreaterThan(0);
  });

  it('keeps its memory bounded whatever the flood of names and addresses', () => {
    const l = new LoginLimiter({ maxKeys: 100, windowMs: 60_000 });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 400 }), (pairs) => {
        pairs.forEach(([u, a], i) => l.attempt(u, a, i));
        return l.size() <= 200;
      }),
    );
  });
});

describe('strict bodies', () => {
  it('finds the first key a schema dropped, at any depth, and none when nothing was dropped', () => {
    expect(firstDroppedKey({ a: 1, b: { c: 2, d: 3 } }, { a: 1, b: { c: 2 } })).toEqual(['b', 'd']);
    expect(firstDroppedKey({ list: [{ x: 1 }, { x: 1, y: 2 }] }, { list: [{ x: 1 }, { x: 1 }] })).toEqual(['list', 1, 'y']);
    expect(firstDroppedKey({ a: 1 }, { a: 1, added: 'default' })).toBeNull();
    expect(firstDroppedKey({ when: '2026-01-01' }, { when: new Date(0) })).toBeNull();
    expect(firstDroppedKey('x', 'x')).toBeNull();
    fc.assert(fc.property(fc.jsonValue(), (v) => firstDroppedKey(v, structuredClone(v)) === null));
  });
});

describe('request log URLs', () => {
  it('redacts the values of credential-like query parameters only', () => {
    expect(redactUrl('/api/energy?nights=7')).toBe('/api/energy?nights=7');
    expect(redactUrl('/api/x?access_token=abc&nights=2')).toBe('/api/x?access_token=[redacted]&nights=2');
    expect(redactUrl('/api/x?Password=abc&API%5FKEY=k&sig=s')).toBe('/api/x?Password=[redacted]&API%5FKEY=[redacted]&sig=[redacted]');
    expect(redactUrl('/api/x?%E0%A4%A=1&token')).toBe('/api/x?%E0%A4%A=1&token');
    expect(redactUrl('/api/plain')).toBe('/api/plain');
  });
});
