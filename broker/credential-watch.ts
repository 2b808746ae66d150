import type { Logger } from '../core/log.js';
import type { AccountState, CredentialStore } from './credentials.js';

/**
 * Secrets are issued and revoked in config.db, possibly by another process (`luciole cabinet
 * credentials`) than the one running the broker. A new secret refuses new connections at once;
 * this watch is how the broker also notices that a connection it already accepted now holds a
 * secret that is no longer valid.
 */

export type CredentialChange = 'revoked' | 'reissued';

/**
 * Why a connection authenticated under `authenticatedGeneration` no longer holds a valid secret,
 * or null when it still does. An account that no longer exists counts as revoked.
 */
export function credentialChange(authenticatedGeneration: number, current: AccountState | null | undefined): CredentialChange | null {
  if (current === null || current === undefined || current.revoked) return 'revoked';
  return current.generation === authenticatedGeneration ? null : 'reissued';
}

export interface CredentialWatchOptions {
  credentials: Pick<CredentialStore, 'changeMarker' | 'accountStates'>;
  /** How often the change marker is read (one pragma, no table read). */
  intervalMs: number;
  /** Called with every account's state after the marker moved; the next check waits for it. */
  onChange: (states: Map<string, AccountState>) => Promise<void>;
  logger: Logger;
}

/**
 * Reads the credential store's change marker on an interval and, when it moved, hands the
 * accounts' current state to `onChange`. Nothing runs per message or per connection.
 */
export class CredentialWatch {
  private timer: NodeJS.Timeout | null = null;
  private marker: string | null = null;
  private running: Promise<void> | null = null;
  private failing = false;

  constructor(private readonly opts: CredentialWatchOptions) {}

  start(): void {
    if (this.timer) return;
    // Read now: a change made between start() and the first tick is then seen by that tick.
    this.marker = this.readMarker();
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs);
    // The broker's sockets keep the process alive, not this timer.
    this.timer.unref();
  }

  /** Stops the interval and waits for a check in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One check now (also what the interval runs); resolves when it and its `onChange` are done. */
  check(): Promise<void> {
    this.running ??= this.runCheck().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private tick(): void {
    // A check still running (a slow session purge) is not started twice.
    if (this.running) return;
    void this.check();
  }

  private readMarker(): string | null {
    try {
      const marker = this.opts.credentials.changeMarker();
      if (this.failing) this.opts.logger.info('credential store readable again');
      this.failing = false;
      return marker;
    } catch (err) {
      // Logged once per outage, not at every tick.
      if (!this.failing) this.opts.logger.error({ err }, 'credential change check failed');
      this.failing = true;
      return null;
    }
  }

  private async runCheck(): Promise<void> {
    const marker = this.readMarker();
    if (marker === null || marker === this.marker) return;
    try {
      await this.opts.onChange(this.opts.credentials.accountStates());
      // Only once handled: a failed pass is tried again at the next tick.
      this.marker = marker;
    } catch (err) {
      this.opts.logger.error({ err }, 'credential change could not be applied');
    }
  }
}
