import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { round } from './stats.js';

/** CPU and memory of any process (node workers and Mosquitto alike), read from /proc. */

let ticks: number | null = null;
function clockTicks(): number {
  if (ticks === null) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** User + system CPU time of `pid` so far, ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may contain spaces, closed by the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / clockTicks();
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : 0;
}

export interface ProcessUsage {
  /** CPU time over the window, ms. */
  cpuMs: number;
  /** CPU time / wall time: 1.0 is one core fully busy. */
  cores: number;
  rssMbAvg: number;
  rssMbMax: number;
}

/** Samples a process's CPU at start and stop, its RSS every `everyMs` in between. */
export class UsageMeter {
  private t0 = 0;
  private cpu0 = 0;
  private rss: number[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly pid: number,
    private readonly everyMs = 500,
  ) {}

  start(): void {
    this.t0 = performance.now();
    this.cpu0 = cpuMs(this.pid);
    this.rss = [rssMb(this.pid)];
    this.timer = setInterval(() => {
      try {
        this.rss.push(rssMb(this.pid));
      } catch {
        // The process ended: stop() reports what was seen.
      }
    }, this.everyMs);
  }

  stop(): ProcessUsage {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const wall = performance.now() - this.t0;
    const cpu = cpuMs(this.pid) - this.cpu0;
    this.rss.push(rssMb(this.pid));
    const avg = this.rss.reduce((a, b) => a + b, 0) / this.rss.length;
    return { cpuMs: Math.round(cpu), cores: round(cpu / wall), rssMbAvg: round(avg, 1), rssMbMax: round(Math.max(...this.rss), 1) };
  }
}

type Msg = { type: string } & Record<string, unknown>;

/**
 * A bench worker: `dist/bench/workers/<name>.js` in its own process, driven over IPC with typed
 * messages; its log goes to `logFile`.
 */
export class Worker {
  readonly child: ChildProcess;
  private readonly waiting: Array<{ type: string; resolve: (m: Msg) => void; reject: (e: Error) => void }> = [];
  private readonly listeners = new Map<string, (m: Msg) => void>();
  private exited = false;

  constructor(name: string, logFile: string, execArgv: string[] = []) {
    const script = fileURLToPath(new URL(`../workers/${name}.js`, import.meta.url));
    const log = openSync(logFile, 'a');
    this.child = fork(script, [], { stdio: ['ignore', log, log, 'ipc'], execArgv });
    this.child.on('message', (raw) => {
      const m = raw as Msg;
      this.listeners.get(m.type)?.(m);
      const i = this.waiting.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiting.splice(i, 1)[0]!.resolve(m);
      if (m.type === 'error') {
        for (const w of this.waiting.splice(0)) w.reject(new Error(`worker ${name}: ${String(m.message)} (log: ${logFile})`));
      }
    });
    this.child.on('exit', (code) => {
      this.exited = true;
      for (const w of this.waiting.splice(0)) w.reject(new Error(`worker ${name} exited with ${code} (log: ${logFile})`));
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(m: Msg): void {
    if (!this.exited && this.child.connected) this.child.send(m);
  }

  on(type: string, fn: (m: Msg) => void): void {
    this.listeners.set(type, fn);
  }

  next(type: string, timeoutMs = 120_000): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} from worker in ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  async request(m: Msg, replyType: string, timeoutMs?: number): Promise<Msg> {
    const reply = this.next(replyType, timeoutMs);
    this.send(m);
    return reply;
  }

  /** Asks it to stop, then kills it if it has not exited within `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/** Worker side: typed messages from the parent, and replies. */
export function onParentMessage(handler: (m: Msg) => Promise<void> | void): void {
  process.on('message', (raw) => {
    const m = raw as Msg;
    Promise.resolve()
      .then(() => handler(m))
      .catch((err: unknown) => {
        reply({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      });
  });
}

export function reply(m: Msg): void {
  process.send?.(m);
}
