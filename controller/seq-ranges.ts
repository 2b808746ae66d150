/**
 * A set of non-negative integer seqs kept as sorted, merged, inclusive ranges: the shape of a
 * `receipt`'s `seqs`. Telemetry seqs arrive mostly in increasing order, so extending the last
 * range is the O(1) fast path; anything else is a binary search plus a splice.
 */
export class SeqRangeSet {
  // starts[i]..ends[i] inclusive; sorted, disjoint and non-adjacent (ends[i] + 1 < starts[i + 1]).
  private starts: number[] = [];
  private ends: number[] = [];
  private count = 0;

  add(seq: number): void {
    this.addRange(seq, seq);
  }

  addRange(a: number, b: number): void {
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || a > b) {
      throw new RangeError(`invalid seq range [${a}, ${b}]`);
    }
    const n = this.starts.length;
    const lastEnd = n > 0 ? this.ends[n - 1]! : -2;
    if (a > lastEnd + 1) {
      this.starts.push(a);
      this.ends.push(b);
      this.count += b - a + 1;
      return;
    }
    if (a >= this.starts[n - 1]! && b > lastEnd) {
      this.ends[n - 1] = b;
      this.count += b - lastEnd;
      return;
    }
    // General case: merge every range that overlaps or touches [a, b].
    const first = this.firstEndingAtOrAfter(a - 1);
    let last = first;
    let start = a;
    let end = b;
    let covered = 0;
    while (last < n && this.starts[last]! <= b + 1) {
      start = Math.min(start, this.starts[last]!);
      end = Math.max(end, this.ends[last]!);
      covered += this.ends[last]! - this.starts[last]! + 1;
      last++;
    }
    this.starts.splice(first, last - first, start);
    this.ends.splice(first, last - first, end);
    this.count += end - start + 1 - covered;
  }

  has(seq: number): boolean {
    const i = this.firstEndingAtOrAfter(seq);
    return i < this.starts.length && this.starts[i]! <= seq;
  }

  /** Merged, sorted, inclusive ranges (a copy). */
  ranges(): Array<[number, number]> {
    const out: Array<[number, number]> = new Array(this.starts.length);
    for (let i = 0; i < this.starts.length; i++) out[i] = [this.starts[i]!, this.ends[i]!];
    return out;
  }

  clear(): void {
    this.starts = [];
    this.ends = [];
    this.count = 0;
  }

  /** Number of seqs in the set. */
  size(): number {
    return this.count;
  }

  /** Index of the first range whose end is >= x (ranges.length when none). */
  private firstEndingAtOrAfter(x: number): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ends[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
