import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Telemetry } from '../protocol/index.js';
import { Outbox } from './outbox.js';
import { removeDir, tempDir } from './test-support.js';

const msg = (seq: number, lamps = 1): Telemetry => ({
  v: 1,
  seq,
  ts: 1_763_758_800_000 + seq * 60_000,
  periodS: 60,
  lamps: Array.from({ length: lamps }, (_, i) => ({
    id: `L-${i}`,
    level: 40,
    powerW: 21.4,
    energyWh: 1000 + seq,
    fault: null,
  })),
});

describe('Outbox', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => removeDir(dir));

  it('returns pending messages in seq order, whatever the append order', () => {
    const box = new Outbox(dir, 1 << 20);
    box.open();
    for (const s of [5, 3, 9, 4]) box.append(msg(s));
    expect(box.pending().map((m) => m.seq)).toEqual([3, 4, 5, 9]);
    expect(box.pending()[0]).toEqual(msg(3));
    expect(box.count()).toBe(4);
  });

  it('settle deletes exactly the seqs covered by the ranges', () => {
    const box = new Outbox(dir, 1 << 20);
    box.open();
    for (let s = 1; s <= 10; s++) box.append(msg(s));
    const deleted = box.settle([
      [2, 4],
      [7, 7],
      [20, 30],
    ]);
    expect(deleted).toBe(4);
    expect(box.pending().map((m) => m.seq)).toEqual([1, 5, 6, 8, 9, 10]);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.json'))).toHaveLength(6);
  });

  it('tracks bytes as the sum of the stored files', () => {
    const box = new Outbox(dir, 1 << 20);
    box.open();
    for (let s = 1; s <= 3; s++) box.append(msg(s));
    const onDisk = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    expect(box.bytes()).toBe(onDisk);
    box.settle([[1, 3]]);
    expect(box.bytes()).toBe(0);
  });

  it('when full drops the oldest messages and reports them', () => {
    const one = Buffer.byteLength(JSON.stringify(msg(10, 20)));
    const box = new Outbox(dir, one * 3 + 10);
    box.open();
    const dropped: number[] = [];
    for (let s = 10; s < 16; s++) dropped.push(...box.append(msg(s, 20)).dropped);
    expect(dropped).toEqual([10, 11, 12]);
    expect(box.pending().map((m) => m.seq)).toEqual([13, 14, 15]);
    expect(box.bytes()).toBeLessThanOrEqual(one * 3 + 10);
  });

  it('survives a re-open: same messages, temp files of an interrupted write ignored', () => {
    const box = new Outbox(dir, 1 << 20);
    box.open();
    for (let s = 1; s <= 4; s++) box.append(msg(s));
    box.settle([[2, 2]]);
    // What a kill -9 in the middle of a write leaves behind.
    fs.writeFileSync(path.join(dir, '.tmp-0000000000000005.json-123'), '{"v":1,"se');
    const again = new Outbox(dir, 1 << 20);
    again.open();
    expect(again.pending()).toEqual([msg(1), msg(3), msg(4)]);
    expect(again.maxSeq()).toBe(4);
    expect(fs.readdirSync(dir).some((f) => f.startsWith('.tmp-'))).toBe(false);
  });

  it('removes a damaged message file on open instead of failing', () => {
    const box = new Outbox(dir, 1 << 20);
    box.open();
    box.append(msg(1));
    box.append(msg(2));
    fs.writeFileSync(path.join(dir, '0000000000000001.json'), 'garbage');
    const again = new Outbox(dir, 1 << 20);
    expect(again.open().discarded).toBe(1);
    expect(again.pending().map((m) => m.seq)).toEqual([2]);
  });
});
