import type { AlertChange } from '../alerts/alert-manager.js';
import type { AlertView } from '../views.js';

/** One alert change, as the channels receive it. */
export interface AlertNotice {
  alert: AlertView;
  change: AlertChange;
  /** Controller time of the change. */
  at: number;
}

/** What a throttled channel sends: one notice, or a digest of those held back in a storm. */
export type Delivery = { type: 'alert'; notice: AlertNotice } | { type: 'digest'; notices: AlertNotice[]; from: number; to: number };

/** A notification channel: `deliver` never blocks and never throws (it queues). */
export interface Channel {
  readonly name: string;
  deliver(d: Delivery): void;
  start(): void;
  /** Stops retrying; waits (boundedly) for what is in flight. */
  stop(): Promise<void>;
}

/** Changes a crew must hear about; a plain repeat (`updated`) is for the dashboard only. */
export const NOTIFIED_CHANGES: ReadonlySet<AlertChange> = new Set(['opened', 'reopened', 'escalated', 'resolved']);
