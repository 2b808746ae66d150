import { LucioleError } from '../../core/errors.js';
import type { PresenceRecord, TelemetryRecord, WriteResult } from '../stores.js';
import type { LampZones } from './influx-points.js';
import { InfluxWriter } from './influx-writer.js';
import { WriteQueue, type WriteQueueOptions } from './write-queue.js';

/**
 * The write side both InfluxDB stores share: points go through a spill-backed WriteQueue, so a
 * write resolves once in InfluxDB or fsynced to disk, and the queue's health is the
 * `storage_unavailable` condition. Subclasses open their client, then call `startWrites`.
 */
export abstract class QueuedInfluxStore {
  private queue: WriteQueue | null = null;
  private writer: InfluxWriter | null = null;

  protected async startWrites(opts: WriteQueueOptions, zones: LampZones | undefined): Promise<void> {
    const queue = new WriteQueue(opts);
    await queue.start();
    this.queue = queue;
    this.writer = new InfluxWriter(queue, zones);
  }

  /** Stops the queue (what is queued stays spilled for the next start); then `onClosed`. */
  async close(): Promise<void> {
    const queue = this.queue;
    if (!queue) return;
    this.queue = null;
    this.writer = null;
    this.onClosed();
    await queue.stop();
  }

  /** Forget the query client. */
  protected abstract onClosed(): void;

  /** Lines not yet in InfluxDB (in memory on their way, or spilled to disk). */
  queueDepth(): number {
    return this.queue?.depth() ?? 0;
  }

  /** False from a failed write until the next successful one: the `storage_unavailable` condition. */
  available(): boolean {
    return this.queue?.available ?? false;
  }

  setLampZones(zones: LampZones | undefined): void {
    this.writer?.setZones(zones);
  }

  writeTelemetry(batch: readonly TelemetryRecord[]): Promise<WriteResult> {
    return this.requireWriter().writeTelemetry(batch);
  }

  writePresence(batch: readonly PresenceRecord[]): Promise<void> {
    return this.requireWriter().writePresence(batch);
  }

  protected requireWriter(): InfluxWriter {
    if (!this.writer) throw new LucioleError('LUCIOLE_ERR_STORE_CLOSED', 'telemetry store is not open');
    return this.writer;
  }
}
