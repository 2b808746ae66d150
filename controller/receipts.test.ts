import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import { receiptSchema } from '../protocol/index.js';
import { Receipts } from './receipts.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Receipts', () => {
  it('sends one receipt per cabinet with merged ranges every receiptMs, then nothing until new seqs', async () => {
    const clock = new ManualClock(5000);
    const sent: Array<[string, unknown]> = [];
    const r = new Receipts({
      clock,
      logger: silentLogger(),
      receiptMs: 1000,
      publish: async (c, p) => {
        sent.push([c, receiptSchema.parse(JSON.parse(p))]);
      },
    });
    r.start();
    for (const s of [1, 2, 3, 7, 5, 6]) r.markFinal('A', s);
    r.markFinal('B', 10);
    clock.advance(1000);
    await tick();
    expect(sent).toEqual([
      ['A', { v: 1, ts: 6000, seqs: [[1, 3], [5, 7]] }],
      ['B', { v: 1, ts: 6000, seqs: [[10, 10]] }],
    ]);
    expect(r.sent).toBe(2);
    clock.advance(1000);
    await tick();
    expect(sent.length).toBe(2);
    r.stop();
    r.markFinal('A', 8);
    clock.advance(5000);
    await tick();
    expect(sent.length).toBe(2);
    expect(r.pending('A')).toEqual([[8, 8]]);
  });

  it('puts the ranges back when a send fails', async () => {
    const clock = new ManualClock(0);
    let fail = true;
    const sent: string[] = [];
    const r = new Receipts({
      clock,
      logger: silentLogger(),
      receiptMs: 1000,
      publish: async (_c, p) => {
        if (fail) throw new Error('offline');
        sent.push(p);
      },
    });
    r.markFinal('A', 1);
    await r.sendPending();
    r.markFinal('A', 2);
    expect(r.pending('A')).toEqual([[1, 2]]);
    fail = false;
    await r.sendPending();
    expect(JSON.parse(sent[0]!).seqs).toEqual([[1, 2]]);
    expect(r.pending('A')).toEqual([]);
  });
});
