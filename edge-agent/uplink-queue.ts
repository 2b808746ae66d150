import path from 'node:path';
import { z } from 'zod';
import { isTempFile, writeFileAtomic } from './atomic-file.js';
import { nodeFs, type EdgeFs } from './fs-port.js';

const NAME = /^(\d{16})\.json$/;
const name = (n: number): string => `${String(n).padStart(16, '0')}.json`;

export const queuedUplinkSchema = z.object({
  channel: z.enum(['event', 'ack']),
  payload: z.string().max(256 * 1024),
});
export type QueuedUplink = z.infer<typeof queuedUplinkSchema>;

export interface UplinkQueueOptions {
  dir: string;
  /** Items kept at most: a guard against filling the disk, not a drop policy (see push). */
  maxItems: number;
  fs?: EdgeFs;
}

export interface QueuedItem extends QueuedUplink {
  id: number;
}

/**
 * Events and acks on their way to the broker, one file per message written atomically, deleted
 * once the broker's PUBACK for it has arrived. MQTT.js alone keeps them only in memory: without
 * this a gateway restart during an outage would lose its door_open, power_cut and acks. Unlike
 * telemetry, nothing here is dropped to make room.
 */
export class UplinkQueue {
  private readonly fs: EdgeFs;
  private readonly items = new Map<number, QueuedUplink>();
  /** Handed to MQTT.js in this process life and not failed since: not to be published again. */
  private readonly handedOver = new Set<number>();
  private next = 1;
  private opened = false;
  private refusedCount = 0;
  private unsavedCount = 0;

  constructor(private readonly opts: UplinkQueueOptions) {
    this.fs = opts.fs ?? nodeFs;
  }

  /** Loads what an earlier life left; damaged files are removed and counted. */
  open(): { discarded: number } {
    const fs = this.fs;
    fs.mkdirSync(this.opts.dir, { recursive: true });
    this.items.clear();
    this.handedOver.clear();
    let discarded = 0;
    let max = 0;
    for (const f of fs.readdirSync(this.opts.dir)) {
      const file = path.join(this.opts.dir, f);
      if (isTempFile(f)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      const m = NAME.exec(f);
      if (!m) continue;
      const id = Number(m[1]);
      const item = readItem(fs, file);
      if (!item) {
        fs.rmSync(file, { force: true });
        discarded++;
        continue;
      }
      this.items.set(id, item);
      max = Math.max(max, id);
    }
    this.next = max + 1;
    this.opened = true;
    return { discarded };
  }

  /**
   * Queues a message. Returns its id, or null when the queue is at maxItems (counted in
   * `refused`). A failed disk write keeps it in memory (counted in `unsaved`): it is still sent
   * in this process life, and lost only if the gateway restarts before it goes.
   */
  push(item: QueuedUplink): number | null {
    if (!this.opened) throw new Error('uplink queue not opened');
    if (this.items.size >= this.opts.maxItems) {
      this.refusedCount++;
      return null;
    }
    const id = this.next++;
    try {
      writeFileAtomic(path.join(this.opts.dir, name(id)), JSON.stringify(item), this.fs);
    } catch {
      this.unsavedCount++;
    }
    this.items.set(id, item);
    return id;
  }

  /** Items not yet handed to the MQTT client in this process life, oldest first. */
  unsent(): QueuedItem[] {
    const out: QueuedItem[] = [];
    for (const [id, item] of [...this.items].sort((a, b) => a[0] - b[0])) {
      if (!this.handedOver.has(id)) out.push({ id, ...item });
    }
    return out;
  }

  markHandedOver(id: number): void {
    if (this.items.has(id)) this.handedOver.add(id);
  }

  /** The publish failed (client ended): send it again at the next connection. */
  markFailed(id: number): void {
    this.handedOver.delete(id);
  }

  /** The broker acknowledged it. */
  done(id: number): void {
    if (!this.items.delete(id)) return;
    this.handedOver.delete(id);
    try {
      this.fs.rmSync(path.join(this.opts.dir, name(id)), { force: true });
    } catch {
      // A file that cannot be removed is sent once more after a restart: a duplicate, not a loss.
    }
  }

  count(): number {
    return this.items.size;
  }

  get refused(): number {
    return this.refusedCount;
  }

  get unsaved(): number {
    return this.unsavedCount;
  }
}

function readItem(fs: EdgeFs, file: string): QueuedUplink | null {
  try {
    const parsed = queuedUplinkSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
