import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { TelemetryRecord, TelemetryStore } from './stores.js';
import { WriteBatcher } from './write-batcher.js';

export interface TelemetrySinkOptions {
  store: TelemetryStore;
  clock: Clock;
  logger: Logger;
  batchMs: number;
  maxBatch: number;
  /** Called once the seq is durably stored (or known as already stored): it may be receipted. */
  onFinal(cabinetId: string, seq: number): void;
}

/**
 * Telemetry on its way to the store: batched writes, and a seq is declared final only after the
 * write that holds it has committed. A message repeated while its first copy still waits is
 * counted as a duplicate and becomes final with it.
 */
export class TelemetrySink {
  private readonly batcher: WriteBatcher<TelemetryRecord>;
  /** `cabinetId\n seq` of records queued or being written. */
  private readonly waiting = new Set<string>();
  private duplicateCount = 0;
  private sampleCount = 0;
  private refusedCount = 0;

  constructor(private readonly opts: TelemetrySinkOptions) {
    this.batcher = new WriteBatcher<TelemetryRecord>({
      clock: opts.clock,
      batchMs: opts.batchMs,
      maxBatch: opts.maxBatch,
      maxInFlight: opts.store.maxWritesInFlight ?? 1,
      write: (batch) => this.write(batch),
      onError: (err, items) => opts.logger.error({ err, items }, 'telemetry write failed; retrying'),
    });
  }

  get duplicates(): number {
    return this.duplicateCount;
  }

  get samplesStored(): number {
    return this.sampleCount;
  }

  /** Messages refused because the write queue is full (they are not receipted, so they come again). */
  get refused(): number {
    return this.refusedCount;
  }

  get pending(): number {
    return this.batcher.pending;
  }

  add(record: TelemetryRecord): void {
    const key = `${record.cabinetId}\n${record.seq}`;
    if (this.waiting.has(key)) {
      this.duplicateCount++;
      return;
    }
    if (!this.batcher.add(record)) {
      this.refusedCount++;
      return;
    }
    this.waiting.add(key);
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }

  close(): Promise<void> {
    return this.batcher.close();
  }

  private async write(batch: TelemetryRecord[]): Promise<void> {
    const result = await this.opts.store.writeTelemetry(batch);
    this.duplicateCount += result.duplicates;
    this.sampleCount += result.samples;
    for (const r of batch) {
      this.waiting.delete(`${r.cabinetId}\n${r.seq}`);
      this.opts.onFinal(r.cabinetId, r.seq);
    }
  }
}
