import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFixture, type BrokerFixture } from '../../broker/test-fixture.js';

/** With the default limit (10 failures per 60 s per address) the 11th bad login costs no scrypt. */
describe('battery: failed-login limit', () => {
  let fx: BrokerFixture;

  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  async function attempt(password: string): Promise<{ code: number | undefined; ms: number }> {
    const t0 = performance.now();
    const err = (await fx.cabinet('CAB-A', password).then(
      (c: MqttClient) => expect.unreachable(`logged in: ${c.options.clientId}`),
      (e: unknown) => e,
    )) as { code?: number };
    return { code: err.code, ms: performance.now() - t0 };
  }

  it('refuses the 11th bad attempt from one address without a verify', async () => {
    fx.credentials.issue('CAB-A', 'cabinet');
    const verify = vi.spyOn(fx.credentials, 'verifyAccount');
    const verified: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await attempt(`guess-${i}`);
      expect(r.code).toBe(4);
      verified.push(r.ms);
    }
    expect(verify).toHaveBeenCalledTimes(10);
    const refused: number[] = [];
    for (let i = 10; i < 110; i++) {
      const r = await attempt(`guess-${i}`);
      expect(r.code).toBe(5);
      refused.push(r.ms);
    }
    expect(verify).toHaveBeenCalledTimes(10);
    const avg = (xs: number[]): string => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2);
    console.log(
      `[battery] failed-login limit: 10 bad attempts verified (avg ${avg(verified)} ms each), attempts 11-110 refused ` +
        `(CONNACK 5) with ${verify.mock.calls.length - 10} verify calls (avg ${avg(refused)} ms each), ` +
        `${fx.broker.stats().rateLimitedLogins} counted as rate-limited`,
    );
    expect(fx.broker.stats().rateLimitedLogins).toBe(100);
  });
});
