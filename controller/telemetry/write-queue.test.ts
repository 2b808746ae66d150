import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { until } from '../test-kit.js';
import { SinkError, WriteQueue, type LineSink, type WriteQueueOptions } from './write-queue.js';

/** An InfluxDB stand-in: up (stores lines), down (refuses), or rejecting content (400). */
class FakeSink implements LineSink {
  mode: 'up' | 'down' | 'invalid' = 'up';
  readonly lines: string[] = [];
  writes = 0;
  async write(body: string): Promise<void> {
    this.writes++;
    if (this.mode === 'down') throw new SinkError('connect ECONNREFUSED', false);
    if (this.mode === 'invalid') throw new SinkError('field type conflict', true, 400);
    this.lines.push(...body.split('\n').filter((l) => l.length > 0));
  }
}

function lines(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `m,t=${prefix} v=${i} ${1_700_000_000_000 + i}`);
}

function spillFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.lp')) : [];
}

describe('WriteQueue', () => {
  let dir: string;
  let clock: ManualClock;
  let sink: FakeSink;
  let queue: WriteQueue;

  const make = (extra: Partial<WriteQueueOptions> = {}): WriteQueue =>
    new WriteQueue({ sink, dir, clock, logger: silentLogger(), linesPerWrite: 10, retryMinMs: 100, retryMaxMs: 800, ...extra });

  beforeEach(async () => {
    dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-queue-')), 'spill');
    clock = new ManualClock(0);
    sink = new FakeSink();
    queue = make();
    await queue.start();
  });

  afterEach(async () => {
    await queue.stop();
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it('writes straight through in chunks while the server answers, touching no disk', async () => {
    await queue.enqueue(lines('a', 25));
    expect(sink.lines).toEqual(lines('a', 25));
    expect(sink.writes).toBe(3);
    expect(queue.depth()).toBe(0);
    expect(spillFiles(dir)).toEqual([]);
    expect(queue.available).toBe(true);
  });

  it('spills to disk while the server is down, resolves once fsynced, and drains with backoff when it is back', async () => {
    sink.mode = 'down';
    await queue.enqueue(lines('a', 12));
    await queue.enqueue(lines('b', 5));
    expect(queue.available).toBe(false);
    expect(queue.depth()).toBe(17);
    expect(sink.lines).toEqual([]);
    const onDisk = spillFiles(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('');
    expect(onDisk.trim().split('\n').sort()).toEqual([...lines('a', 12), ...lines('b', 5)].sort());
    // Still down at the next retries (clock-driven backoff): nothing lost, nothing written.
    const before = sink.writes;
    await until(() => {
      clock.advance(100);
      return sink.writes >= before + 2;
    });
    expect(queue.depth()).toBe(17);
    expect(sink.lines).toEqual([]);
    sink.mode = 'up';
    await until(() => {
      clock.advance(100);
      return queue.depth() === 0;
    });
    expect([...sink.lines].sort()).toEqual([...lines('a', 12), ...lines('b', 5)].sort());
    expect(spillFiles(dir)).toEqual([]);
    expect(queue.available).toBe(true);
    // Back to the direct path.
    await queue.enqueue(lines('c', 3));
    expect(sink.lines.slice(-3)).toEqual(lines('c', 3));
  });

  it('finds the spill of a previous run at start and writes it, ignoring a torn last line', async () => {
    sink.mode = 'down';
    await queue.enqueue(lines('a', 7));
    await queue.stop();
    // A crash in the middle of a later append left half a line behind.
    const [file] = spillFiles(dir);
    fs.appendFileSync(path.join(dir, file!), 'm,t=torn v=');
    sink.mode = 'up';
    queue = make();
    await queue.start();
    expect(queue.depth()).toBe(7);
    await until(() => queue.depth() === 0);
    expect(sink.lines).toEqual(lines('a', 7));
    expect(spillFiles(dir)).toEqual([]);
  });

  it('drops and counts lines the server refuses as invalid instead of retrying them forever', async () => {
    sink.mode = 'invalid';
    await queue.enqueue(lines('a', 4));
    expect(queue.rejected).toBe(4);
    expect(queue.depth()).toBe(0);
    expect(spillFiles(dir)).toEqual([]);
  });

  it('refuses a batch when the spill is full, so that it is not receipted', async () => {
    await queue.stop();
    queue = make({ maxDiskBytes: 200 });
    await queue.start();
    sink.mode = 'down';
    await queue.enqueue(lines('a', 5));
    await expect(queue.enqueue(lines('b', 10))).rejects.toMatchObject({ code: 'LUCIOLE_ERR_STORAGE_FULL' });
    expect(queue.depth()).toBe(5);
  });

  it('sends what waits beyond the memory bound to disk even while the server answers', async () => {
    await queue.stop();
    const waiting: Array<() => void> = [];
    const release = (): void => {
      for (const r of waiting.splice(0)) r();
    };
    const slow: LineSink = {
      write: (body, signal) =>
        new Promise<void>((resolve, reject) => {
          signal.addEventListener('abort', () => reject(new SinkError('aborted', false)));
          waiting.push(() => {
            sink.lines.push(...body.split('\n').filter(Boolean));
            resolve();
          });
        }),
    };
    queue = new WriteQueue({ sink: slow, dir, clock, logger: silentLogger(), linesPerWrite: 10, maxInFlight: 1, maxMemoryBytes: 500 });
    await queue.start();
    const pending = queue.enqueue(lines('a', 40));
    await until(() => queue.spilled() > 0);
    expect(queue.depth()).toBe(40);
    await until(() => {
      release();
      return queue.depth() === 0;
    });
    await pending;
    expect([...sink.lines].sort()).toEqual(lines('a', 40).sort());
  });
});
