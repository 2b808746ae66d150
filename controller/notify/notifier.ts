import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { AlertChange } from '../alerts/alert-manager.js';
import type { AlertView } from '../views.js';
import { NOTIFIED_CHANGES, type Channel } from './notification.js';
import { Throttle } from './throttle.js';

export interface ChannelSettings {
  channel: Channel;
  /** Least severity sent to this channel. Default minor (everything). */
  minSeverity?: AlertView['severity'];
  /** Throttle: at most maxPerWindow deliveries per windowMs, then a digest. Defaults 5 per 10 min. */
  windowMs?: number;
  maxPerWindow?: number;
}

const RANK: Record<AlertView['severity'], number> = { minor: 0, major: 1, critical: 2 };

/**
 * Fans alert changes out to the channels (webhooks, e-mail), each behind its own throttle and
 * severity filter. Called from the alert manager's onChange on the ingest path: it only queues.
 */
export class Notifier {
  private readonly routes: Array<{ s: ChannelSettings; throttle: Throttle }>;

  constructor(
    channels: readonly ChannelSettings[],
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.routes = channels.map((s) => ({
      s,
      throttle: new Throttle({
        clock,
        windowMs: s.windowMs ?? 10 * 60_000,
        maxPerWindow: s.maxPerWindow ?? 5,
        send: (d) => s.channel.deliver(d),
      }),
    }));
  }

  start(): void {
    for (const r of this.routes) r.s.channel.start();
  }

  /** Flushes held digests, then stops every channel. */
  async stop(): Promise<void> {
    for (const r of this.routes) r.throttle.stop();
    await Promise.all(this.routes.map((r) => r.s.channel.stop()));
  }

  alertChanged(alert: AlertView, change: AlertChange): void {
    if (!NOTIFIED_CHANGES.has(change)) return;
    const at = this.clock.now();
    for (const r of this.routes) {
      if (RANK[alert.severity] < RANK[r.s.minSeverity ?? 'minor']) continue;
      try {
        r.throttle.offer({ alert, change, at });
      } catch (err) {
        this.logger.warn({ err, channel: r.s.channel.name }, 'notification not queued');
      }
    }
  }
}
