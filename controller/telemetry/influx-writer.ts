import { SeqRangeSet } from '../seq-ranges.js';
import type { PresenceRecord, TelemetryRecord, WriteResult } from '../stores.js';
import { presenceLine, telemetryLines, type LampZones } from './influx-points.js';
import type { WriteQueue } from './write-queue.js';

/**
 * The write half shared by the InfluxDB 1.x and 2.x stores: records → line protocol → the durable
 * write queue, with the (cabinetId, seq) already stored in this process counted as duplicates and
 * not written again (they would only overwrite themselves). After a restart a replayed message is
 * written again and overwrites itself identically: still stored once, counted as `stored`.
 */
export class InfluxWriter {
  private readonly seen = new Map<string, SeqRangeSet>();
  private zones: LampZones | undefined;

  constructor(
    private readonly queue: WriteQueue,
    zones?: LampZones,
  ) {
    this.zones = zones;
  }

  /** Replaces the lamp → zone map (after an inventory import); points written before keep their tags. */
  setZones(zones: LampZones | undefined): void {
    this.zones = zones;
  }

  async writeTelemetry(batch: readonly TelemetryRecord[]): Promise<WriteResult> {
    const lines: string[] = [];
    const fresh: TelemetryRecord[] = [];
    const inBatch = new Set<string>();
    let duplicates = 0;
    let samples = 0;
    for (const rec of batch) {
      const key = `${rec.cabinetId}\n${rec.seq}`;
      if (this.seen.get(rec.cabinetId)?.has(rec.seq) || inBatch.has(key)) {
        duplicates++;
        continue;
      }
      inBatch.add(key);
      fresh.push(rec);
      samples += telemetryLines(rec, this.zones, lines);
    }
    await this.queue.enqueue(lines);
    for (const rec of fresh) this.seqsOf(rec.cabinetId).add(rec.seq);
    return { stored: fresh.length, duplicates, samples };
  }

  async writePresence(batch: readonly PresenceRecord[]): Promise<void> {
    const lines = new Array<string>(batch.length);
    for (let i = 0; i < batch.length; i++) lines[i] = presenceLine(batch[i]!, this.zones);
    await this.queue.enqueue(lines);
  }

  /** Seqs written (durably) by this process, merged into `into`. */
  addKnownSeqs(cabinetId: string, into: SeqRangeSet): void {
    for (const [a, b] of this.seen.get(cabinetId)?.ranges() ?? []) into.addRange(a, b);
  }

  /** Seqs found in InfluxDB are remembered, so that replays of them are counted as duplicates. */
  remember(cabinetId: string, seqs: SeqRangeSet): void {
    const set = this.seqsOf(cabinetId);
    for (const [a, b] of seqs.ranges()) set.addRange(a, b);
  }

  clear(): void {
    this.seen.clear();
  }

  private seqsOf(cabinetId: string): SeqRangeSet {
    let s = this.seen.get(cabinetId);
    if (!s) {
      s = new SeqRangeSet();
      this.seen.set(cabinetId, s);
    }
    return s;
  }
}
