import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { WriteBatcher } from './write-batcher.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

// A few macrotasks: a write ending schedules the next one with setImmediate.
const tick = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

describe('WriteBatcher', () => {
  it('writes a lone item at once (next macrotask), without waiting for batchMs', async () => {
    const clock = new ManualClock(0);
    const writes: number[][] = [];
    const b = new WriteBatcher<number>({
      clock,
      batchMs: 200,
      maxBatch: 10,
      write: async (items) => {
        writes.push(items);
      },
      onError: () => {},
    });
    b.add(1);
    b.add(2);
    // Items added in the same macrotask (one socket read) share one write.
    expect(writes).toEqual([]);
    await tick();
    expect(writes).toEqual([[1, 2]]);
    b.add(3);
    await tick();
    expect(writes).toEqual([[1, 2], [3]]);
    expect(b.pending).toBe(0);
  });

  it('group commit: what arrives during a write goes in the next one, never two writes at once', async () => {
    const clock = new ManualClock(0);
    const calls: number[][] = [];
    let active = 0;
    let maxActive = 0;
    const gates: Array<ReturnType<typeof deferred>> = [];
    const b = new WriteBatcher<number>({
      clock,
      batchMs: 1000,
      maxBatch: 3,
      write: async (items) => {
        active++;
        maxActive = Math.max(maxActive, active);
        calls.push(items);
        const g = deferred();
        gates.push(g);
        await g.promise;
        active--;
      },
      onError: () => {},
    });
    for (let i = 0; i < 7; i++) b.add(i);
    await tick();
    expect(calls).toEqual([[0, 1, 2]]);
    expect(b.pending).toBe(7);
    b.add(7);
    await tick();
    expect(calls.length).toBe(1);
    gates[0]!.resolve();
    await tick();
    expect(calls).toEqual([[0, 1, 2], [3, 4, 5]]);
    gates[1]!.resolve();
    await tick();
    // The rest, below maxBatch, goes at once: no timer (the clock never moved).
    expect(calls[2]).toEqual([6, 7]);
    gates[2]!.resolve();
    await tick();
    expect(maxActive).toBe(1);
    expect(b.pending).toBe(0);
  });

  it('requeues a failed batch in order and retries it', async () => {
    const clock = new ManualClock(0);
    const stored: number[] = [];
    let fail = true;
    const errors: number[] = [];
    const b = new WriteBatcher<number>({
      clock,
      batchMs: 50,
      maxBatch: 100,
      write: async (items) => {
        if (fail) throw new Error('disk full');
        stored.push(...items);
      },
      onError: (_e, n) => errors.push(n),
    });
    b.add(1);
    b.add(2);
    clock.advance(50);
    await tick();
    expect(errors).toEqual([2]);
    b.add(3);
    fail = false;
    clock.advance(50);
    await tick();
    expect(stored).toEqual([1, 2, 3]);
  });

  it('with maxInFlight 2, starts the next write while one commits, and requeues failed batches in their order', async () => {
    const clock = new ManualClock(0);
    const calls: number[][] = [];
    const gates: Array<ReturnType<typeof deferred>> = [];
    const errors: number[] = [];
    const b = new WriteBatcher<number>({
      clock,
      batchMs: 100,
      maxBatch: 2,
      maxInFlight: 2,
      write: async (items) => {
        calls.push(items);
        const g = deferred();
        gates.push(g);
        await g.promise;
      },
      onError: (_e, n) => errors.push(n),
    });
    for (let i = 0; i < 5; i++) b.add(i);
    await tick();
    expect(calls).toEqual([
      [0, 1],
      [2, 3],
    ]);
    // The first fails (and so, in the store, does the one built on it): both go back in order.
    gates[0]!.reject(new Error('disk full'));
    await tick();
    expect(calls.length).toBe(2);
    gates[1]!.reject(new Error('refused'));
    await tick();
    expect(errors).toEqual([2, 2]);
    expect(b.pending).toBe(5);
    clock.advance(100);
    await tick();
    expect(calls.slice(2)).toEqual([
      [0, 1],
      [2, 3],
    ]);
    gates[2]!.resolve();
    gates[3]!.resolve();
    await tick();
    expect(calls[4]).toEqual([4]);
    gates[4]!.resolve();
    await b.flush();
    expect(b.pending).toBe(0);
  });

  it('close() writes what is queued, refuses new items and leaves no timer', async () => {
    const clock = new ManualClock(0);
    const stored: number[] = [];
    const b = new WriteBatcher<number>({
      clock,
      batchMs: 10_000,
      maxBatch: 2,
      write: async (items) => {
        stored.push(...items);
      },
      onError: () => {},
    });
    for (let i = 0; i < 5; i++) b.add(i);
    await b.close();
    expect(stored).toEqual([0, 1, 2, 3, 4]);
    expect(b.add(9)).toBe(false);
    clock.advance(60_000);
    await tick();
    expect(stored).toEqual([0, 1, 2, 3, 4]);
  });

  it('bounds the queue when the store hangs', async () => {
    const clock = new ManualClock(0);
    const b = new WriteBatcher<number>({
      clock,
      batchMs: 10,
      maxBatch: 2,
      maxQueued: 3,
      write: () => new Promise<void>(() => {}),
      onError: () => {},
    });
    b.add(1);
    b.add(2);
    await tick();
    // [1, 2] are being written (forever); three more may wait, the fourth is refused.
    expect([3, 4, 5, 6].map((i) => b.add(i))).toEqual([true, true, true, false]);
    expect(b.pending).toBe(5);
  });
});
