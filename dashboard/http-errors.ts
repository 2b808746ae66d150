import type { FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { LucioleError } from '../core/errors.js';
import type { ErrorBody } from './schemas.js';

/** The HTTP status of a LucioleError, from its code alone. */
export function statusOfCode(code: string): number {
  if (code.endsWith('_NOT_FOUND')) return 404;
  if (code === 'LUCIOLE_ERR_UNAUTHORIZED') return 401;
  if (code === 'LUCIOLE_ERR_FORBIDDEN') return 403;
  if (code === 'LUCIOLE_ERR_USER_EXISTS') return 409;
  if (code === 'LUCIOLE_ERR_RATE_LIMITED') return 429;
  if (code === 'LUCIOLE_ERR_POLICY_NONCOMPLIANT') return 422;
  if (code === 'LUCIOLE_ERR_NOT_CONFIGURED') return 501;
  return 400;
}

/** `/profiles/x/schedule/0/level` (the validator's instancePath) → `profiles.x.schedule.0.level`. */
function dottedPath(instancePath: string): string {
  return instancePath.split('/').filter((p) => p !== '').join('.');
}

function clientErrorCode(status: number): string {
  if (status === 413) return 'LUCIOLE_ERR_PAYLOAD_TOO_LARGE';
  if (status === 415) return 'LUCIOLE_ERR_UNSUPPORTED_MEDIA_TYPE';
  if (status === 404) return 'LUCIOLE_ERR_NOT_FOUND';
  return 'LUCIOLE_ERR_BAD_REQUEST';
}

/**
 * One error handler for the whole app: every failure leaves as `{code, message, field?}`,
 * and nothing of a server fault (stack, SQL, paths) reaches the client.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: Error, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const first = err.validation[0];
      const field = first ? dottedPath(first.instancePath) : '';
      const where = field || err.validationContext || 'request';
      const body: ErrorBody = {
        code: 'LUCIOLE_ERR_VALIDATION',
        message: `${where}: ${first?.message ?? 'invalid'}`,
        field,
      };
      return reply.code(400).send(body);
    }
    if (err instanceof LucioleError) {
      const body: ErrorBody = { code: err.code, message: err.message };
      if (err.field !== undefined) body.field = err.field;
      return reply.code(statusOfCode(err.code)).send(body);
    }
    // Fastify's own client errors (bad JSON, body too large, wrong content type) keep their status.
    const statusCode: unknown = 'statusCode' in err ? err.statusCode : undefined;
    const status = typeof statusCode === 'number' ? statusCode : 500;
    if (status >= 400 && status < 500) {
      const body: ErrorBody = { code: clientErrorCode(status), message: err.message };
      return reply.code(status).send(body);
    }
    request.log.error({ err }, 'request failed');
    const body: ErrorBody = { code: 'LUCIOLE_ERR_INTERNAL', message: 'internal error' };
    return reply.code(500).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = { code: 'LUCIOLE_ERR_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` };
    return reply.code(404).send(body);
  });
}
