import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import { tempDir } from '../tests/helpers.js';
import { openConfigStore, type SqliteConfigStore } from './config-store.js';
import { RetentionJob } from './retention.js';
import { SqliteTelemetryStore } from './sqlite-telemetry-store.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

describe('RetentionJob', () => {
  let tmp: ReturnType<typeof tempDir>;
  let clock: ManualClock;
  let telemetry: SqliteTelemetryStore;
  let config: SqliteConfigStore;

  beforeEach(async () => {
    tmp = tempDir('retention');
    clock = new ManualClock(T0);
    telemetry = new SqliteTelemetryStore({ file: `${tmp.dir}/telemetry.db` });
    await telemetry.open();
    config = openConfigStore(`${tmp.dir}/config.db`, { now: () => clock.now() });
  });

  afterEach(async () => {
    await telemetry.close();
    config.close();
    tmp.remove();
  });

  const day = (d: number) => T0 + d * DAY;
  const writeDay = async (d: number, seq: number) => {
    await telemetry.writeTelemetry([
      { cabinetId: 'ARM-01', seq, ts: day(d), periodS: 60, receivedAt: day(d), lamps: [{ id: 'L-1', level: 50, powerW: 20, energyWh: 1000 + seq, fault: null }] },
    ]);
    await telemetry.writePresence([{ cabinetId: 'ARM-01', lampId: 'L-1', sensorId: 'S-1', kind: 'pedestrian', count: 1, ts: day(d) }]);
  };
  const presence = async () => (await telemetry.presenceCounts(0, day(1000))).reduce((n, p) => n + p.count, 0);

  it('deletes raw telemetry and presence older than the retention at start and then every interval', async () => {
    for (let d = 0; d < 10; d++) await writeDay(d, d + 1);
    clock.set(day(10));
    const job = new RetentionJob({ clock, telemetry, rawRetentionDays: 7, intervalMs: DAY, log: silentLogger() });
    job.start();
    await job.stop(); // waits for the run started by start()
    expect(job.lastRun()).toMatchObject({ before: day(3) });
    expect(await presence()).toBe(7);
    expect((await telemetry.lampHistory('L-1', 0, day(100))).map((s) => s.ts)).toEqual([3, 4, 5, 6, 7, 8, 9].map(day));

    job.start();
    await job.whenIdle();
    for (const expected of [6, 5]) {
      clock.advance(DAY);
      await job.whenIdle();
      expect(await presence()).toBe(expected);
    }
    await job.stop();
    expect(job.lastRun()!.before).toBe(day(5));
    // Stopped: time passing deletes nothing more.
    clock.advance(10 * DAY);
    expect(await presence()).toBe(5);
  });

  it('deletes sessions and tokens ended longer ago than their retention, keeps the rest', async () => {
    const add = (id: string, expiresAt: number) =>
      config.addCredential(
        { id, tokenHash: id.padEnd(64, '0'), kind: 'session', username: 'u', label: 'session', role: 'viewer', createdAt: T0, createdBy: 'u', expiresAt, idleTimeoutMs: null, revokedAt: null },
        'u',
      );
    add('ses_old', day(1));
    add('ses_recent', day(35));
    add('ses_live', day(100));
    add('ses_revoked', day(100));
    clock.set(day(20));
    config.revokeCredential('ses_revoked', 'u');
    clock.set(day(45));
    const job = new RetentionJob({ clock, telemetry, rawRetentionDays: 90, credentials: config, credentialRetentionDays: 14, log: silentLogger() });
    expect(await job.runOnce()).toMatchObject({ credentials: 2 });
    expect(config.credentials().map((c) => c.id).sort()).toEqual(['ses_live', 'ses_recent']);
  });

  it('logs a failing prune and keeps running', async () => {
    let calls = 0;
    const failing = { prune: async () => (++calls === 1 ? Promise.reject(new Error('disk')) : 3) };
    const job = new RetentionJob({ clock, telemetry: failing, rawRetentionDays: 1, intervalMs: 1000, log: silentLogger() });
    job.start();
    await job.whenIdle();
    clock.advance(1000);
    await job.stop();
    expect(calls).toBe(2);
    expect(job.lastRun()?.telemetryRows).toBe(3);
    expect(() => new RetentionJob({ clock, telemetry, rawRetentionDays: 0, log: silentLogger() })).toThrow(RangeError);
  });
});
