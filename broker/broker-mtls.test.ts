import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cabinetTopic } from '../protocol/index.js';
import { nextMessage, startFixture, type BrokerFixture } from './test-fixture.js';

/** Certificates made with the openssl CLI (node:crypto cannot sign X.509). */
class Pki {
  constructor(readonly dir: string) {}

  private run(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe' });
  }

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  read(name: string): Buffer {
    return fs.readFileSync(this.file(name));
  }

  ca(name: string): void {
    this.run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`]);
    // `openssl ca` is the one way this openssl (3.0: no `x509 -not_before`) signs with chosen dates.
    fs.mkdirSync(this.file(`${name}-db`));
    fs.writeFileSync(this.file(`${name}-db/index.txt`), '');
    fs.writeFileSync(this.file(`${name}-db/serial`), '1000\n');
    fs.writeFileSync(
      this.file(`${name}.cnf`),
      [
        '[ca]', 'default_ca = d', '[d]', `dir = ${this.file(`${name}-db`)}`, 'database = $dir/index.txt',
        'new_certs_dir = $dir', 'serial = $dir/serial', 'default_md = sha256', 'policy = p', 'unique_subject = no',
        'copy_extensions = copy', '[p]', 'commonName = supplied', '',
      ].join('\n'),
    );
  }

  /** A certificate for `cn` signed by CA `ca`, valid between two `YYYYMMDDHHMMSSZ` dates. */
  cert(name: string, cn: string, ca: string, start: string, end: string, san?: string): void {
    this.run(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`, ...(san ? ['-addext', `subjectAltName=${san}`] : [])]);
    this.run(['ca', '-batch', '-notext', '-config', `${ca}.cnf`, '-cert', `${ca}.pem`, '-keyfile', `${ca}.key`,
      '-in', `${name}.csr`, '-out', `${name}.pem`, '-startdate', start, '-enddate', end]);
  }

  pair(name: string): { key: Buffer; cert: Buffer } {
    return { key: this.read(`${name}.key`), cert: this.read(`${name}.pem`) };
  }
}

function stamp(d: Date): string {
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

describe('mutual TLS', () => {
  let pki: Pki;
  let fx: BrokerFixture;
  let secretA: string;
  let ca: Buffer;
  const logLines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    pki = new Pki(fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-mtls-')));
    const day = 86_400_000;
    const from = stamp(new Date(Date.now() - day));
    const to = stamp(new Date(Date.now() + day));
    pki.ca('town-ca');
    pki.ca('foreign-ca');
    pki.cert('server', '127.0.0.1', 'town-ca', from, to, 'IP:127.0.0.1');
    pki.cert('cab-a', 'CAB-A', 'town-ca', from, to);
    pki.cert('cab-b', 'CAB-B', 'town-ca', from, to);
    pki.cert('controller', 'controller', 'town-ca', from, to);
    pki.cert('cab-a-expired', 'CAB-A', 'town-ca', '20200101000000Z', '20200102000000Z');
    pki.cert('cab-a-foreign', 'CAB-A', 'foreign-ca', from, to);
    ca = pki.read('town-ca.pem');
    const server = pki.pair('server');
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        cb();
      },
    });
    fx = await startFixture({ tls: { cert: server.cert, key: server.key, ca, requestCert: true }, logger: pino(sink) });
    secretA = fx.credentials.issue('CAB-A', 'cabinet');
  });

  afterAll(async () => {
    await fx?.close();
    fs.rmSync(pki.dir, { recursive: true, force: true });
  });

  /** The reason a connection attempt was refused: a CONNACK code, or the TLS error. */
  async function refused(p: Promise<MqttClient>): Promise<string | number> {
    const err = (await p.then(
      () => expect.unreachable('connection should be refused'),
      (e: unknown) => e,
    )) as Error & { code?: number | string };
    return err.code ?? err.message;
  }

  it('the right certificate with its own username gets in and publishes', async () => {
    const ctl = await fx.connect('controller', fx.credentials.issue('controller', 'controller'), {
      clientId: 'ctl', ca, ...pki.pair('controller'),
    });
    await ctl.subscribeAsync(cabinetTopic('CAB-A', 'event'), { qos: 1 });
    const a = await fx.cabinet('CAB-A', secretA, { ca, ...pki.pair('cab-a') });
    const got = nextMessage(ctl);
    await a.publishAsync(cabinetTopic('CAB-A', 'event'), '{"v":1}', { qos: 1 });
    expect((await got).payload).toBe('{"v":1}');
    await Promise.all([a.endAsync(), ctl.endAsync()]);
  });

  it('refuses a client without a certificate, with an expired one and with one from a foreign CA', async () => {
    const before = fx.broker.stats().authFailures;
    const cases = [
      [{}, 'NO_CLIENT_CERTIFICATE'],
      [pki.pair('cab-a-expired'), 'CERT_HAS_EXPIRED'],
      [pki.pair('cab-a-foreign'), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ] as const;
    for (const [cert, code] of cases) {
      const reason = await refused(fx.cabinet('CAB-A', secretA, { ca, ...cert }));
      // Refused in the handshake, before MQTT: no CONNACK code, and the secret was never checked.
      expect(typeof reason).toBe('string');
      // The broker's own account of why, one log line per distinct reason.
      await vi.waitFor(() => expect(logLines.some((l) => l.msg === 'tls handshake failed' && l.code === code)).toBe(true), {
        timeout: 2000,
        interval: 10,
      });
    }
    expect(fx.broker.stats().authFailures).toBe(before);
    expect(fx.broker.stats().tlsRefused).toBe(3);
    expect(fx.broker.connectedClients()).toEqual([]);
  });

  it("refuses a valid certificate of another cabinet: its CN must be the username", async () => {
    const reason = await refused(fx.cabinet('CAB-A', secretA, { ca, ...pki.pair('cab-b') }));
    expect(reason).toBe(5);
    expect(fx.broker.connectedClients()).toEqual([]);
  });

  it('refuses to start with requestCert but no CA', async () => {
    const server = pki.pair('server');
    await expect(startFixture({ tls: { ...server, requestCert: true } })).rejects.toMatchObject({ code: 'LUCIOLE_ERR_CONFIG_INSECURE' });
  });
});
