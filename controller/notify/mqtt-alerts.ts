import type { Logger } from '../../core/log.js';
import { alertMessageSchema, alertTopic } from '../../protocol/index.js';
import type { AlertView } from '../views.js';

export type PublishFn = (topic: string, payload: string, opts: { qos: 1; retain: true }) => Promise<unknown>;

/** The PROTOCOL.md alert message of an alert view. */
export function alertMessage(alert: AlertView): string {
  return JSON.stringify(
    alertMessageSchema.parse({
      v: 1,
      id: alert.id,
      kind: alert.kind,
      severity: alert.severity,
      state: alert.state,
      cabinetId: alert.cabinetId,
      lampId: alert.lampId,
      openedAt: alert.openedAt,
      lastSeen: alert.lastSeen,
      count: alert.count,
      detail: alert.detail.slice(0, 1024),
    }),
  );
}

/**
 * `luciole/v1/alerts/{alertId}`: retained while open or acknowledged, an empty retained payload
 * once resolved (which deletes the retained message). Publishing is fire-and-forget for the
 * caller; a failure is logged, and the next change of the alert publishes it again.
 */
export class MqttAlertPublisher {
  constructor(
    private readonly publish: PublishFn,
    private readonly logger: Logger,
  ) {}

  alertChanged(alert: AlertView): void {
    const payload = alert.state === 'resolved' ? '' : alertMessage(alert);
    this.publish(alertTopic(alert.id), payload, { qos: 1, retain: true }).catch((err: unknown) => {
      this.logger.warn({ err, alertId: alert.id }, 'alert not published');
    });
  }
}
