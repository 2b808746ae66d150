import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ROLES, type AccessCredential, type AccessStore, type AuditEntry, type Role, type UserRecord } from '../controller/stores.js';
import { LucioleError } from '../core/errors.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, burnPasswordCheck, generatePassword, hashPassword, verifyPassword } from './auth-passwords.js';
import { LoginLimiter, type LoginLimiterOptions } from './auth-rate-limit.js';
import { actorOf, newCredentialToken, roleAtLeast, tokenHash, type AccessAuthenticator, type Principal } from './auth.js';
import { errorBodySchema, type ErrorBody } from './schemas.js';

/**
 * Sign-in and sign-out, the caller's own sessions, users and API tokens (admin), the audit log.
 * Bodies are strict (an unknown key is refused: no mass assignment); secrets leave only once,
 * in the answer that creates them, and are never logged.
 */

export interface AccessSettings {
  /** Users, sessions, tokens and the audit log; without it these routes answer 501 (the bootstrap token still works). */
  store?: (AccessStore & { auditLog(limit: number): AuditEntry[] }) | undefined;
  /** Absolute lifetime of a session, ms. Default 12 h. */
  sessionTtlMs?: number;
  /** A session unused this long ends, ms. Default 1 h. */
  sessionIdleMs?: number;
  loginLimits?: LoginLimiterOptions;
}

export interface AuthRoutesOptions extends AccessSettings {
  authenticator: AccessAuthenticator;
  now: () => number;
}

export const DEFAULT_SESSION_TTL_MS = 12 * 3_600_000;
export const DEFAULT_SESSION_IDLE_MS = 3_600_000;
const DAY_MS = 86_400_000;

const roleSchema = z.enum(ROLES);
/** Lower-case, no `:` (so never confused with `token:<id>` in the audit log); `admin` is the bootstrap token's name. */
const usernameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, { message: 'lower-case letters, digits, ".", "_" or "-", 64 at most' })
  .refine((u) => u !== 'admin', { message: '"admin" is the name of the bootstrap token' });
const passwordSchema = z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH);
const labelSchema = z.string().trim().min(1).max(64).regex(/^[\p{L}\p{N} ._-]+$/u, { message: 'letters, digits, spaces, ".", "_" or "-"' });

const loginBodySchema = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(MAX_PASSWORD_LENGTH) });
const userCreateSchema = z.strictObject({ username: usernameSchema, role: roleSchema, password: passwordSchema.optional() });
const userPatchSchema = z
  .strictObject({ role: roleSchema.optional(), password: passwordSchema.optional(), disabled: z.boolean().optional() })
  .refine((p) => Object.keys(p).length > 0, { message: 'give at least one field' });
const tokenCreateSchema = z.strictObject({ label: labelSchema, role: roleSchema, expiresInDays: z.number().int().min(1).max(365).default(90) });
const usernameParamsSchema = z.object({ username: z.string().min(1).max(64) });
const credentialParamsSchema = z.object({ id: z.string().regex(/^(ses|tok)_[A-Za-z0-9_-]{1,32}$/) });
const auditQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

const userViewSchema = z.object({
  username: z.string(),
  role: roleSchema,
  createdAt: z.number(),
  createdBy: z.string(),
  updatedAt: z.number(),
  disabled: z.boolean(),
}) satisfies z.ZodType<UserRecord>;
const credentialViewSchema = z.object({
  id: z.string(),
  kind: z.enum(['session', 'token']),
  username: z.string().nullable(),
  label: z.string(),
  role: roleSchema,
  createdAt: z.number(),
  createdBy: z.string(),
  expiresAt: z.number(),
  idleTimeoutMs: z.number().nullable(),
  revokedAt: z.number().nullable(),
}) satisfies z.ZodType<AccessCredential>;
const sessionViewSchema = credentialViewSchema.extend({ current: z.boolean(), lastUsedAt: z.number().nullable() });
const sessionCreatedSchema = z.object({
  /** The bearer token: shown this once, stored only as its sha256. */
  token: z.string(),
  id: z.string(),
  username: z.string(),
  role: roleSchema,
  expiresAt: z.number(),
  idleTimeoutS: z.number(),
});
const meSchema = z.object({
  name: z.string(),
  role: roleSchema,
  kind: z.enum(['bootstrap', 'session', 'token']),
  username: z.string().nullable(),
  expiresAt: z.number().nullable(),
});
const userCreatedSchema = z.object({ user: userViewSchema, password: z.string().optional() });
const tokenCreatedSchema = z.object({ token: z.string(), credential: credentialViewSchema });
const auditEntrySchema = z.object({ id: z.number(), at: z.number(), actor: z.string(), action: z.string(), target: z.string(), detail: z.string() });

const denied = { 401: errorBodySchema, 403: errorBodySchema } as const;
const invalid = { 400: errorBodySchema } as const;
const missing = { 404: errorBodySchema } as const;
const notConfigured = { 501: errorBodySchema } as const;

export function registerAuthRoutes(app: FastifyInstance, opts: AuthRoutesOptions): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { authenticator, now } = opts;
  const ttlMs = opts.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  const idleMs = opts.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
  const limiter = new LoginLimiter(opts.loginLimits);

  const store = () => {
    if (!opts.store) throw new LucioleError('LUCIOLE_ERR_NOT_CONFIGURED', 'this server keeps no users (no access store)');
    return opts.store;
  };
  const principalOf = (p: Principal | null): Principal => {
    if (!p) throw new LucioleError('LUCIOLE_ERR_UNAUTHORIZED', 'a valid bearer token is required');
    return p;
  };
  // Nobody grants more than they hold, whatever a route's own role requirement is.
  const mayGrant = (p: Principal, role: Role): void => {
    if (!roleAtLeast(p.role, role)) throw new LucioleError('LUCIOLE_ERR_FORBIDDEN', `you cannot grant "${role}", above your own role "${p.role}"`, 'role');
  };
  const fail = (reply: FastifyReply, status: number, body: ErrorBody) => reply.code(status).send(body);
  const notConfiguredGuard = async (_request: unknown, reply: FastifyReply): Promise<void> => {
    if (opts.store) return;
    await reply.code(501).send({ code: 'LUCIOLE_ERR_NOT_CONFIGURED', message: 'this server keeps no users (no access store)' });
  };

  // ---------------- sessions ----------------

  api.post(
    '/api/session',
    {
      config: { public: true },
      preHandler: notConfiguredGuard,
      schema: {
        summary: 'Signs in with a username and password: a session token (12 h at most, ended sooner when idle)',
        security: [],
        body: loginBodySchema,
        response: { 201: sessionCreatedSchema, ...invalid, 401: errorBodySchema, 429: errorBodySchema, ...notConfigured },
      },
    },
    async (request, reply) => {
      const username = request.body.username.toLowerCase();
      const address = request.ip;
      const at = now();
      const wait = limiter.attempt(username, address, at);
      if (wait > 0) {
        request.log.warn({ address }, 'sign-in refused: too many failures');
        return reply
          .code(429)
          .header('Retry-After', String(Math.ceil(wait / 1000)))
          .send({ code: 'LUCIOLE_ERR_RATE_LIMITED', message: 'too many failed sign-ins: try again later' });
      }
      const user = store().user(username);
      const ok = user && !user.disabled ? await verifyPassword(request.body.password, user.passwordHash) : await burnPasswordCheck(request.body.password);
      if (!ok || !user) {
        // The name typed is logged only when it is a real account: a password typed in the name field must not reach the log.
        request.log.warn({ ...(user ? { username } : {}), address }, 'sign-in failed');
        return fail(reply, 401, { code: 'LUCIOLE_ERR_BAD_CREDENTIALS', message: 'wrong username or password' });
      }
      limiter.succeeded(username, address);
      const { id, token } = newCredentialToken('session');
      const credential = store().addCredential(
        {
          id,
          tokenHash: tokenHash(token),
          kind: 'session',
          username,
          label: 'session',
          role: user.role,
          createdAt: at,
          createdBy: username,
          expiresAt: at + ttlMs,
          idleTimeoutMs: idleMs,
          revokedAt: null,
        },
        username,
      );
      request.log.info({ username, session: id }, 'signed in');
      return reply.code(201).send({ token, id, username, role: credential.role, expiresAt: credential.expiresAt, idleTimeoutS: Math.round(idleMs / 1000) });
    },
  );

  api.get(
    '/api/session/me',
    { config: { minRole: 'viewer' }, schema: { summary: 'Who the token belongs to and its role (the UI hides what the role cannot do)', response: { 200: meSchema, ...denied } } },
    async (request) => {
      const p = principalOf(request.principal);
      return { name: p.name, role: p.role, kind: p.kind, username: p.username, expiresAt: p.expiresAt };
    },
  );

  api.delete(
    '/api/session',
    {
      config: { minRole: 'viewer' },
      preHandler: notConfiguredGuard,
      schema: { summary: 'Signs out: revokes the session whose token is sent', response: { 204: z.null(), ...invalid, ...denied, ...notConfigured } },
    },
    async (request, reply) => {
      const p = principalOf(request.principal);
      if (p.kind !== 'session' || p.credentialId === null) {
        throw new LucioleError('LUCIOLE_ERR_NOT_A_SESSION', 'this token is not a session: API tokens are revoked with DELETE /api/tokens/:id');
      }
      store().revokeCredential(p.credentialId, actorOf(p));
      authenticator.forget(p.credentialId);
      return reply.code(204).send(null);
    },
  );

  api.get(
    '/api/sessions',
    {
      config: { minRole: 'viewer' },
      preHandler: notConfiguredGuard,
      schema: { summary: "Active sessions: the caller's own (every user's for an admin)", response: { 200: z.array(sessionViewSchema), ...denied, ...notConfigured } },
    },
    async (request) => {
      const p = principalOf(request.principal);
      const all = store().credentials({ kind: 'session', activeAt: now() });
      const visible = p.role === 'admin' ? all : all.filter((c) => p.username !== null && c.username === p.username);
      return visible.map((c) => ({ ...c, current: c.id === p.credentialId, lastUsedAt: authenticator.lastUsedAt(c.id) ?? null }));
    },
  );

  api.delete(
    '/api/sessions/:id',
    {
      config: { minRole: 'viewer' },
      preHandler: notConfiguredGuard,
      schema: {
        summary: "Ends a session: one's own, or anyone's for an admin",
        params: credentialParamsSchema,
        response: { 204: z.null(), ...invalid, ...denied, ...missing, ...notConfigured },
      },
    },
    async (request, reply) => {
      const p = principalOf(request.principal);
      const c = store().credential(request.params.id);
      // Another user's session answers as if absent: ids are not to be probed.
      const mine = c !== undefined && p.username !== null && c.username === p.username;
      if (!c || c.kind !== 'session' || (!mine && p.role !== 'admin') || !store().revokeCredential(c.id, actorOf(p))) {
        throw new LucioleError('LUCIOLE_ERR_SESSION_NOT_FOUND', `no active session "${request.params.id}" of yours`, 'id');
      }
      authenticator.forget(c.id);
      return reply.code(204).send(null);
    },
  );

  // ---------------- users ----------------

  api.get(
    '/api/users',
    { config: { minRole: 'admin' }, preHandler: notConfiguredGuard, schema: { summary: 'Users and their roles', response: { 200: z.array(userViewSchema), ...denied, ...notConfigured } } },
    async () => store().users(),
  );

  api.post(
    '/api/users',
    {
      config: { minRole: 'admin' },
      preHandler: notConfiguredGuard,
      schema: {
        summary: 'Creates a user; without a password, one is generated and returned this once',
        body: userCreateSchema,
        response: { 201: userCreatedSchema, ...invalid, ...denied, ...notConfigured },
      },
    },
    async (request, reply) => {
      const p = principalOf(request.principal);
      mayGrant(p, request.body.role);
      const generated = request.body.password === undefined ? generatePassword() : undefined;
      const passwordHash = await hashPassword(request.body.password ?? generated!);
      const user = store().createUser({ username: request.body.username, role: request.body.role, passwordHash }, actorOf(p));
      return reply.code(201).send({ user, ...(generated !== undefined ? { password: generated } : {}) });
    },
  );

  api.patch(
    '/api/users/:username',
    {
      config: { minRole: 'admin' },
      preHandler: notConfiguredGuard,
      schema: {
        summary: "Changes a user's role, password or disabled state (a new password or disabling ends their sessions)",
        params: usernameParamsSchema,
        body: userPatchSchema,
        response: { 200: userViewSchema, ...invalid, ...denied, ...missing, ...notConfigured },
      },
    },
    async (request) => {
      const p = principalOf(request.principal);
      const { role, password, disabled } = request.body;
      if (role !== undefined) mayGrant(p, role);
      const target = store().user(request.params.username);
      if (!target) throw new LucioleError('LUCIOLE_ERR_USER_NOT_FOUND', `no user "${request.params.username}"`, 'username');
      mayGrant(p, target.role);
      const passwordHash = password === undefined ? undefined : await hashPassword(password);
      return store().updateUser(
        request.params.username,
        { ...(role !== undefined ? { role } : {}), ...(passwordHash !== undefined ? { passwordHash } : {}), ...(disabled !== undefined ? { disabled } : {}) },
        actorOf(p),
      );
    },
  );

  api.delete(
    '/api/users/:username',
    {
      config: { minRole: 'admin' },
      preHandler: notConfiguredGuard,
      schema: {
        summary: 'Deletes a user and revokes their sessions and the API tokens they issued',
        params: usernameParamsSchema,
        response: { 204: z.null(), ...invalid, ...denied, ...missing, ...notConfigured },
      },
    },
    async (request, reply) => {
      const p = principalOf(request.principal);
      const target = store().user(request.params.username);
      if (target) mayGrant(p, target.role);
      if (!target || !store().deleteUser(request.params.username, actorOf(p))) {
        throw new LucioleError('LUCIOLE_ERR_USER_NOT_FOUND', `no user "${request.params.username}"`, 'username');
      }
      return reply.code(204).send(null);
    },
  );

  // ---------------- API tokens ----------------

  api.get(
    '/api/tokens',
    { config: { minRole: 'admin' }, preHandler: notConfiguredGuard, schema: { summary: 'API tokens (never the tokens themselves)', response: { 200: z.array(credentialViewSchema), ...denied, ...notConfigured } } },
    async () => store().credentials({ kind: 'token' }),
  );

  api.post(
    '/api/tokens',
    {
      config: { minRole: 'admin' },
      preHandler: notConfiguredGuard,
      schema: {
        summary: 'Issues an API token for automation, bound to a role, expiring (90 days unless said); returned this once',
        body: tokenCreateSchema,
        response: { 201: tokenCreatedSchema, ...invalid, ...denied, ...notConfigured },
      },
    },
    async (request, reply) => {
      const p = principalOf(request.principal);
      mayGrant(p, request.body.role);
      const at = now();
      const { id, token } = newCredentialToken('token');
      const credential = store().addCredential(
        {
          id,
          tokenHash: tokenHash(token),
          kind: 'token',
          username: p.username,
          label: request.body.label,
          role: request.body.role,
          createdAt: at,
          createdBy: actorOf(p),
          expiresAt: at + request.body.expiresInDays * DAY_MS,
          idleTimeoutMs: null,
          revokedAt: null,
        },
        actorOf(p),
      );
      return reply.code(201).send({ token, credential });
    },
  );

  api.delete(
    '/api/tokens/:id',
    {
      config: { minRole: 'admin' },
      preHandler: notConfiguredGuard,
      schema: { summary: 'Revokes an API token', params: credentialParamsSchema, response: { 204: z.null(), ...invalid, ...denied, ...missing, ...notConfigured } },
    },
    async (request, reply) => {
      const p = principalOf(request.principal);
      const c = store().credential(request.params.id);
      if (!c || c.kind !== 'token' || !store().revokeCredential(c.id, actorOf(p))) {
        throw new LucioleError('LUCIOLE_ERR_TOKEN_NOT_FOUND', `no active API token "${request.params.id}"`, 'id');
      }
      return reply.code(204).send(null);
    },
  );

  // ---------------- audit ----------------

  api.get(
    '/api/audit',
    {
      config: { minRole: 'admin' },
      preHandler: notConfiguredGuard,
      schema: { summary: 'The audit log, newest first: who changed what, when', querystring: auditQuerySchema, response: { 200: z.array(auditEntrySchema), ...invalid, ...denied, ...notConfigured } },
    },
    async (request) => store().auditLog(request.query.limit),
  );
}
