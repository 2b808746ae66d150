import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { SeqRangeSet } from './seq-ranges.js';

/** The ranges a plain set of integers forms, computed the slow obvious way. */
function naiveRanges(values: Set<number>): Array<[number, number]> {
  const sorted = [...values].sort((x, y) => x - y);
  const out: Array<[number, number]> = [];
  for (const v of sorted) {
    const last = out[out.length - 1];
    if (last && last[1] + 1 === v) last[1] = v;
    else out.push([v, v]);
  }
  return out;
}

describe('SeqRangeSet', () => {
  it('merges increasing seqs into one range and keeps gaps apart', () => {
    const s = new SeqRangeSet();
    for (let i = 4700; i <= 4711; i++) s.add(i);
    s.add(4713);
    expect(s.ranges()).toEqual([
      [4700, 4711],
      [4713, 4713],
    ]);
    expect(s.size()).toBe(13);
    expect(s.has(4712)).toBe(false);
    expect(s.has(4713)).toBe(true);
    s.add(4712);
    expect(s.ranges()).toEqual([[4700, 4713]]);
  });

  it('merges a range bridging several ranges, and clears', () => {
    const s = new SeqRangeSet();
    s.addRange(10, 12);
    s.addRange(20, 22);
    s.addRange(30, 31);
    s.add(5);
    s.addRange(11, 29);
    expect(s.ranges()).toEqual([
      [5, 5],
      [10, 31],
    ]);
    expect(s.size()).toBe(23);
    s.clear();
    expect(s.ranges()).toEqual([]);
    expect(s.size()).toBe(0);
    expect(s.has(10)).toBe(false);
  });

  it('refuses negative, fractional and reversed ranges', () => {
    const s = new SeqRangeSet();
    expect(() => s.add(-1)).toThrow(RangeError);
    expect(() => s.add(1.5)).toThrow(RangeError);
    expect(() => s.addRange(5, 4)).toThrow(RangeError);
  });

  it('matches a naive set for any sequence of additions', () => {
    const op = fc.tuple(fc.nat(200), fc.nat(6));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const s = new SeqRangeSet();
        const model = new Set<number>();
        for (const [a, len] of ops) {
          if (len === 0) s.add(a);
          else s.addRange(a, a + len);
          for (let v = a; v <= a + len; v++) model.add(v);
        }
        expect(s.ranges()).toEqual(naiveRanges(model));
        expect(s.size()).toBe(model.size);
        for (let v = 0; v <= 210; v++) expect(s.has(v)).toBe(model.has(v));
      }),
    );
  });
});
