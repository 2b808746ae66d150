import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { SerialQueue } from './serial-queue.js';
import type { Channel, Delivery } from './notification.js';

export const webhookConfigSchema = z.object({
  name: z.string().min(1).max(64),
  url: z.url({ protocol: /^https?$/ }),
  /** HMAC-SHA256 key shared with the receiver; at least 16 characters. */
  secret: z.string().min(16, { message: 'must be at least 16 characters' }),
  /** Deliveries waiting beyond this are dropped, oldest first (and counted). */
  maxQueue: z.number().int().positive().max(100_000).default(1000),
  maxAttempts: z.number().int().min(1).max(20).default(6),
  /** First retry delay, clock ms; doubles each attempt up to maxBackoffMs. */
  backoffMs: z.number().int().positive().default(1000),
  maxBackoffMs: z.number().int().positive().default(5 * 60_000),
  /** One request's time limit, real ms. */
  timeoutMs: z.number().int().positive().max(120_000).default(10_000),
});
export type WebhookConfig = z.input<typeof webhookConfigSchema>;

export const SIGNATURE_HEADER = 'x-luciole-signature';
export const TIMESTAMP_HEADER = 'x-luciole-timestamp';

/** `sha256=<hex>` of HMAC-SHA256(secret, `${timestamp}.${body}`): the timestamp binds against replays. */
export function signBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): constant-time check of a signature header. */
export function verifySignature(secret: string, timestamp: string, body: string, header: string | undefined): boolean {
  if (!header) return false;
  const want = Buffer.from(signBody(secret, timestamp, body));
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** The JSON body of a delivery. */
export function webhookBody(d: Delivery): string {
  if (d.type === 'alert') return JSON.stringify({ v: 1, type: 'alert', change: d.notice.change, at: d.notice.at, alert: d.notice.alert });
  return JSON.stringify({
    v: 1,
    type: 'digest',
    from: d.from,
    to: d.to,
    count: d.notices.length,
    alerts: d.notices.map((n) => ({ change: n.change, at: n.at, alert: n.alert })),
  });
}

export interface WebhookStats {
  sent: number;
  retries: number;
  /** Given up after maxAttempts or refused for good (4xx). */
  failed: number;
  /** Dropped because the queue was full. */
  dropped: number;
  queued: number;
}

/**
 * Webhook channel: JSON POSTs signed with HMAC-SHA256, retried with exponential backoff.
 * `deliver` only queues (bounded): ingestion never waits for a slow receiver. One request at a
 * time, in order; a delivery that keeps failing is dropped after maxAttempts.
 */
export class WebhookChannel implements Channel {
  readonly name: string;
  private readonly cfg: z.output<typeof webhookConfigSchema>;
  private readonly queue: SerialQueue<{ body: string; attempts: number }>;
  private readonly stats: WebhookStats = { sent: 0, retries: 0, failed: 0, dropped: 0, queued: 0 };
  private wait: { timer: TimerHandle; wake: () => void } | null = null;
  private inflight: AbortController | null = null;

  constructor(
    config: WebhookConfig,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly fetchFn: typeof fetch = fetch,
  ) {
    this.cfg = webhookConfigSchema.parse(config);
    this.name = `webhook:${this.cfg.name}`;
    this.queue = new SerialQueue({
      max: this.cfg.maxQueue,
      drain: () => this.drain(),
      onDropped: () => this.stats.dropped++,
      onError: (err) => this.logger.error({ err, channel: this.name }, 'webhook worker failed'),
    });
  }

  counters(): WebhookStats {
    return { ...this.stats, queued: this.queue.items.length };
  }

  start(): void {
    this.queue.start();
  }

  async stop(): Promise<void> {
    const stopped = this.queue.stop();
    if (this.wait) {
      this.clock.clearTimer(this.wait.timer);
      this.wait.wake();
    }
    this.inflight?.abort();
    await stopped;
  }

  deliver(d: Delivery): void {
    this.queue.push({ body: webhookBody(d), attempts: 0 });
  }

  private async drain(): Promise<void> {
    const items = this.queue.items;
    while (this.queue.running && items.length > 0) {
      const item = items[0]!;
      item.attempts++;
      const outcome = await this.post(item.body);
      if (!this.queue.running && outcome !== 'ok') return;
      if (outcome === 'ok') {
        this.stats.sent++;
        items.shift();
        continue;
      }
      if (outcome === 'permanent' || item.attempts >= this.cfg.maxAttempts) {
        this.stats.failed++;
        items.shift();
        this.logger.warn({ channel: this.name, attempts: item.attempts, outcome }, 'webhook delivery given up');
        continue;
      }
      this.stats.retries++;
      const delay = Math.min(this.cfg.maxBackoffMs, this.cfg.backoffMs * 2 ** (item.attempts - 1));
      await new Promise<void>((resolve) => {
        const timer = this.clock.setTimer(() => {
          this.wait = null;
          resolve();
        }, delay);
        this.wait = { timer, wake: resolve };
      });
      this.wait = null;
    }
  }

  private async post(body: string): Promise<'ok' | 'retry' | 'permanent'> {
    const timestamp = String(this.clock.now());
    const ctl = new AbortController();
    this.inflight = ctl;
    const timeout = setTimeout(() => ctl.abort(), this.cfg.timeoutMs);
    try {
      const res = await this.fetchFn(this.cfg.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'luciole-controller',
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signBody(this.cfg.secret, timestamp, body),
        },
        body,
        signal: ctl.signal,
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return 'ok';
      // Client errors will not get better by retrying, except a timeout or a rate limit.
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) return 'permanent';
      return 'retry';
    } catch {
      return 'retry';
    } finally {
      clearTimeout(timeout);
      this.inflight = null;
    }
  }
}
