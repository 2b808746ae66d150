import fs from 'node:fs';
import path from 'node:path';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { LucioleError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';

/**
 * Where the lines go: one HTTP write to InfluxDB. Rejects with a `SinkError`; `permanent` means the
 * server refused the content itself (a 400: parse error, field-type conflict, max-values-per-tag),
 * so sending it again can never succeed.
 */
export interface LineSink {
  write(body: string, signal: AbortSignal): Promise<void>;
}

export class SinkError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'SinkError';
  }
}

export interface WriteQueueOptions {
  sink: LineSink;
  /** Spill directory (under the data dir), created on start. */
  dir: string;
  clock: Clock;
  logger: Logger;
  /** Lines per HTTP write. Default 5,000 (InfluxDB's own advice; measured best on this machine). */
  linesPerWrite?: number;
  /** HTTP writes in flight at once. Default 2. */
  maxInFlight?: number;
  /** Bytes of lines held in memory on their way to the sink; beyond, batches go to disk. Default 64 MiB. */
  maxMemoryBytes?: number;
  /** Bytes of spill on disk; beyond, `enqueue` is refused (LUCIOLE_ERR_STORAGE_FULL). Default 2 GiB. */
  maxDiskBytes?: number;
  /** Bytes per spill segment before a new one is started. Default 8 MiB. */
  segmentBytes?: number;
  /** One HTTP write may take this long before it counts as failed (a frozen server accepts connections). Default 10 s. */
  writeTimeoutMs?: number;
  /** Backoff between retries of the spill, doubled up to the max. Defaults 250 ms and 30 s. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

interface Segment {
  file: string;
  lines: number;
  bytes: number;
}

interface PendingAppend {
  text: string;
  lines: number;
  resolve(): void;
  reject(err: unknown): void;
}

const SEGMENT_RE = /^seg-(\d{12})\.lp$/;

/**
 * The way to InfluxDB, durable before it is fast. `enqueue(lines)` resolves once the lines are
 * durable locally: written to InfluxDB (its WAL is fsynced per write), or appended and fsynced to
 * the spill directory. Never when they are merely in memory: the controller sends gateway receipts
 * when the store's write resolves, and a receipt lets the gateway delete its own copy.
 *
 * While InfluxDB answers, lines go straight to it, `linesPerWrite` per request, `maxInFlight`
 * requests at once; what waits for a slot is held in memory up to `maxMemoryBytes`, the rest goes
 * to disk. A write that fails (refused, 5xx, timeout, auth) sends its lines to the spill, and from
 * then on every new batch goes to the spill too, until a retry (backoff from `retryMinMs` to
 * `retryMaxMs`) gets through. The spill is drained oldest segment first; a segment is deleted only
 * after all its lines were written. A crash at any point re-sends at most some lines, which
 * overwrite themselves identically (see influx-points.ts). Spill files of a previous run are found
 * and drained at start.
 *
 * Lines refused by the server as invalid (400) are dropped, counted and logged: they would be
 * refused forever and wedge the queue.
 */
export class WriteQueue {
  private readonly linesPerWrite: number;
  private readonly maxInFlight: number;
  private readonly maxMemoryBytes: number;
  private readonly maxDiskBytes: number;
  private readonly segmentBytes: number;
  private readonly writeTimeoutMs: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;

  private started = false;
  private stopping = false;
  private abort = new AbortController();
  /** Closed segments waiting to be written, oldest first. */
  private readonly segments: Segment[] = [];
  private active: { file: string; fh: fs.promises.FileHandle; lines: number; bytes: number } | null = null;
  private nextSegment = 0;
  private diskLines = 0;
  private diskBytes = 0;
  private memoryLines = 0;
  private memoryBytes = 0;
  /** Lines handed to the spill whose append has not finished yet. */
  private appendingLines = 0;
  /** Lines of the oldest segment already written (not re-sent on the next attempt in this run). */
  private drainedOfHead = 0;

  private inFlight = 0;
  private readonly slotWaiters: Array<() => void> = [];
  private readonly appends: PendingAppend[] = [];
  private appending: Promise<void> | null = null;
  private draining: Promise<void> | null = null;
  private retryTimer: TimerHandle | null = null;
  private backoffMs: number;
  /** The last write failed and no write has succeeded since: new batches go to disk. */
  private failing = false;
  private rejectedLines = 0;
  private writtenLines = 0;

  constructor(private readonly opts: WriteQueueOptions) {
    this.linesPerWrite = opts.linesPerWrite ?? 5000;
    this.maxInFlight = opts.maxInFlight ?? 2;
    this.maxMemoryBytes = opts.maxMemoryBytes ?? 64 * 1024 * 1024;
    this.maxDiskBytes = opts.maxDiskBytes ?? 2 * 1024 * 1024 * 1024;
    this.segmentBytes = opts.segmentBytes ?? 8 * 1024 * 1024;
    this.writeTimeoutMs = opts.writeTimeoutMs ?? 10_000;
    this.retryMinMs = opts.retryMinMs ?? 250;
    this.retryMaxMs = opts.retryMaxMs ?? 30_000;
    this.backoffMs = this.retryMinMs;
  }

  /** Lines not yet in InfluxDB: in memory on their way, or spilled to disk. */
  depth(): number {
    return this.memoryLines + this.appendingLines + this.diskLines + (this.active?.lines ?? 0);
  }

  /** Lines spilled to disk and not yet written. */
  spilled(): number {
    return this.appendingLines + this.diskLines + (this.active?.lines ?? 0);
  }

  /** False while InfluxDB is failing (from the first failed write to the next successful one). */
  get available(): boolean {
    return !this.failing;
  }

  /** Lines InfluxDB refused as invalid: dropped. */
  get rejected(): number {
    return this.rejectedLines;
  }

  get written(): number {
    return this.writtenLines;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.abort = new AbortController();
    fs.mkdirSync(this.opts.dir, { recursive: true });
    const names = fs
      .readdirSync(this.opts.dir)
      .filter((n) => SEGMENT_RE.test(n))
      .sort();
    for (const name of names) {
      const file = path.join(this.opts.dir, name);
      const text = readCompleteLines(file);
      const lines = countLines(text);
      if (lines === 0) {
        fs.rmSync(file, { force: true });
        continue;
      }
      this.segments.push({ file, lines, bytes: Buffer.byteLength(text) });
      this.diskLines += lines;
      this.diskBytes += Buffer.byteLength(text);
      this.nextSegment = Math.max(this.nextSegment, Number(SEGMENT_RE.exec(name)![1]) + 1);
    }
    if (this.segments.length > 0) {
      this.opts.logger.info({ lines: this.diskLines, segments: this.segments.length }, 'telemetry spill found: draining it');
      this.kickDrain();
    }
  }

  /**
   * Resolves when every line is durable (in InfluxDB or fsynced on disk). Rejects only when the
   * queue is stopped or the disk spill is full: then nothing of the batch may be receipted.
   */
  async enqueue(lines: readonly string[]): Promise<void> {
    if (!this.started || this.stopping) {
      throw new LucioleError('LUCIOLE_ERR_STORE_CLOSED', 'telemetry write queue is not running');
    }
    if (lines.length === 0) return;
    const parts: Promise<void>[] = [];
    for (let i = 0; i < lines.length; i += this.linesPerWrite) {
      const chunk = lines.slice(i, i + this.linesPerWrite);
      const text = chunk.join('\n') + '\n';
      parts.push(this.route(text, chunk.length));
    }
    const results = await Promise.allSettled(parts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Stops: writes in flight are aborted and spilled, nothing runs afterwards. Spill files stay for the next start. */
  async stop(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    if (this.retryTimer) this.opts.clock.clearTimer(this.retryTimer);
    this.retryTimer = null;
    this.abort.abort();
    for (const w of this.slotWaiters.splice(0)) w();
    await this.draining;
    // Direct writes settle quickly once aborted (spilled); wait for them and for their appends.
    while (this.inFlight > 0 || this.appends.length > 0 || this.appending) {
      if (this.appending) await this.appending;
      else await new Promise((r) => setImmediate(r));
    }
    if (this.active) {
      await this.active.fh.close();
      this.active = null;
    }
  }

  // ---------------- direct path ----------------

  private async route(text: string, lines: number): Promise<void> {
    const bytes = Buffer.byteLength(text);
    if (this.failing || this.memoryBytes + bytes > this.maxMemoryBytes) {
      return this.spill(text, lines);
    }
    this.memoryLines += lines;
    this.memoryBytes += bytes;
    let inMemory = true;
    const leaveMemory = (): void => {
      if (!inMemory) return;
      inMemory = false;
      this.memoryLines -= lines;
      this.memoryBytes -= bytes;
    };
    try {
      await this.acquireSlot();
      try {
        if (this.failing || this.stopping) {
          leaveMemory();
          return await this.spill(text, lines);
        }
        await this.send(text);
        leaveMemory();
        this.wrote(lines);
      } catch (err) {
        leaveMemory();
        if (err instanceof SinkError && err.permanent) {
          this.refused(err, lines);
          return;
        }
        if (!this.stopping) this.failed(err);
        await this.spill(text, lines);
      } finally {
        this.releaseSlot();
      }
    } finally {
      leaveMemory();
    }
  }

  private async acquireSlot(): Promise<void> {
    while (this.inFlight >= this.maxInFlight && !this.stopping) {
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
    this.inFlight++;
  }

  private releaseSlot(): void {
    this.inFlight--;
    this.slotWaiters.shift()?.();
  }

  private async send(text: string): Promise<void> {
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.writeTimeoutMs)]);
    await this.opts.sink.write(text, signal);
  }

  private wrote(lines: number): void {
    this.writtenLines += lines;
    if (this.failing) {
      this.failing = false;
      this.opts.logger.info('InfluxDB writes succeed again');
    }
    this.backoffMs = this.retryMinMs;
  }

  private failed(err: unknown): void {
    if (!this.failing) {
      this.failing = true;
      this.opts.logger.warn({ err: describe(err) }, 'InfluxDB write failed: spilling telemetry to disk and retrying');
    }
  }

  private refused(err: SinkError, lines: number): void {
    this.rejectedLines += lines;
    this.opts.logger.error({ err: err.message, status: err.status, lines }, 'InfluxDB refused lines as invalid: dropped');
  }

  // ---------------- spill ----------------

  /** Appends and fsyncs (grouped with the appends waiting at the same time); then schedules a drain. */
  private spill(text: string, lines: number): Promise<void> {
    const bytes = Buffer.byteLength(text);
    if (this.diskBytes + (this.active?.bytes ?? 0) + bytes > this.maxDiskBytes) {
      return Promise.reject(
        new LucioleError('LUCIOLE_ERR_STORAGE_FULL', `telemetry spill is full (${this.maxDiskBytes} bytes): write refused`),
      );
    }
    this.appendingLines += lines;
    const p = new Promise<void>((resolve, reject) => this.appends.push({ text, lines, resolve, reject }));
    this.appending ??= this.appendLoop().finally(() => {
      this.appending = null;
    });
    return p.then(() => this.kickDrain());
  }

  private async appendLoop(): Promise<void> {
    while (this.appends.length > 0) {
      const group = this.appends.splice(0);
      try {
        const seg = await this.activeSegment();
        const text = group.length === 1 ? group[0]!.text : group.map((g) => g.text).join('');
        await seg.fh.appendFile(text);
        await seg.fh.datasync();
        seg.bytes += Buffer.byteLength(text);
        for (const g of group) {
          seg.lines += g.lines;
          this.appendingLines -= g.lines;
        }
        if (seg.bytes >= this.segmentBytes) await this.rotate();
        for (const g of group) g.resolve();
      } catch (err) {
        this.opts.logger.error({ err }, 'telemetry spill write failed');
        for (const g of group) {
          this.appendingLines -= g.lines;
          g.reject(err);
        }
      }
    }
  }

  private async activeSegment(): Promise<NonNullable<WriteQueue['active']>> {
    if (this.active) return this.active;
    const name = `seg-${String(this.nextSegment++).padStart(12, '0')}.lp`;
    const file = path.join(this.opts.dir, name);
    const fh = await fs.promises.open(file, 'a');
    // The new file's directory entry must survive a power loss too.
    await fsyncDir(this.opts.dir);
    this.active = { file, fh, lines: 0, bytes: 0 };
    return this.active;
  }

  /** Closes the active segment: it joins the drainable ones. */
  private async rotate(): Promise<void> {
    const a = this.active;
    if (!a) return;
    this.active = null;
    // Counted as closed before the await, so that depth() never misses its lines.
    if (a.lines > 0) {
      this.segments.push({ file: a.file, lines: a.lines, bytes: a.bytes });
      this.diskLines += a.lines;
      this.diskBytes += a.bytes;
    }
    await a.fh.close();
    if (a.lines === 0) fs.rmSync(a.file, { force: true });
  }

  private kickDrain(): void {
    if (this.draining || this.retryTimer || this.stopping) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
    });
  }

  private scheduleRetry(): void {
    if (this.stopping || this.retryTimer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.retryMaxMs, this.backoffMs * 2);
    this.retryTimer = this.opts.clock.setTimer(() => {
      this.retryTimer = null;
      this.kickDrain();
    }, delay);
  }

  /** Writes spilled segments oldest first until none is left or a write fails (then retries later). */
  private async drain(): Promise<void> {
    for (;;) {
      if (this.stopping) return;
      if (this.segments.length === 0) {
        // Let the active segment be drained as well, once nothing is being appended to it.
        if (!this.active || this.active.lines === 0 || this.appending) {
          if (this.appending) {
            await this.appending;
            continue;
          }
          return;
        }
        await this.rotate();
        continue;
      }
      const seg = this.segments[0]!;
      const lines = splitLines(readCompleteLines(seg.file));
      let ok = true;
      while (this.drainedOfHead < lines.length) {
        const chunk = lines.slice(this.drainedOfHead, this.drainedOfHead + this.linesPerWrite);
        try {
          await this.send(chunk.join('\n') + '\n');
          this.wrote(chunk.length);
        } catch (err) {
          if (err instanceof SinkError && err.permanent) {
            this.refused(err, chunk.length);
          } else {
            if (!this.stopping) this.failed(err);
            ok = false;
            break;
          }
        }
        this.drainedOfHead += chunk.length;
        this.diskLines -= chunk.length;
      }
      if (!ok) {
        this.scheduleRetry();
        return;
      }
      this.segments.shift();
      this.diskLines -= seg.lines - lines.length; // lines lost to a torn tail, if any
      this.diskBytes -= seg.bytes;
      this.drainedOfHead = 0;
      fs.rmSync(seg.file, { force: true });
    }
  }
}

/** The file's text up to its last newline: a torn tail (crash in the middle of an append) was never acknowledged. */
function readCompleteLines(file: string): string {
  const text = fs.readFileSync(file, 'utf8');
  const end = text.lastIndexOf('\n');
  return end < 0 ? '' : text.slice(0, end + 1);
}

function splitLines(text: string): string[] {
  if (text.length === 0) return [];
  return text.slice(0, -1).split('\n');
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
