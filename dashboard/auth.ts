import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ROLES, type AccessKind, type AccessStore, type Role } from '../controller/stores.js';
import { LucioleError } from '../core/errors.js';
import { errorBodySchema, type ErrorBody } from './schemas.js';

export { ROLES, type Role };

/**
 * Who calls the API, and with what right. Three kinds of bearer token:
 * - the bootstrap admin token (LUCIOLE_ADMIN_TOKEN, the operator contract): role admin;
 * - a session token (`lus_…`), from a sign-in with username and password;
 * - an API token (`lut_…`), issued by an admin for automation, bound to a role.
 * Sessions and API tokens are stored only as their sha256; they expire, and can be revoked.
 */
export interface Principal {
  /** The author written to the audit log: `admin` (bootstrap token), a username, or `token:<id>`. */
  name: string;
  role: Role;
  kind: 'bootstrap' | AccessKind;
  /** The user behind a session, or the user who issued an API token; null for the bootstrap token. */
  username: string | null;
  /** The session's or token's public id; null for the bootstrap token. */
  credentialId: string | null;
  expiresAt: number | null;
}

export const MIN_TOKEN_LENGTH = 16;
export const SESSION_TOKEN_PREFIX = 'lus_';
export const API_TOKEN_PREFIX = 'lut_';

const RANK: Readonly<Record<Role, number>> = Object.fromEntries(ROLES.map((r, i) => [r, i])) as Record<Role, number>;

export function roleAtLeast(role: Role, min: Role): boolean {
  return RANK[role] >= RANK[min];
}

export function lowerRole(a: Role, b: Role): Role {
  return RANK[a] <= RANK[b] ? a : b;
}

export interface Authenticator {
  /** The caller, or null when the Authorization header is missing, wrong, expired or revoked. */
  authenticate(authorizationHeader: string | undefined): Principal | null;
}

/** Hex sha256 of a token: what the store keeps and looks up. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A fresh bearer token (256 random bits) and the public id it is listed under. */
export function newCredentialToken(kind: AccessKind): { id: string; token: string } {
  const prefix = kind === 'session' ? SESSION_TOKEN_PREFIX : API_TOKEN_PREFIX;
  const idPrefix = kind === 'session' ? 'ses_' : 'tok_';
  return { id: idPrefix + randomBytes(9).toString('base64url'), token: prefix + randomBytes(32).toString('base64url') };
}

export function bearerToken(header: string | undefined): string | null {
  if (typeof header !== 'string') return null;
  return /^Bearer ([^\s]+)\s*$/i.exec(header)?.[1] ?? null;
}

export interface AccessAuthenticatorOptions {
  adminToken: string;
  /** Users, sessions and API tokens; without it only the bootstrap admin token is accepted. */
  store?: AccessStore;
  now: () => number;
}

/**
 * Checks bearer tokens. Idle time of sessions is tracked in memory, not written on every
 * request (a read must change nothing in the database): after a restart, a session's idle
 * time counts from its creation, which can only end it sooner.
 */
export class AccessAuthenticator implements Authenticator {
  private readonly adminDigest: Buffer;
  private readonly lastUsed = new Map<string, number>();

  constructor(private readonly opts: AccessAuthenticatorOptions) {
    if (opts.adminToken.length < MIN_TOKEN_LENGTH) {
      throw new LucioleError(
        'LUCIOLE_ERR_CONFIG_INSECURE',
        `the admin token must be at least ${MIN_TOKEN_LENGTH} characters`,
        'adminToken',
      );
    }
    this.adminDigest = digest(opts.adminToken);
  }

  authenticate(header: string | undefined): Principal | null {
    const presented = bearerToken(header);
    if (presented === null) return null;
    // Hashing first gives equal-length buffers whatever was sent: the comparison time tells nothing.
    if (timingSafeEqual(digest(presented), this.adminDigest)) {
      return { name: 'admin', role: 'admin', kind: 'bootstrap', username: null, credentialId: null, expiresAt: null };
    }
    const store = this.opts.store;
    if (!store || !(presented.startsWith(SESSION_TOKEN_PREFIX) || presented.startsWith(API_TOKEN_PREFIX))) return null;
    const c = store.credentialByTokenHash(tokenHash(presented));
    const now = this.opts.now();
    if (!c || c.revokedAt !== null || now >= c.expiresAt) return null;
    if (c.idleTimeoutMs !== null) {
      const last = this.lastUsed.get(c.id) ?? c.createdAt;
      if (now - last > c.idleTimeoutMs) {
        this.lastUsed.delete(c.id);
        return null;
      }
      this.remember(c.id, now, c.idleTimeoutMs);
    }
    let role = c.role;
    if (c.username !== null) {
      // The user's current state decides: deleted or disabled ends it, a demotion applies at once.
      const user = store.user(c.username);
      if (!user || user.disabled) return null;
      role = lowerRole(role, user.role);
    }
    return {
      name: c.kind === 'session' && c.username !== null ? c.username : `token:${c.id}`,
      role,
      kind: c.kind,
      username: c.username,
      credentialId: c.id,
      expiresAt: c.expiresAt,
    };
  }

  /** Last use of a session seen by this process, if any. */
  lastUsedAt(credentialId: string): number | undefined {
    return this.lastUsed.get(credentialId);
  }

  forget(credentialId: string): void {
    this.lastUsed.delete(credentialId);
  }

  private remember(id: string, now: number, idleMs: number): void {
    this.lastUsed.delete(id);
    this.lastUsed.set(id, now);
    // Bounded: entries idle longer than their limit are worthless; insertion order is use order.
    if (this.lastUsed.size > 10_000) {
      for (const [k, t] of this.lastUsed) {
        if (now - t <= idleMs || this.lastUsed.size <= 10_000) break;
        this.lastUsed.delete(k);
      }
    }
  }
}

/** The bootstrap admin token alone (kept for callers of the first API). */
export function bearerAuthenticator(adminToken: string): Authenticator {
  return new AccessAuthenticator({ adminToken, now: Date.now });
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without authentication (health, sign-in, the UI's static files). Every other route, 404s included, needs a token. */
    public?: boolean;
    /** The least role a route needs. Routes that do not say need `admin` (deny by default). */
    minRole?: Role;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The role a route needs: what it declares, `admin` when it declares nothing. */
export function requiredRole(config: { public?: boolean; minRole?: Role } | undefined): Role | 'public' {
  if (config?.public === true) return 'public';
  return config?.minRole ?? 'admin';
}

/**
 * Default deny, decided by the matched route (its `config`), never by the URL string, so no
 * encoding trick slips past it: `public: true` is open, any other route needs a token whose
 * role is at least the route's `minRole` (admin when unsaid). A URL matching no route answers
 * 404 to any authenticated caller and 401 to others. Every route's role is written into the
 * OpenAPI document as `x-min-role`, with the 403 answer.
 */
export function installAuth(app: FastifyInstance, authenticator: Authenticator): void {
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    const role = requiredRole(route.config);
    if (role === 'public') return;
    const schema = (route.schema ?? {}) as Record<string, unknown>;
    const response = (schema.response ?? {}) as Record<string, unknown>;
    // `x-` keys are copied into the OpenAPI operation by @fastify/swagger.
    const withRole: Record<string, unknown> = {
      ...schema,
      'x-min-role': role,
      ...(schema.response !== undefined ? { response: { ...response, 403: errorBodySchema } } : {}),
    };
    route.schema = withRole;
  });

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    if (config.public === true) return;
    const principal = authenticator.authenticate(request.headers.authorization);
    if (!principal) {
      const body: ErrorBody = { code: 'LUCIOLE_ERR_UNAUTHORIZED', message: 'a valid bearer token is required' };
      return reply.code(401).header('WWW-Authenticate', 'Bearer realm="luciole"').send(body);
    }
    request.principal = principal;
    if (request.is404) return;
    const min = requiredRole(config);
    if (min !== 'public' && !roleAtLeast(principal.role, min)) {
      const body: ErrorBody = {
        code: 'LUCIOLE_ERR_FORBIDDEN',
        message: `this needs the role "${min}" or above; yours is "${principal.role}"`,
      };
      return reply.code(403).send(body);
    }
  });
}

/** The author recorded in the audit trail. */
export function actorOf(principal: Principal | null): string {
  return principal?.name ?? 'admin';
}
