import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { LucioleError } from '../core/errors.js';
import type { ErrorBody } from './schemas.js';

/**
 * Who may call the API. One admin bearer token for now; roles will hang off the `Principal`
 * this returns, so route code asks `authenticate` and never reads the header itself.
 */
export interface Principal {
  name: string;
}

/**
 * The roles of the API, least to most powerful: elected officials read reports (`viewer`),
 * crews handle alerts (`maintenance`), technical services write policies and overrides
 * (`technician`), `admin` manages inventory, credentials and users.
 */
export const ROLES = ['viewer', 'maintenance', 'technician', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const MIN_TOKEN_LENGTH = 16;

export interface Authenticator {
  /** The caller, or null when the Authorization header is missing or wrong. */
  authenticate(authorizationHeader: string | undefined): Principal | null;
}

// Hashing first gives equal-length buffers whatever was sent, so neither the comparison
// time nor an early length check tells an attacker anything about the token.
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function bearerAuthenticator(adminToken: string): Authenticator {
  if (adminToken.length < MIN_TOKEN_LENGTH) {
    throw new LucioleError(
      'LUCIOLE_ERR_CONFIG_INSECURE',
      `the admin token must be at least ${MIN_TOKEN_LENGTH} characters`,
      'adminToken',
    );
  }
  const expected = digest(adminToken);
  return {
    authenticate(header) {
      if (typeof header !== 'string') return null;
      const match = /^Bearer ([^\s]+)\s*$/i.exec(header);
      const presented = match?.[1];
      if (presented === undefined) return null;
      return timingSafeEqual(digest(presented), expected) ? { name: 'admin' } : null;
    },
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without authentication (health, the UI's static files). Every other route, 404s included, needs a token. */
    public?: boolean;
    /** The least role a route needs. Routes that do not say need `admin` (deny by default). */
    minRole?: Role;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * Default deny: a route is open only if it says `config: { public: true }`. Deciding by the
 * matched route rather than by the URL string leaves no encoding trick to slip past the check.
 */
export function installAuth(app: FastifyInstance, authenticator: Authenticator): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public === true) return;
    const principal = authenticator.authenticate(request.headers.authorization);
    if (!principal) {
      const body: ErrorBody = { code: 'LUCIOLE_ERR_UNAUTHORIZED', message: 'a valid bearer token is required' };
      return reply.code(401).header('WWW-Authenticate', 'Bearer realm="luciole"').send(body);
    }
    request.principal = principal;
  });
}
