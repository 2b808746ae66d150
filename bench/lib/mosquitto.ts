import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { mosquittoConf } from '../../broker/mosquitto-config.js';

/**
 * A real Mosquitto on a free loopback port, with a config generated in `dir` around the given
 * password and ACL files. For the integration tests (tests/mosquitto/) and the benches.
 */

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';

export interface RunningMosquitto {
  url: string;
  port: number;
  pid: number;
  /** What Mosquitto wrote to stderr so far (its log). */
  log(): string;
  stop(): Promise<void>;
}

export function mosquittoInstalled(bin = MOSQUITTO_BIN): boolean {
  return existsSync(bin);
}

/** A port free right now on 127.0.0.1 (Mosquitto cannot listen on port 0 and report it). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface StartMosquittoOptions {
  dir: string;
  passwordFile: string;
  aclFile: string;
  bin?: string;
  startTimeoutMs?: number;
}

export async function startMosquitto(o: StartMosquittoOptions): Promise<RunningMosquitto> {
  const bin = o.bin ?? MOSQUITTO_BIN;
  // A port taken between freePort() and Mosquitto's bind is retried on another one.
  let lastError: Error | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const conf = join(o.dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      mosquittoConf({
        port,
        host: '127.0.0.1',
        passwordFile: o.passwordFile,
        aclFile: o.aclFile,
        logToStderr: true,
        // Started as root it would switch to `mosquitto`, which cannot read 0600 files of a temp dir.
        ...(process.getuid?.() === 0 ? { user: 'root' } : {}),
      }),
    );
    try {
      return await launch(bin, conf, port, o.startTimeoutMs ?? 10_000);
    } catch (e) {
      lastError = e as Error;
      if (!/Address already in use/i.test(lastError.message)) throw lastError;
    }
  }
  throw lastError ?? new Error('mosquitto did not start');
}

function launch(bin: string, conf: string, port: number, timeoutMs: number): Promise<RunningMosquitto> {
  const child: ChildProcess = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  return new Promise<RunningMosquitto>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`mosquitto not ready after ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`mosquitto exited with ${code}:\n${stderr}`)));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
      if (!settled && /mosquitto version \S+ running/.test(stderr)) {
        settled = true;
        clearTimeout(timer);
        const exited = new Promise<void>((r) => {
          if (child.exitCode !== null || child.signalCode !== null) r();
          else child.once('exit', () => r());
        });
        resolve({
          url: `mqtt://127.0.0.1:${port}`,
          port,
          pid: child.pid!,
          log: () => stderr,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
  });
}
