import path from 'node:path';
import { telemetrySchema, type Telemetry } from '../protocol/index.js';
import { isTempFile, writeFileAtomic } from './atomic-file.js';
import { nodeFs, type EdgeFs } from './fs-port.js';

const NAME = /^(\d{16})\.json$/;
const name = (seq: number): string => `${String(seq).padStart(16, '0')}.json`;

export interface AppendResult {
  /** Seqs of the oldest messages dropped to stay under maxBytes, in order. */
  dropped: number[];
}

export interface OutboxOpenResult {
  /** Files that could not be read back as telemetry (disk damage): removed. */
  discarded: number;
}

/**
 * Telemetry waiting for a `receipt`, one file per message named by its zero-padded seq, each
 * written atomically: after a kill -9 every file is a whole message or absent. An index of
 * (seq, bytes) is kept in memory; message bodies stay on disk.
 */
export class Outbox {
  private seqs: number[] = [];
  private readonly sizes = new Map<number, number>();
  private total = 0;
  private opened = false;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly fs: EdgeFs = nodeFs,
  ) {}

  open(): OutboxOpenResult {
    const fs = this.fs;
    fs.mkdirSync(this.dir, { recursive: true });
    this.seqs = [];
    this.sizes.clear();
    this.total = 0;
    let discarded = 0;
    for (const f of fs.readdirSync(this.dir)) {
      if (isTempFile(f)) {
        fs.rmSync(path.join(this.dir, f), { force: true });
        continue;
      }
      const m = NAME.exec(f);
      if (!m) continue;
      const seq = Number(m[1]);
      const file = path.join(this.dir, f);
      const size = fs.statSync(file).size;
      if (!this.readMessage(seq)) {
        fs.rmSync(file, { force: true });
        discarded++;
        continue;
      }
      this.seqs.push(seq);
      this.sizes.set(seq, size);
      this.total += size;
    }
    this.seqs.sort((a, b) => a - b);
    this.opened = true;
    return { discarded };
  }

  append(msg: Telemetry): AppendResult {
    this.assertOpen();
    const body = JSON.stringify(msg);
    const size = Buffer.byteLength(body);
    // Throws on a full disk before the index changes: the caller decides what to do with the message.
    writeFileAtomic(path.join(this.dir, name(msg.seq)), body, this.fs);
    if (this.sizes.has(msg.seq)) {
      this.total -= this.sizes.get(msg.seq)!;
    } else {
      insertSorted(this.seqs, msg.seq);
    }
    this.sizes.set(msg.seq, size);
    this.total += size;
    const dropped: number[] = [];
    // The newest is always kept, even alone over the bound: it is the freshest data.
    while (this.total > this.maxBytes && this.seqs.length > 1) {
      const oldest = this.seqs[0]!;
      this.remove(oldest, 0);
      dropped.push(oldest);
    }
    return { dropped };
  }

  /** Every waiting message, in seq order, exactly as appended (original ts). */
  pending(): Telemetry[] {
    this.assertOpen();
    const out: Telemetry[] = [];
    for (const seq of this.seqs) {
      const m = this.readMessage(seq);
      if (m) out.push(m);
    }
    return out;
  }

  /** The seqs waiting, in order (a copy: the caller may hold it while the outbox changes). */
  seqList(): number[] {
    return [...this.seqs];
  }

  has(seq: number): boolean {
    return this.sizes.has(seq);
  }

  /** One waiting message as appended, or null when settled, dropped or unreadable. */
  message(seq: number): Telemetry | null {
    this.assertOpen();
    return this.sizes.has(seq) ? this.readMessage(seq) : null;
  }

  /** Deletes exactly the seqs covered by the inclusive ranges; returns how many were deleted. */
  settle(ranges: ReadonlyArray<readonly [number, number]>): number {
    this.assertOpen();
    const gone = new Set<number>();
    for (const [from, to] of ranges) {
      for (let i = lowerBound(this.seqs, from); i < this.seqs.length && this.seqs[i]! <= to; i++) {
        gone.add(this.seqs[i]!);
      }
    }
    if (gone.size === 0) return 0;
    for (const seq of gone) {
      this.fs.rmSync(path.join(this.dir, name(seq)), { force: true });
      this.total -= this.sizes.get(seq) ?? 0;
      this.sizes.delete(seq);
    }
    // One pass over the index: a receipt after a long outage may cover thousands of messages.
    this.seqs = this.seqs.filter((s) => !gone.has(s));
    return gone.size;
  }

  count(): number {
    return this.seqs.length;
  }

  bytes(): number {
    return this.total;
  }

  /** Highest seq on disk, or null: a floor for the next seq if the seq record is lost. */
  maxSeq(): number | null {
    return this.seqs.length > 0 ? this.seqs[this.seqs.length - 1]! : null;
  }

  private remove(seq: number, index: number): void {
    this.fs.rmSync(path.join(this.dir, name(seq)), { force: true });
    this.seqs.splice(index, 1);
    this.total -= this.sizes.get(seq) ?? 0;
    this.sizes.delete(seq);
  }

  private readMessage(seq: number): Telemetry | null {
    try {
      const parsed = telemetrySchema.safeParse(JSON.parse(this.fs.readFileSync(path.join(this.dir, name(seq)), 'utf8')));
      return parsed.success && parsed.data.seq === seq ? parsed.data : null;
    } catch {
      return null;
    }
  }

  private assertOpen(): void {
    if (!this.opened) throw new Error('outbox not opened');
  }
}

function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(a: number[], x: number): void {
  if (a.length === 0 || a[a.length - 1]! < x) a.push(x);
  else a.splice(lowerBound(a, x), 0, x);
}
