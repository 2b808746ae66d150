import type { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Aedes, type AedesOptions, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import { RateLimitedLog, type Logger } from '../core/log.js';
import { MAX_PAYLOAD_BYTES } from '../protocol/index.js';
import { canPublish, canSubscribe } from './acl.js';
import type { CredentialStore } from './credentials.js';
import type { Identity } from './identity.js';

export interface BrokerTlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** CA that client certificates must chain to, when `requestCert` is set. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Ask for a client certificate and refuse the handshake without a valid one. */
  requestCert?: boolean;
}

export interface BrokerOptions {
  /** 0: any free port. */
  port: number;
  host?: string;
  tls?: BrokerTlsOptions;
  credentials: CredentialStore;
  logger: Logger;
  /** Deeper topics are refused before they reach the matcher. Ours have 5 levels, `$SYS/` ones 4. */
  maxTopicLevels?: number;
  /** A client whose socket does not drain within this many ms is disconnected. */
  drainTimeout?: number;
  /** A socket that sends no CONNECT within this many ms is closed. */
  connectTimeoutMs?: number;
  /**
   * A cabinet must connect with the client id `edge-<cabinetId>` (PROTOCOL.md). On by default:
   * aedes closes the older of two connections with one client id, so an unbound cabinet could
   * kick another cabinet, or the controller, off the broker.
   */
  bindCabinetClientId?: boolean;
}

export interface BrokerStats {
  authFailures: number;
  refusedPublishes: number;
  refusedSubscriptions: number;
}

export interface RunningBroker {
  port: number;
  /** `mqtt://host:port` or `mqtts://host:port`, connectable from this machine. */
  url: string;
  aedes: Aedes;
  /** Usernames with at least one connected client, sorted. */
  connectedClients(): string[];
  /** Closes every connection of `username` (after a revoke: its secret no longer lets it back). */
  disconnect(username: string): void;
  stats(): BrokerStats;
  close(): Promise<void>;
}

/** CONNACK return codes of MQTT 3.1.1. */
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

const DEFAULT_MAX_TOPIC_LEVELS = 8;
// A 256 KiB policy drains in about 20 s on a 100 kbit/s cellular link: 30 s leaves margin while
// still freeing a frozen client's buffers.
const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const LOG_INTERVAL_MS = 10_000;

/** Marks a packet the ACL refused; the `publish` wrapper drops it. */
const REFUSED = Symbol('luciole.refused');
type MaybeRefused = PublishPacket & { [REFUSED]?: true };

function authError(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function clientIdProblem(clientId: string): string | null {
  if (clientId.length === 0) return 'empty client id';
  if (clientId === '+' || clientId === '#') return 'wildcard client id';
  if (clientId.includes('\u0000')) return 'NUL in client id';
  return null;
}

/** Wire strings in logs are cut: a 64 KiB username must not become a 64 KiB log line. */
function shorten(s: string | undefined): string | null {
  if (s === undefined) return null;
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

function shownHost(host: string): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  return h.includes(':') ? `[${h}]` : h;
}

export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
  const log = opts.logger;
  const host = opts.host ?? '127.0.0.1';
  const bindClientId = opts.bindCabinetClientId ?? true;
  const limited = new RateLimitedLog(log, LOG_INTERVAL_MS, Date.now);
  const counters: BrokerStats = { authFailures: 0, refusedPublishes: 0, refusedSubscriptions: 0 };
  const identities = new WeakMap<Client, Identity>();
  /** What CONNECT said before aedes normalised it (an empty id becomes `aedes_<uuid>`). */
  const connectInfo = new WeakMap<Client, { clientId: string; willTopic: string | null }>();
  const byUsername = new Map<string, Set<Client>>();
  const sockets = new Set<net.Socket>();

  const refuseAuth = (
    client: Client,
    username: string | undefined,
    returnCode: number,
    reason: string,
    done: (err: AuthenticateError | null, ok: boolean | null) => void,
  ): void => {
    counters.authFailures++;
    // Keyed by reason, not by username: usernames come from the wire, and a key per made-up name
    // would neither limit a flood nor stop the limiter's map from growing.
    limited.warn(
      `auth:${reason}`,
      { username: shorten(username), clientId: shorten(connectInfo.get(client)?.clientId), reason, returnCode },
      'mqtt connection refused',
    );
    done(authError(returnCode, reason), false);
  };

  const aedesOpts: AedesOptions = {
    maxTopicLevels: opts.maxTopicLevels ?? DEFAULT_MAX_TOPIC_LEVELS,
    drainTimeout: opts.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT_MS,
    connectTimeout: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,

    preConnect(client, packet, callback) {
      connectInfo.set(client, { clientId: packet.clientId ?? '', willTopic: packet.will?.topic ?? null });
      callback(null, true);
    },

    authenticate(client, username, password, done) {
      const info = connectInfo.get(client) ?? { clientId: '', willTopic: null };
      const idProblem = clientIdProblem(info.clientId);
      if (idProblem) return refuseAuth(client, username, IDENTIFIER_REJECTED, idProblem, done);
      if (!username || !password || password.length === 0) {
        return refuseAuth(client, username, NOT_AUTHORIZED, 'anonymous connection', done);
      }
      opts.credentials.verify(username, password.toString('utf8')).then(
        (role) => {
          if (role === null) return refuseAuth(client, username, BAD_USERNAME_OR_PASSWORD, 'bad username or password', done);
          const identity: Identity = { username, role };
          if (role === 'cabinet' && bindClientId && info.clientId !== `edge-${username}`) {
            return refuseAuth(client, username, IDENTIFIER_REJECTED, 'cabinet client id must be edge-<cabinetId>', done);
          }
          // aedes checks a will only when it fires; refusing it here tells the gateway at once
          // and keeps it out of the will store.
          if (info.willTopic !== null && !canPublish(identity, info.willTopic)) {
            return refuseAuth(client, username, NOT_AUTHORIZED, 'last will topic not allowed', done);
          }
          identities.set(client, identity);
          done(null, true);
        },
        (err: unknown) => {
          log.error({ err, username }, 'credential check failed');
          refuseAuth(client, username, SERVER_UNAVAILABLE, 'credential store unavailable', done);
        },
      );
    },

    authorizePublish(client, packet, callback) {
      // aedes's own guard: `$SYS/` is the broker's; a client writing there could forge
      // `$SYS/<id>/new/clients` and kick other clients. Refused with an error: disconnects.
      if (packet.topic.startsWith('$SYS/')) {
        counters.refusedPublishes++;
        return callback(new Error('$SYS/ topic is reserved'));
      }
      // A null client is a will aedes found in its store after a restart; it was checked at connect.
      if (client === null) return callback(null);
      const identity = identities.get(client);
      const bytes = typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length;
      const tooBig = bytes > MAX_PAYLOAD_BYTES;
      if (!identity || tooBig || !canPublish(identity, packet.topic)) {
        counters.refusedPublishes++;
        limited.warn(
          `pub:${identity?.username ?? '?'}`,
          { username: identity?.username ?? null, topic: packet.topic, bytes },
          tooBig ? 'mqtt publish refused: payload too large' : 'mqtt publish refused by ACL',
        );
        // Dropped but acknowledged (MQTT-3.3.5-2 allows either): closing the connection instead
        // would make the gateway resend the same QoS 1 message after every reconnect, forever.
        (packet as MaybeRefused)[REFUSED] = true;
      }
      callback(null);
    },

    authorizeSubscribe(client, sub, callback) {
      const identity = identities.get(client);
      if (identity && canSubscribe(identity, sub.topic)) return callback(null, sub);
      counters.refusedSubscriptions++;
      limited.warn(
        `sub:${identity?.username ?? '?'}`,
        { username: identity?.username ?? null, filter: sub.topic },
        'mqtt subscription refused by ACL',
      );
      // null: SUBACK grants 128 for this filter, the connection stays up.
      callback(null, null);
    },
  };

  const aedes = await Aedes.createBroker(aedesOpts);

  // Every publish, from a client, a will or the broker itself, goes through aedes.publish; the
  // refused ones stop here, before they are retained, queued or delivered.
  // (aedes.d.ts declares only the two-argument form; aedes itself also passes the client.)
  type Done = (err?: Error) => void;
  type PublishFn = (packet: PublishPacket, client: Client | null | Done, done?: Done) => void;
  const patchable = aedes as unknown as { publish: PublishFn };
  const publish = patchable.publish.bind(aedes);
  patchable.publish = (packet, client, done) => {
    if (typeof client === 'function') return publish(packet, null, client);
    if ((packet as MaybeRefused)[REFUSED]) return done?.();
    return publish(packet, client, done);
  };

  aedes.on('clientReady', (client) => {
    const identity = identities.get(client);
    if (!identity || client.closed) return;
    let set = byUsername.get(identity.username);
    if (!set) byUsername.set(identity.username, (set = new Set()));
    set.add(client);
    log.info({ username: identity.username, clientId: client.id, role: identity.role }, 'mqtt client connected');
  });
  aedes.on('clientDisconnect', (client) => {
    const identity = identities.get(client);
    if (!identity) return;
    const set = byUsername.get(identity.username);
    set?.delete(client);
    if (set?.size === 0) byUsername.delete(identity.username);
    log.info({ username: identity.username, clientId: client.id }, 'mqtt client disconnected');
  });
  aedes.on('clientError', (client, err) => {
    log.debug({ username: identities.get(client)?.username ?? null, clientId: client.id, err: err.message }, 'mqtt client error');
  });
  aedes.on('connectionError', (_client, err) => {
    log.debug({ err: err.message }, 'mqtt connection error');
  });
  // Without a listener an 'error' event would throw and end the process.
  (aedes as EventEmitter).on('error', (err: Error) => log.error({ err }, 'mqtt broker error'));

  const handle = (socket: net.Socket): void => {
    aedes.handle(socket);
  };

  let server: net.Server;
  if (opts.tls) {
    const tlsServer = tls.createServer({
      cert: opts.tls.cert,
      key: opts.tls.key,
      ...(opts.tls.ca !== undefined ? { ca: opts.tls.ca } : {}),
      requestCert: opts.tls.requestCert ?? false,
      rejectUnauthorized: opts.tls.requestCert ?? false,
      // A socket that never finishes its handshake is bounded like one that never sends CONNECT.
      handshakeTimeout: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    });
    tlsServer.on('secureConnection', handle);
    tlsServer.on('tlsClientError', (err, socket) => {
      limited.warn('tls', { remote: socket.remoteAddress ?? null, err: err.message }, 'tls handshake failed');
      socket.destroy();
    });
    server = tlsServer;
  } else {
    server = net.createServer(handle);
  }
  // The raw TCP socket, before any TLS: Nagle off (small MQTT packets must not wait for an ACK),
  // and tracked so close() can end connections that never became aedes clients.
  server.on('connection', (socket: net.Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('error', (err) => log.error({ err }, 'mqtt server error'));

  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen(opts.port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw err;
  }

  const port = (server.address() as AddressInfo).port;
  const url = `${opts.tls ? 'mqtts' : 'mqtt'}://${shownHost(host)}:${port}`;
  log.info({ url }, 'mqtt broker listening');

  let closing: Promise<void> | null = null;

  return {
    port,
    url,
    aedes,
    connectedClients: () => [...byUsername.keys()].sort(),
    disconnect(username) {
      const set = byUsername.get(username);
      if (!set) return;
      for (const client of [...set]) client.close();
      log.info({ username }, 'mqtt client disconnected by the broker');
    },
    stats: () => ({ ...counters }),
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        // Sockets that never sent CONNECT are not aedes clients: aedes.close() leaves them open.
        for (const socket of sockets) socket.destroy();
        await serverClosed;
        byUsername.clear();
        log.info({ url }, 'mqtt broker closed');
      })();
      return closing;
    },
  };
}
