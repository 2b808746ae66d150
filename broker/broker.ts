import type { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Aedes, type AedesOptions, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import { LucioleError } from '../core/errors.js';
import { RateLimitedLog, type Logger } from '../core/log.js';
import { MAX_PAYLOAD_BYTES } from '../protocol/index.js';
import { canPublish, canSubscribe, isIllFormedText } from './acl.js';
import { checkClientCertificate } from './client-cert.js';
import { credentialChange, CredentialWatch, type CredentialChange } from './credential-watch.js';
import type { AccountState, CredentialStore, VerifiedAccount } from './credentials.js';
import type { Identity } from './identity.js';
import { FailedLoginLimiter, type FailedLoginLimitOptions } from './login-limiter.js';
import { guardPreConnect } from './pre-connect-guard.js';
import { purgeSession, type SessionPersistence } from './session-purge.js';

export interface BrokerTlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** CA that client certificates must chain to; required with `requestCert`. */
  ca?: string | Buffer | Array<string | Buffer>;
  /**
   * Mutual TLS: ask for a client certificate and refuse the handshake without one that chains to
   * `ca` and is within its validity dates; then its subject CN must equal the MQTT username.
   */
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
  /** A socket that sends no CONNECT within this many ms is closed (also bounds a TLS handshake). */
  connectTimeoutMs?: number;
  /**
   * A connection that sends more than this many bytes before its CONNECT is accepted is closed.
   * Default 64 KiB; 0 turns the cap off (only to measure what it prevents). A client must wait for
   * CONNACK before sending more than this (MQTT.js and the edge agent do).
   */
  preConnectByteCap?: number;
  /** Failed logins allowed per remote address (IPv6: per /64) and window; false: no limit. */
  failedLoginLimit?: FailedLoginLimitOptions | false;
  /** Wall clock in ms for the login limiter and log rate limiting. Default Date.now. */
  now?: () => number;
  /**
   * A cabinet must connect with the client id `edge-<cabinetId>` (PROTOCOL.md). On by default:
   * aedes closes the older of two connections with one client id, so an unbound cabinet could
   * kick another cabinet, or the controller, off the broker.
   */
  bindCabinetClientId?: boolean;
  /**
   * How often, in ms, the credential store is checked for secrets re-issued or revoked by another
   * process (`luciole cabinet credentials`); connections holding such a secret are then closed as
   * by `revokeCabinet`. One pragma per check; the accounts are read only after a change. 0: off.
   */
  credentialPollMs?: number;
}

export interface BrokerStats {
  authFailures: number;
  refusedPublishes: number;
  refusedSubscriptions: number;
  /** Logins refused without a credential check because their address failed too often. */
  rateLimitedLogins: number;
  /** Connections closed for sending more than `preConnectByteCap` before being accepted. */
  preConnectOverflows: number;
  /** TLS handshakes failed, or client certificates refused (mutual TLS). */
  tlsRefused: number;
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
  /**
   * Revokes the account's secret in the CredentialStore, closes its connections and forgets its
   * persisted session (offline subscriptions and queued messages), so nothing queued before the
   * revocation is served after a re-issue. Resolves once done; false when there was no active
   * secret (the connections and session are cleared all the same).
   */
  revokeCabinet(username: string): Promise<boolean>;
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
const DEFAULT_PRE_CONNECT_BYTE_CAP = 64 * 1024;
/** Client ids remembered per account, to clear their sessions on revocation. */
const MAX_CLIENT_IDS_PER_ACCOUNT = 8;
const LOG_INTERVAL_MS = 10_000;
const DEFAULT_CREDENTIAL_POLL_MS = 2_000;

const CHANGE_REASON: Record<CredentialChange, string> = {
  reissued: 'secret re-issued',
  revoked: 'secret revoked',
};

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
  const now = opts.now ?? Date.now;
  const requireCert = opts.tls?.requestCert === true;
  if (requireCert && opts.tls?.ca === undefined) {
    // Without a CA node would accept any certificate from the public roots: anyone could get one.
    throw new LucioleError('LUCIOLE_ERR_CONFIG_INSECURE', 'tls.requestCert needs tls.ca', 'tls.ca');
  }
  const preConnectCap = opts.preConnectByteCap ?? DEFAULT_PRE_CONNECT_BYTE_CAP;
  const loginLimiter = opts.failedLoginLimit === false ? null : new FailedLoginLimiter(opts.failedLoginLimit ?? {});
  const limited = new RateLimitedLog(log, LOG_INTERVAL_MS, now);
  const counters: BrokerStats = {
    authFailures: 0,
    refusedPublishes: 0,
    refusedSubscriptions: 0,
    rateLimitedLogins: 0,
    preConnectOverflows: 0,
    tlsRefused: 0,
  };
  const identities = new WeakMap<Client, Identity>();
  const remoteAddresses = new WeakMap<Client, string>();
  const preConnectReleases = new WeakMap<Client, () => void>();
  /**
   * Revocations per username since start; a client authenticated before the latest one is closed
   * when it becomes ready (it may be between its credential check and CONNACK during a revoke).
   */
  const revocations = new Map<string, number>();
  const authEpoch = new WeakMap<Client, number>();
  /** The credential generation each client's secret belonged to when it was checked. */
  const authGeneration = new WeakMap<Client, number>();
  const clientIdsOf = new Map<string, Set<string>>();
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

  /** A database error here only loses the shortcut: the address stays refused. */
  const cachedAccount = (username: string, secret: string): VerifiedAccount | null => {
    try {
      return opts.credentials.cachedAccount(username, secret);
    } catch (err) {
      log.error({ err, username }, 'credential cache lookup failed');
      return null;
    }
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
      const secret = password.toString('utf8');
      const address = remoteAddresses.get(client) ?? 'unknown';

      const accept = ({ role, generation }: VerifiedAccount): void => {
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
        authEpoch.set(client, revocations.get(username) ?? 0);
        authGeneration.set(client, generation);
        done(null, true);
      };

      // Checked before any scrypt work: refusing a limited address must cost next to nothing.
      let known: VerifiedAccount | null = null;
      if (loginLimiter?.isLimited(address, now())) {
        known = cachedAccount(username, secret);
        if (known === null) {
          counters.rateLimitedLogins++;
          return refuseAuth(client, username, NOT_AUTHORIZED, 'too many failed logins from this address', done);
        }
      }
      const cert = checkClientCertificate(client.conn, username, requireCert);
      if (!cert.ok) {
        loginLimiter?.recordFailure(address, now());
        return refuseAuth(client, username, NOT_AUTHORIZED, cert.reason, done);
      }
      if (known !== null) return accept(known);

      opts.credentials.verifyAccount(username, secret).then(
        (account) => {
          if (account === null) {
            loginLimiter?.recordFailure(address, now());
            return refuseAuth(client, username, BAD_USERNAME_OR_PASSWORD, 'bad username or password', done);
          }
          accept(account);
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
      if (isIllFormedText(packet.topic)) {
        counters.refusedPublishes++;
        return callback(new Error('topic with U+0000 or ill-formed UTF-8'));
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
      if (isIllFormedText(sub.topic)) {
        counters.refusedSubscriptions++;
        return callback(new Error('filter with U+0000 or ill-formed UTF-8'), null);
      }
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
    preConnectReleases.get(client)?.();
    preConnectReleases.delete(client);
    const identity = identities.get(client);
    if (!identity || client.closed) return;
    if ((revocations.get(identity.username) ?? 0) !== authEpoch.get(client)) {
      log.info({ username: identity.username, clientId: client.id }, 'mqtt client revoked while connecting: closed');
      client.close();
      return;
    }
    // A change the watch saw between this client's credential check and now would otherwise go
    // unnoticed: the client was not yet listed when the watch looked. One indexed read per connection.
    let change: CredentialChange | null;
    try {
      change = credentialChange(authGeneration.get(client) ?? -1, opts.credentials.accountState(identity.username));
    } catch (err) {
      log.error({ err, username: identity.username }, 'credential check failed');
      change = 'revoked';
    }
    if (change !== null) {
      log.info({ username: identity.username, clientId: client.id, reason: CHANGE_REASON[change] }, 'mqtt client closed: its secret changed while connecting');
      client.close();
      return;
    }
    let ids = clientIdsOf.get(identity.username);
    if (!ids) clientIdsOf.set(identity.username, (ids = new Set()));
    if (ids.size < MAX_CLIENT_IDS_PER_ACCOUNT) ids.add(client.id);
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
    const client = aedes.handle(socket);
    const remote = socket.remoteAddress ?? 'unknown';
    remoteAddresses.set(client, remote);
    if (preConnectCap > 0) {
      const release = guardPreConnect(socket, preConnectCap, (bytes) => {
        counters.preConnectOverflows++;
        limited.warn('preconnect', { remote, bytes, cap: preConnectCap }, 'mqtt connection closed: too many bytes before CONNECT');
      });
      preConnectReleases.set(client, release);
    }
  };

  let server: net.Server;
  if (opts.tls) {
    const tlsFailure = (remote: string | undefined, code: string | null, message: string): void => {
      counters.tlsRefused++;
      // Keyed by error code (a short fixed list): an expired certificate must not hide a foreign one.
      limited.warn(`tls:${code ?? '?'}`, { remote: remote ?? null, code, err: message }, 'tls handshake failed');
    };
    const tlsServer = tls.createServer({
      cert: opts.tls.cert,
      key: opts.tls.key,
      ...(opts.tls.ca !== undefined ? { ca: opts.tls.ca } : {}),
      requestCert: requireCert,
      // Verified below instead of by OpenSSL: same refusal before any MQTT byte is read, but with
      // its reason (a TLS 1.3 handshake failed by OpenSSL reports only "socket hang up").
      rejectUnauthorized: false,
      // A socket that never finishes its handshake is bounded like one that never sends CONNECT.
      handshakeTimeout: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    });
    tlsServer.on('secureConnection', (socket: tls.TLSSocket) => {
      if (requireCert && !socket.authorized) {
        // node gives the OpenSSL code as a string at runtime, though typed Error.
        const reason: unknown = socket.authorizationError;
        const presented = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
        const code = !presented
          ? 'NO_CLIENT_CERTIFICATE'
          : typeof reason === 'string'
            ? reason
            : reason instanceof Error
              ? ((reason as { code?: string }).code ?? reason.message)
              : 'UNVERIFIED';
        tlsFailure(socket.remoteAddress, code, 'client certificate refused');
        socket.destroy();
        return;
      }
      handle(socket);
    });
    tlsServer.on('tlsClientError', (err, socket) => {
      const code = (err as { code?: unknown }).code;
      tlsFailure(socket.remoteAddress, typeof code === 'string' ? code : null, err.message);
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

  /**
   * Closes `clients` of `username` and, with `purge`, forgets the persisted sessions of the client
   * ids it used, except one held by a live client that `keep` names (another account's, or a
   * client of this account with a current secret).
   */
  const closeAndPurge = async (
    username: string,
    clients: Client[],
    purge: boolean,
    keep: (holder: Client) => boolean,
  ): Promise<number> => {
    await Promise.all(clients.map((client) => new Promise<void>((resolve) => client.close(() => resolve()))));
    if (!purge) return 0;
    // Its will fired on that close: the controller sees it offline. Queued messages are dropped
    // because they were addressed to the revoked holder of the secret (a command issued for it,
    // a receipt of its telemetry) and a re-issued secret means a new holder. Retained messages on
    // its down topics (its policy) are kept: they are served only to a client the ACL lets
    // subscribe there, which takes a current secret of this cabinet, and a replacement gateway
    // needs its policy at once to light its street; deleting it would leave it on fail-safe until
    // the controller republishes.
    const known = clientIdsOf.get(username);
    const ids = new Set([`edge-${username}`, ...(known ?? [])]);
    const internals = aedes as unknown as { persistence: SessionPersistence; clients: Record<string, Client | undefined> };
    let dropped = 0;
    for (const id of ids) {
      const holder = internals.clients[id];
      if (holder && !holder.closed && keep(holder)) continue;
      dropped += await purgeSession(internals.persistence, id, aedes.id);
      known?.delete(id);
    }
    if (known?.size === 0) clientIdsOf.delete(username);
    return dropped;
  };

  /**
   * Closes the connections whose secret was re-issued or revoked since they were checked, by this
   * or another process. A cabinet's session is purged as by `revokeCabinet`; the controller's is
   * kept, since what is queued for it is telemetry the next holder of its secret must still get.
   */
  const closeChanged = async (states: Map<string, AccountState>): Promise<void> => {
    for (const [username, set] of [...byUsername]) {
      const changed: Client[] = [];
      let reason: CredentialChange | null = null;
      for (const client of set) {
        const change = credentialChange(authGeneration.get(client) ?? -1, states.get(username));
        if (change === null) continue;
        changed.push(client);
        reason = change;
      }
      if (reason === null) continue;
      const isCabinet = identities.get(changed[0]!)?.role === 'cabinet';
      const dropped = await closeAndPurge(username, changed, isCabinet, (holder) => !changed.includes(holder));
      log.info(
        { username, reason: CHANGE_REASON[reason], closed: changed.length, droppedQueued: dropped },
        'mqtt account disconnected: its secret changed in the credential store',
      );
    }
  };

  const pollMs = opts.credentialPollMs ?? DEFAULT_CREDENTIAL_POLL_MS;
  const watch =
    pollMs > 0
      ? new CredentialWatch({ credentials: opts.credentials, intervalMs: pollMs, onChange: closeChanged, logger: log })
      : null;
  watch?.start();

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
    async revokeCabinet(username) {
      // Revoked first, so that none of the closed connections can log back in meanwhile.
      const revoked = opts.credentials.revoke(username);
      revocations.set(username, (revocations.get(username) ?? 0) + 1);
      const open = [...(byUsername.get(username) ?? [])];
      // Another account's live session under one of its ids is kept (possible only without client id binding).
      const dropped = await closeAndPurge(username, open, true, (holder) => identities.get(holder)?.username !== username);
      log.info({ username, revoked, closed: open.length, droppedQueued: dropped }, 'mqtt account revoked');
      return revoked;
    },
    stats: () => ({ ...counters }),
    close() {
      closing ??= (async () => {
        await watch?.stop();
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
