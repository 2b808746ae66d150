import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../core/log.js';

export interface MqttLinkOptions {
  url: string;
  username: string;
  password: string;
  clientId: string;
  logger: Logger;
  /** Filters subscribed at QoS 1 on every connection. */
  subscriptions: string[];
  /** Every message received; must not throw (the caller guards). */
  onMessage(topic: string, payload: Buffer, retained: boolean): void;
  /**
   * After each (re)connection and subscription: republish retained state the broker may have lost.
   * Awaited by start() on the first connection; failures on reconnections are logged.
   */
  onConnect?(): Promise<void>;
  mqttOptions?: IClientOptions;
}

export interface PublishOptions {
  qos: 0 | 1;
  retain: boolean;
}

/** Connack codes that no retry will fix (MQTT 3.1.1 4 and 5, MQTT 5 134 and 135). */
const FATAL_CONNACK_CODES = new Set([4, 5, 134, 135]);

/**
 * The controller's MQTT connection: a persistent session (clean: false) so QoS 1 uplinks queue in
 * the broker while the controller is down, subscriptions renewed on every connection.
 */
export class MqttLink {
  private client: MqttClient | null = null;
  private stopping = false;
  private abortStart: (() => void) | null = null;

  constructor(private readonly opts: MqttLinkOptions) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Resolves once connected, subscribed and `onConnect` done; rejects on refused credentials. */
  async start(): Promise<void> {
    if (this.client) throw new Error('MQTT link already started');
    this.stopping = false;
    const { logger } = this.opts;
    const client = mqtt.connect(this.opts.url, {
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...this.opts.mqttOptions,
      clientId: this.opts.clientId,
      username: this.opts.username,
      password: this.opts.password,
      clean: false,
      // We subscribe ourselves on every connect: the persistent session may have been lost.
      resubscribe: false,
    });
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      this.opts.onMessage(topic, payload, packet.retain);
    });
    client.on('reconnect', () => logger.debug('MQTT reconnecting'));
    client.on('offline', () => logger.warn('MQTT connection lost'));

    let first = true;
    const connected = new Promise<void>((resolve, reject) => {
      const onError = (err: Error & { code?: unknown }): void => {
        if (first && typeof err.code === 'number' && FATAL_CONNACK_CODES.has(err.code)) {
          first = false;
          reject(new Error(`MQTT connection refused: ${err.message}`));
          return;
        }
        logger.warn({ err: err.message }, 'MQTT error');
      };
      client.on('error', onError);
      this.abortStart = () => {
        if (first) {
          first = false;
          reject(new Error('MQTT link stopped before it connected'));
        }
      };
      client.on('connect', () => {
        this.onConnected(client).then(
          () => {
            if (first) {
              first = false;
              resolve();
            }
          },
          (err: unknown) => {
            if (first) {
              first = false;
              reject(err instanceof Error ? err : new Error(String(err)));
            } else {
              logger.error({ err }, 'MQTT resubscription or republish failed');
            }
          },
        );
      });
    });
    try {
      await connected;
    } catch (err) {
      // Connected but unusable (subscriptions refused), or stopped meanwhile: leave nothing behind.
      await this.stop(0);
      throw err;
    } finally {
      this.abortStart = null;
    }
  }

  private async onConnected(client: MqttClient): Promise<void> {
    const grants = await client.subscribeAsync(this.opts.subscriptions, { qos: 1 });
    const refused = grants.filter((g) => g.qos === 128).map((g) => g.topic);
    if (refused.length > 0) throw new Error(`MQTT subscriptions refused: ${refused.join(', ')}`);
    this.opts.logger.info({ subscriptions: this.opts.subscriptions.length }, 'MQTT connected');
    if (this.opts.onConnect) await this.opts.onConnect();
  }

  /** Resolves when the broker acknowledges (QoS 1); while disconnected the message waits in the client. */
  async publish(topic: string, payload: string, opts: PublishOptions): Promise<void> {
    const client = this.client;
    if (!client || this.stopping) throw new Error('MQTT link not started');
    await client.publishAsync(topic, payload, { qos: opts.qos, retain: opts.retain });
  }

  /** Ends the connection, giving in-flight messages up to `graceMs` to be acknowledged. */
  async stop(graceMs = 2000): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    this.client = null;
    this.abortStart?.();
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        client.end(true, {}, () => resolve());
      }, graceMs);
    });
    try {
      await Promise.race([client.endAsync(false), forced]);
    } finally {
      clearTimeout(timer);
      client.removeAllListeners();
      // Swallow errors from a socket torn down after end.
      client.on('error', () => {});
    }
  }
}
