import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A real InfluxDB 1.x server for tests: Debian's `influxd`, started on free loopback ports with a
 * generated config and temporary meta/data/wal directories, stopped and removed after.
 *
 * `influxdAvailable()` tells whether the binary is there. Suites skip without it, except with
 * CI=true: `.ci/run` installs it, so in CI a missing binary is a failure, never a silent skip.
 */

export const INFLUXD_BIN = process.env.LUCIOLE_INFLUXD_BIN ?? '/usr/bin/influxd';

export function influxdAvailable(): boolean {
  if (!fs.existsSync(INFLUXD_BIN)) return false;
  return spawnSync(INFLUXD_BIN, ['version'], { stdio: 'ignore' }).status === 0;
}

/** True when the influxdb1 suites must run: the binary is there, or CI demands it (then they fail without it). */
export function mustRunInfluxd(): boolean {
  return influxdAvailable() || process.env.CI === 'true';
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export class InfluxdFixture {
  /** Config, meta, data and wal; made by the first start(). */
  dir = '';
  httpPort = 0;
  rpcPort = 0;
  private child: ChildProcess | null = null;
  private stderr = '';

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the server (the same ports and directories on a restart) and waits until /ping answers. */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.child) return;
    if (!fs.existsSync(INFLUXD_BIN)) {
      throw new Error(`influxd not found at ${INFLUXD_BIN} (Debian package "influxdb"; .ci/run installs it)`);
    }
    if (!this.dir) this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-influxd-'));
    if (this.httpPort === 0) {
      this.httpPort = await freePort();
      this.rpcPort = await freePort();
    }
    const config = path.join(this.dir, 'influxdb.conf');
    fs.writeFileSync(config, this.config());
    this.stderr = '';
    const child = spawn(INFLUXD_BIN, ['run', '-config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.child = child;
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code) => reject(new Error(`influxd exited with ${code}: ${this.stderr}`)));
    });
    exited.catch(() => undefined);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = await Promise.race([this.ping(), exited]);
      if (ok) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`influxd did not answer /ping within ${timeoutMs} ms: ${this.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async ping(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(1000) });
      return res.status === 204;
    } catch {
      return false;
    }
  }

  /** Freezes the server (SIGSTOP): connections hang instead of being refused. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Kills the server hard (SIGKILL), as a crash would; `start()` brings it back on the same data. */
  async kill(): Promise<void> {
    await this.stop('SIGKILL');
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT');
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops the server and removes its directories. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = '';
  }

  private config(): string {
    const d = this.dir;
    return `reporting-disabled = true
bind-address = "127.0.0.1:${this.rpcPort}"

[meta]
  dir = "${path.join(d, 'meta')}"
  logging-enabled = false

[data]
  dir = "${path.join(d, 'data')}"
  wal-dir = "${path.join(d, 'wal')}"
  query-log-enabled = false
  max-values-per-tag = 0

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${this.httpPort}"
  log-enabled = false
  suppress-write-log = true

[logging]
  level = "error"
  suppress-logo = true

[continuous_queries]
  enabled = true
  log-enabled = false
`;
  }
}
