import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cabinetTopic } from '../protocol/index.js';
import { silentLogger } from '../core/log.js';
import { credentialChange, CredentialWatch } from './credential-watch.js';
import { CredentialStore } from './credentials.js';
import { closed, startFixture, type BrokerFixture } from './test-fixture.js';

const POLL_MS = 50;
/** Bound for "within the poll interval": a few intervals plus a loaded CI machine's slack. */
const NOTICE_MS = 2_000;

type LogLine = Record<string, unknown> & { msg: string };

/** Log lines of a pino logger, and a way to await one. */
function captureLog(): { logger: pino.Logger; lines: LogLine[]; next(pred: (l: LogLine) => boolean): Promise<LogLine> } {
  const lines: LogLine[] = [];
  const waiters: Array<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const line = JSON.parse(chunk.toString()) as LogLine;
      lines.push(line);
      for (const w of [...waiters]) {
        if (!w.pred(line)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
      cb();
    },
  });
  return {
    logger: pino({ level: 'info' }, sink),
    lines,
    next(pred) {
      const seen = lines.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => {
          if (!waiters.includes(w)) return;
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error('log line not written in time'));
        }, NOTICE_MS).unref();
      });
    },
  };
}

/** The CONNACK return code a refused connection got. */
async function refusal(p: Promise<MqttClient>): Promise<number | undefined> {
  const err = (await p.then(
    () => expect.unreachable('connection should be refused'),
    (e: unknown) => e,
  )) as { code?: number };
  return err.code;
}

const disconnectedLine = (username: string) => (l: LogLine) =>
  l.msg === 'mqtt account disconnected: its secret changed in the credential store' && l.username === username;

describe('credentialChange', () => {
  it('names a re-issue, a revocation and a removed account; nothing for the current generation', () => {
    expect(credentialChange(3, { generation: 3, revoked: false })).toBeNull();
    expect(credentialChange(3, { generation: 4, revoked: false })).toBe('reissued');
    expect(credentialChange(3, { generation: 4, revoked: true })).toBe('revoked');
    expect(credentialChange(3, undefined)).toBe('revoked');
    expect(credentialChange(3, null)).toBe('revoked');
  });
});

describe('CredentialWatch', () => {
  it('reads only the marker while nothing changes, and stops polling on stop()', async () => {
    let marker = 'a';
    const credentials = { changeMarker: vi.fn(() => marker), accountStates: vi.fn(() => new Map()) };
    const onChange = vi.fn(() => Promise.resolve());
    const watch = new CredentialWatch({ credentials, intervalMs: 10, onChange, logger: silentLogger() });
    watch.start();
    await watch.check();
    expect(credentials.accountStates).not.toHaveBeenCalled();
    marker = 'b';
    await watch.check();
    expect(onChange).toHaveBeenCalledTimes(1);
    await watch.check();
    expect(onChange).toHaveBeenCalledTimes(1);
    await watch.stop();
    const reads = credentials.changeMarker.mock.calls.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(credentials.changeMarker.mock.calls.length).toBe(reads);
  });

  it('tries a failed change again at the next check', async () => {
    let marker = 'a';
    const credentials = { changeMarker: () => marker, accountStates: () => new Map() };
    const onChange = vi.fn().mockRejectedValueOnce(new Error('purge failed')).mockResolvedValue(undefined);
    const watch = new CredentialWatch({ credentials, intervalMs: 60_000, onChange, logger: silentLogger() });
    watch.start();
    marker = 'b';
    await watch.check();
    await watch.check();
    await watch.check();
    expect(onChange).toHaveBeenCalledTimes(2);
    await watch.stop();
  });
});

/**
 * Two CredentialStore handles on one config.db, as the `luciole serve` process and a
 * `luciole cabinet credentials` process have: the broker's, and `other`.
 */
describe('broker: secrets changed by another process', () => {
  let fx: BrokerFixture;
  let log: ReturnType<typeof captureLog>;
  let otherDb: Database.Database;
  let other: CredentialStore;
  let secretA: string;
  let secretB: string;
  let secretCtl: string;

  beforeEach(async () => {
    log = captureLog();
    fx = await startFixture({ credentialPollMs: POLL_MS, logger: log.logger });
    otherDb = new Database(path.join(fx.dir, 'config.db'));
    other = new CredentialStore(otherDb);
    other.init();
    secretA = other.issue('CAB-A', 'cabinet');
    secretB = other.issue('CAB-B', 'cabinet');
    secretCtl = other.issue('controller', 'controller');
  });

  afterEach(async () => {
    await fx.close();
    otherDb.close();
  });

  it('a re-issue disconnects the holder of the old secret, and only it', async () => {
    const a = await fx.cabinet('CAB-A', secretA);
    const b = await fx.cabinet('CAB-B', secretB);
    const gone = closed(a, NOTICE_MS);
    const fresh = other.issue('CAB-A', 'cabinet');
    await gone;
    expect(await log.next(disconnectedLine('CAB-A'))).toMatchObject({ reason: 'secret re-issued', closed: 1 });
    expect(b.connected).toBe(true);
    expect(fx.broker.connectedClients()).toEqual(['CAB-B']);

    expect(await refusal(fx.cabinet('CAB-A', secretA))).toBe(4);
    const renewed = await fx.cabinet('CAB-A', fresh);

    // A later change, seen by the same watch, leaves the new holder alone.
    const bGone = closed(b, NOTICE_MS);
    other.issue('CAB-B', 'cabinet');
    await bGone;
    await log.next(disconnectedLine('CAB-B'));
    expect(renewed.connected).toBe(true);
    expect(fx.broker.connectedClients()).toEqual(['CAB-A']);
    expect(log.lines.filter(disconnectedLine('CAB-A'))).toHaveLength(1);
  });

  it('a revocation disconnects the cabinet and keeps it out', async () => {
    const a = await fx.cabinet('CAB-A', secretA);
    const b = await fx.cabinet('CAB-B', secretB);
    const gone = closed(a, NOTICE_MS);
    expect(other.revoke('CAB-A')).toBe(true);
    await gone;
    expect(await log.next(disconnectedLine('CAB-A'))).toMatchObject({ reason: 'secret revoked' });
    expect(await refusal(fx.cabinet('CAB-A', secretA))).toBe(4);
    expect(b.connected).toBe(true);
  });

  it("purges the old holder's session: nothing queued for it reaches the new holder", async () => {
    const a = await fx.cabinet('CAB-A', secretA, { clean: false });
    await a.subscribeAsync(cabinetTopic('CAB-A', 'command'), { qos: 1 });
    const ctl = await fx.connect('controller', secretCtl);
    const gone = closed(a, NOTICE_MS);
    const fresh = other.issue('CAB-A', 'cabinet');
    await gone;
    await log.next(disconnectedLine('CAB-A'));
    // Would be queued on the old session, had its subscription survived.
    await ctl.publishAsync(cabinetTopic('CAB-A', 'command'), '{"v":1}', { qos: 1 });

    const renewed = mqtt.connect(fx.broker.url, {
      username: 'CAB-A', password: fresh, clientId: 'edge-CAB-A', clean: false, reconnectPeriod: 0,
    });
    try {
      const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
        renewed.once('connect', resolve);
        renewed.once('error', reject);
      });
      expect(connack.sessionPresent).toBe(false);
    } finally {
      await renewed.endAsync(true);
    }
  });

  it('the controller account is disconnected too, its queued session kept for the next holder', async () => {
    const ctl = await fx.connect('controller', secretCtl, { clientId: 'controller-1', clean: false });
    await ctl.subscribeAsync(cabinetTopic('CAB-A', 'event'), { qos: 1 });
    const a = await fx.cabinet('CAB-A', secretA);
    const gone = closed(ctl, NOTICE_MS);
    const fresh = other.issue('controller', 'controller');
    await gone;
    expect(await log.next(disconnectedLine('controller'))).toMatchObject({ reason: 'secret re-issued', droppedQueued: 0 });
    expect(a.connected).toBe(true);
    // Uplinks sent while the controller is away are still for it, whoever holds its secret now.
    await a.publishAsync(cabinetTopic('CAB-A', 'event'), '{"v":1,"queued":true}', { qos: 1 });
    const renewed = mqtt.connect(fx.broker.url, { username: 'controller', password: fresh, clientId: 'controller-1', clean: false, reconnectPeriod: 0 });
    try {
      const got = new Promise<string>((resolve) => renewed.once('message', (_t, payload) => resolve(payload.toString())));
      const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
        renewed.once('connect', resolve);
        renewed.once('error', reject);
      });
      expect(connack.sessionPresent).toBe(true);
      expect(await got).toContain('"queued":true');
    } finally {
      await renewed.endAsync(true);
    }
  });

  it('a client whose secret changes between its credential check and CONNACK is closed', async () => {
    await fx.close();
    log = captureLog();
    // No polling: the check when the client becomes ready does this alone.
    fx = await startFixture({ credentialPollMs: 0, logger: log.logger });
    otherDb.close();
    otherDb = new Database(path.join(fx.dir, 'config.db'));
    other = new CredentialStore(otherDb);
    other.init();
    const secret = other.issue('CAB-A', 'cabinet');
    const verify = fx.credentials.verifyAccount.bind(fx.credentials);
    vi.spyOn(fx.credentials, 'verifyAccount').mockImplementation(async (u, p) => {
      const ok = await verify(u, p);
      other.issue('CAB-A', 'cabinet');
      return ok;
    });
    const client = mqtt.connect(fx.broker.url, { username: 'CAB-A', password: secret, clientId: 'edge-CAB-A', reconnectPeriod: 0 });
    try {
      await closed(client, NOTICE_MS);
      expect(await log.next((l) => l.msg === 'mqtt client closed: its secret changed while connecting')).toMatchObject({
        username: 'CAB-A',
        reason: 'secret re-issued',
      });
      expect(fx.broker.connectedClients()).toEqual([]);
    } finally {
      await client.endAsync(true);
    }
  });
});
