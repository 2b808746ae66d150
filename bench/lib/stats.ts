/** Latency samples, kept whole (a bench run records at most a few million), summarised by percentile. */
export class Samples {
  private data = new Float64Array(1024);
  private n = 0;

  get count(): number {
    return this.n;
  }

  push(x: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = x;
  }

  summary(): LatencySummary {
    if (this.n === 0) return { count: 0, p50: null, p99: null, max: null, mean: null };
    const sorted = this.data.slice(0, this.n).sort();
    let sum = 0;
    for (const x of sorted) sum += x;
    const at = (p: number): number => sorted[Math.min(this.n - 1, Math.ceil((p / 100) * this.n) - 1)]!;
    return { count: this.n, p50: round(at(50)), p99: round(at(99)), max: round(sorted[this.n - 1]!), mean: round(sum / this.n) };
  }

  clear(): void {
    this.n = 0;
  }
}

export interface LatencySummary {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
