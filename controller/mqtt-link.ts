import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../core/log.js';

export interface MqttLinkOptions {
  url: string;
  username: string;
  password: string;
  clientId: string;
  logger: Logger;
  /** Filters subscribed on every connection, each at its QoS. */
  subscriptions: ReadonlyArray<{ filter: string; qos: 0 | 1 }>;
  /** Every message received; must not throw (the caller guards). */
  onMessage(topic: string, payload: Buffer, retained: boolean): void;
  /**
   * After each (re)connection and subscription: republish retained state the broker may have lost.
   * Awaited by start() on the first connection; failures on reconnections are logged.
   */
  onConnect?(): Promise<void>;
  mqttOptions?: IClientOptions;
  /**
   * Share the load with other controllers through an MQTT 5 shared subscription: each filter is
   * subscribed as `$share/<group>/<filter>` and the broker hands each message to one member.
   * Needs Mosquitto or EMQX (aedes 1.2 speaks only MQTT 3.1.1).
   */
  shared?: SharedSubscriptionOptions;
}

export interface SharedSubscriptionOptions {
  /** The group every controller of the cluster names, e.g. `controllers`. */
  group: string;
  /** This instance's name in the group, unique and stable: its client id is `<clientId>-<member>`. */
  member: string;
  /**
   * How long the broker keeps this member's session (and queues its share) while it is away,
   * seconds. Default one hour: long enough for a restart, short enough that a member removed
   * without a clean disconnect does not hoard messages for days.
   */
  sessionExpiryS?: number;
}

/** `$share/<group>/<filter>`; the group name must not contain `/`, `+` or `#`. */
export function sharedFilter(group: string, filter: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(group)) throw new Error(`invalid shared subscription group: ${JSON.stringify(group)}`);
  return `$share/${group}/${filter}`;
}

const DEFAULT_SHARED_SESSION_EXPIRY_S = 3600;

export interface PublishOptions {
  qos: 0 | 1;
  retain: boolean;
}

/** Connack codes that no retry will fix (MQTT 3.1.1 4 and 5, MQTT 5 134 and 135). */
const FATAL_CONNACK_CODES = new Set([4, 5, 134, 135]);

/**
 * The controller's MQTT connection: a persistent session (clean: false) so uplinks subscribed at
 * QoS 1 queue in the broker while the controller is down (a filter subscribed at QoS 0 does not:
 * see ControllerOptions.telemetryQos), subscriptions renewed on every connection.
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
    const { logger, shared } = this.opts;
    const client = mqtt.connect(this.opts.url, {
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...this.opts.mqttOptions,
      ...(shared
        ? {
            protocolVersion: 5,
            // MQTT 5 ends a session at disconnect unless told otherwise: clean: false alone is not enough.
            properties: {
              ...this.opts.mqttOptions?.properties,
              sessionExpiryInterval: shared.sessionExpiryS ?? DEFAULT_SHARED_SESSION_EXPIRY_S,
            },
          }
        : {}),
      clientId: shared ? `${this.opts.clientId}-${shared.member}` : this.opts.clientId,
      username: this.opts.username,
      password: this.opts.password,
      clean: false,
      // We subscribe ourselves on every connect: the persistent session may have been lost.
      resubscribe: false,
    });
    this.client = client;
    // MQTT.js leaves Nagle on: PUBACKs, receipts and relayed presence would wait up to 40 ms for
    // more bytes (issue 8). Set on each new socket (reconnections make new ones).
    noDelay(client);
    client.on('connect', () => noDelay(client));
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
    const shared = this.opts.shared;
    const filters: Record<string, { qos: 0 | 1 }> = {};
    for (const { filter, qos } of this.opts.subscriptions) filters[shared ? sharedFilter(shared.group, filter) : filter] = { qos };
    const grants = await client.subscribeAsync(filters);
    // MQTT 5 refusals are reason codes from 0x80 up; 3.1.1 has only 128.
    const refused = grants.filter((g) => g.qos >= 128).map((g) => g.topic);
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

/** Nagle off on the client's TCP or TLS socket (a WebSocket stream has no such switch). */
function noDelay(client: MqttClient): void {
  const stream = client.stream as { setNoDelay?: (on: boolean) => unknown } | undefined;
  stream?.setNoDelay?.(true);
}
