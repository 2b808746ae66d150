import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cabinetTopic } from '../protocol/index.js';
import { nextMessage, startFixture, type BrokerFixture } from './test-fixture.js';

/** A self-signed certificate for 127.0.0.1 (node:crypto cannot make X.509 certificates). */
function makeCert(dir: string): { cert: Buffer; key: Buffer } {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) };
}

describe('TLS', () => {
  let certDir: string;
  let cert: Buffer;
  let fx: BrokerFixture;
  let secret: string;

  beforeAll(async () => {
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-tls-'));
    const made = makeCert(certDir);
    cert = made.cert;
    fx = await startFixture({ tls: { cert: made.cert, key: made.key } });
    secret = fx.credentials.issue('CAB-A', 'cabinet');
  });

  afterAll(async () => {
    await fx?.close();
    fs.rmSync(certDir, { recursive: true, force: true });
  });

  it('serves mqtts:// to a client that trusts the CA', async () => {
    expect(fx.broker.url).toBe(`mqtts://127.0.0.1:${fx.broker.port}`);
    // Anonymous is refused over TLS too: TLS encrypts, the secret authenticates.
    const anon = await fx.connect(undefined, undefined, { clientId: 'anon', ca: cert }).catch((e: unknown) => e);
    expect((anon as { code?: number }).code).toBe(5);
    const controllerSecret = fx.credentials.issue('controller', 'controller');
    const watcher = await fx.connect('controller', controllerSecret, { clientId: 'ctl', ca: cert });
    await watcher.subscribeAsync(cabinetTopic('CAB-A', 'event'), { qos: 1 });
    const a = await fx.cabinet('CAB-A', secret, { ca: cert });
    const got = nextMessage(watcher);
    await a.publishAsync(cabinetTopic('CAB-A', 'event'), '{"v":1}', { qos: 1 });
    expect((await got).payload).toBe('{"v":1}');
  });

  it('a client that does not trust the CA fails the handshake', async () => {
    const err = await mqtt
      .connectAsync(
        fx.broker.url,
        { username: 'CAB-A', password: secret, clientId: 'edge-CAB-A', reconnectPeriod: 0, connectTimeout: 5000 },
        false,
      )
      .then(
        async (c) => {
          await c.endAsync(true);
          return null;
        },
        (e: unknown) => e as Error & { code?: string },
      );
    expect(err).toBeInstanceOf(Error);
    expect(err?.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    // The failed handshake costs the broker nothing: a trusting client still gets in.
    const again = await fx.cabinet('CAB-A', secret, { ca: cert });
    expect(again.connected).toBe(true);
  });
});
