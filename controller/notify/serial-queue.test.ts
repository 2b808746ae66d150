import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial-queue.js';

describe('SerialQueue', () => {
  it('drops the oldest when full, drains in order with one worker, and stops taking items', async () => {
    const seen: number[] = [];
    let dropped = 0;
    let active = 0;
    let maxActive = 0;
    let gate: () => void = () => {};
    const q: SerialQueue<number> = new SerialQueue<number>({
      max: 3,
      drain: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        while (q.running && q.items.length > 0) {
          await new Promise<void>((r) => (gate = r));
          seen.push(q.items.shift()!);
        }
        active--;
      },
      onDropped: () => dropped++,
      onError: () => {},
    });
    for (const n of [1, 2, 3, 4]) q.push(n);
    expect(dropped).toBe(1);
    expect(q.items).toEqual([2, 3, 4]);
    q.start();
    q.push(5); // full again: 2 goes
    for (let i = 0; i < 3; i++) {
      gate();
      await new Promise((r) => setImmediate(r));
    }
    expect(seen).toEqual([3, 4, 5]);
    const stopped = q.stop();
    expect(q.running).toBe(false);
    gate();
    await stopped;
    q.push(6);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([3, 4, 5]);
    expect(maxActive).toBe(1);
    expect(dropped).toBe(2);
  });
});
