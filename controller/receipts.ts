import { every, type Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { encodePayload } from '../protocol/index.js';
import { SeqRangeSet } from './seq-ranges.js';

/** receiptSchema allows at most this many ranges in one message. */
const MAX_RANGES_PER_RECEIPT = 10_000;

export interface ReceiptsOptions {
  clock: Clock;
  logger: Logger;
  /** How often pending receipts are sent, clock ms. */
  receiptMs: number;
  /** Publishes a `receipt` payload to the cabinet (QoS 1); resolves on the broker's ack. */
  publish(cabinetId: string, payload: string): Promise<void>;
}

/**
 * Telemetry seqs that became final (stored, duplicate, or refused for good) and that the cabinet
 * has not been told about yet. Sent as one receipt per cabinet every `receiptMs`: the gateway
 * deletes exactly those from its outbox.
 */
export class Receipts {
  private readonly pendingByCabinet = new Map<string, SeqRangeSet>();
  private stopTimer: (() => void) | null = null;
  private sentCount = 0;

  constructor(private readonly opts: ReceiptsOptions) {}

  get sent(): number {
    return this.sentCount;
  }

  markFinal(cabinetId: string, seq: number): void {
    let set = this.pendingByCabinet.get(cabinetId);
    if (!set) {
      set = new SeqRangeSet();
      this.pendingByCabinet.set(cabinetId, set);
    }
    set.add(seq);
  }

  /** Seq ranges waiting to be receipted for a cabinet. */
  pending(cabinetId: string): Array<[number, number]> {
    return this.pendingByCabinet.get(cabinetId)?.ranges() ?? [];
  }

  start(): void {
    if (this.stopTimer) return;
    this.stopTimer = every(this.opts.clock, this.opts.receiptMs, () => {
      void this.sendPending();
    });
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = null;
  }

  /**
   * Sends one receipt per cabinet with pending seqs. The pending sets are taken before sending, so
   * seqs finalised meanwhile wait for the next round; a failed send puts its ranges back.
   * Never rejects.
   */
  async sendPending(): Promise<void> {
    const batch: Array<[string, Array<[number, number]>]> = [];
    for (const [cabinetId, set] of this.pendingByCabinet) {
      if (set.size() > 0) batch.push([cabinetId, set.ranges()]);
    }
    this.pendingByCabinet.clear();
    await Promise.all(batch.map(([cabinetId, ranges]) => this.sendTo(cabinetId, ranges)));
  }

  private async sendTo(cabinetId: string, ranges: Array<[number, number]>): Promise<void> {
    for (let i = 0; i < ranges.length; i += MAX_RANGES_PER_RECEIPT) {
      const chunk = ranges.slice(i, i + MAX_RANGES_PER_RECEIPT);
      try {
        const payload = encodePayload('receipt', { v: 1, ts: this.opts.clock.now(), seqs: chunk });
        await this.opts.publish(cabinetId, payload);
        this.sentCount++;
      } catch (err) {
        this.opts.logger.warn({ err, cabinetId }, 'receipt not sent; retried next round');
        for (const [a, b] of ranges.slice(i)) {
          let set = this.pendingByCabinet.get(cabinetId);
          if (!set) {
            set = new SeqRangeSet();
            this.pendingByCabinet.set(cabinetId, set);
          }
          set.addRange(a, b);
        }
        return;
      }
    }
  }
}
