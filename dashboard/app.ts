import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { ControllerApi } from '../controller/api.js';
import type { Logger } from '../core/log.js';
import { registerApiRoutes } from './api-routes.js';
import { registerPolicyRoutes } from './routes-policies.js';
import { registerPoliciesPage } from './routes-policies-page.js';
import { registerIntegrationRoutes } from './routes-integrations.js';
import { bearerAuthenticator, installAuth } from './auth.js';
import { installErrorHandling } from './http-errors.js';
import { installSecurityHeaders } from './security-headers.js';
import { registerLiveStream } from './sse.js';
import { registerStaticUi } from './static-ui.js';
import { packageVersion } from './version.js';

export interface BuildAppOptions {
  controller: ControllerApi;
  /** Bearer token of the admin; at least 16 characters. */
  adminToken: string;
  /** pino logger for requests; false or absent: no logging. */
  logger?: Logger | false;
  /** Real-time period of the SSE heartbeat comment; 15 s unless a test wants it sooner. */
  heartbeatMs?: number;
  /** Reported by /api/health; read from package.json when absent. */
  version?: string;
}

export const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Builds the dashboard's HTTP app: JSON API, live stream, OpenAPI document and web UI.
 * Nothing listens here: tests call `app.inject()`, the CLI calls `app.listen()`, and
 * `app.close()` ends open live streams too.
 */
export async function buildApp(opts: BuildAppOptions): Promise<FastifyInstance> {
  const authenticator = bearerAuthenticator(opts.adminToken);
  const version = opts.version ?? (await packageVersion());

  // Typed as fastify's logger so the instance is the plain FastifyInstance callers expect.
  const loggerInstance: FastifyBaseLogger | undefined = opts.logger || undefined;
  const serverOptions = {
    bodyLimit: BODY_LIMIT_BYTES,
    // close() ends the live streams first (preClose), then drops every socket: browsers keep
    // spare connections open that would otherwise hold close() for their keep-alive timeout.
    forceCloseConnections: true,
  };
  const app: FastifyInstance = loggerInstance
    ? Fastify({ ...serverOptions, loggerInstance })
    : Fastify({ ...serverOptions, logger: false });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  installSecurityHeaders(app);
  installErrorHandling(app);
  installAuth(app, authenticator);

  // Registered before the routes: it learns them through its onRoute hook.
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Luciole API',
        description: 'Street-lighting control: cabinets, lamps, energy, alerts, lighting plans, live events.',
        version,
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearerAuth: [] }],
    },
    transform: jsonSchemaTransform,
  });

  registerApiRoutes(app, { controller: opts.controller, version });
  registerPolicyRoutes(app, { controller: opts.controller });
  registerIntegrationRoutes(app, opts);
  registerLiveStream(app, { controller: opts.controller, heartbeatMs: opts.heartbeatMs ?? 15_000, log: app.log });
  registerStaticUi(app);
  registerPoliciesPage(app);

  await app.ready();
  return app;
}
