import { every, type Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { AccessStore, TelemetryStore } from './stores.js';

/**
 * Retention, enforced (RGPD art. 5(1)(e): kept no longer than needed): on a clock timer, raw
 * telemetry and presence counts older than `rawRetentionDays` are deleted through
 * `TelemetryStore.prune`, and ended sessions and API tokens (expired or revoked) are deleted
 * after `credentialRetentionDays`. Runs once at start, then every `intervalMs` of clock time.
 */
export interface RetentionOptions {
  clock: Clock;
  telemetry: Pick<TelemetryStore, 'prune'>;
  /** Raw telemetry and presence are kept this many days. */
  rawRetentionDays: number;
  /** Ended sessions and API tokens; absent: not pruned here. */
  credentials?: Pick<AccessStore, 'pruneCredentials'> | undefined;
  /** Days an ended session or token is kept (it names who did what in the audit log meanwhile). Default 30. */
  credentialRetentionDays?: number;
  /** Clock ms between runs. Default 1 h. */
  intervalMs?: number;
  log: Logger;
}

export interface RetentionRun {
  /** The cutoff given to `TelemetryStore.prune`: rows with ts before it were deleted. */
  before: number;
  telemetryRows: number;
  credentials: number;
}

const DAY_MS = 86_400_000;

export class RetentionJob {
  private stopTimer: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private last: RetentionRun | null = null;

  constructor(private readonly opts: RetentionOptions) {
    if (!(opts.rawRetentionDays > 0)) throw new RangeError('rawRetentionDays must be positive');
  }

  start(): void {
    if (this.stopTimer) return;
    this.stopTimer = every(this.opts.clock, this.opts.intervalMs ?? 3_600_000, () => this.tick());
    this.tick();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopTimer?.();
    this.stopTimer = null;
    await this.whenIdle();
  }

  /** Resolves once no run is in progress. */
  async whenIdle(): Promise<void> {
    await this.running;
  }

  /** The last completed run, or null. */
  lastRun(): RetentionRun | null {
    return this.last;
  }

  /** One pass now. */
  async runOnce(): Promise<RetentionRun> {
    const now = this.opts.clock.now();
    const before = now - this.opts.rawRetentionDays * DAY_MS;
    const telemetryRows = await this.opts.telemetry.prune(before);
    const credentials = this.opts.credentials?.pruneCredentials(now - (this.opts.credentialRetentionDays ?? 30) * DAY_MS) ?? 0;
    const run = { before, telemetryRows, credentials };
    this.last = run;
    if (telemetryRows > 0 || credentials > 0) this.opts.log.info(run, 'retention: old data deleted');
    return run;
  }

  private tick(): void {
    // A slow prune (InfluxDB) is never run twice at once; the next tick skips.
    if (this.running) return;
    this.running = this.runOnce()
      .then(() => undefined)
      .catch((err: unknown) => this.opts.log.error({ err }, 'retention run failed; retried at the next interval'))
      .finally(() => {
        this.running = null;
      });
  }
}
