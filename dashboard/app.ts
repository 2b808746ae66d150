import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { ControllerApi } from '../controller/api.js';
import type { Logger } from '../core/log.js';
import { registerApiRoutes } from './api-routes.js';
import { registerPolicyRoutes } from './routes-policies.js';
import { registerPoliciesPage } from './routes-policies-page.js';
import { registerIntegrationRoutes } from './routes-integrations.js';
import { registerReportRoutes } from './routes-reports.js';
import { registerAlertRoutes } from './routes-alerts.js';
import { AccessAuthenticator, installAuth } from './auth.js';
import { registerAuthRoutes, type AccessSettings } from './routes-auth.js';
import { strictBodyValidatorCompiler } from './strict-bodies.js';
import { requestLogSerializer } from './request-log.js';
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
  /** Users, sessions and API tokens (the config store), session lifetimes, sign-in limits. Without a store: the admin token only. */
  access?: AccessSettings;
}

export const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Builds the dashboard's HTTP app: JSON API, live stream, OpenAPI document and web UI.
 * Nothing listens here: tests call `app.inject()`, the CLI calls `app.listen()`, and
 * `app.close()` ends open live streams too.
 */
export async function buildApp(opts: BuildAppOptions): Promise<FastifyInstance> {
  const now = (): number => opts.controller.clock.now();
  const authenticator = new AccessAuthenticator({ adminToken: opts.adminToken, store: opts.access?.store, now });
  const version = opts.version ?? (await packageVersion());

  // Typed as fastify's logger so the instance is the plain FastifyInstance callers expect.
  // Request lines go through our serializer: credentials a client put in a query string are not logged.
  const loggerInstance: FastifyBaseLogger | undefined = opts.logger
    ? opts.logger.child({}, { serializers: { req: requestLogSerializer } })
    : undefined;
  const serverOptions = {
    bodyLimit: BODY_LIMIT_BYTES,
    // close() ends the live streams first (preClose), then drops every socket: browsers keep
    // spare connections open that would otherwise hold close() for their keep-alive timeout.
    forceCloseConnections: true,
  };
  const app: FastifyInstance = loggerInstance
    ? Fastify({ ...serverOptions, loggerInstance })
    : Fastify({ ...serverOptions, logger: false });
  // Unknown keys in a body are refused on every route (no mass assignment), whatever its schema says.
  app.setValidatorCompiler(strictBodyValidatorCompiler(validatorCompiler));
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
  registerAuthRoutes(app, { ...opts.access, authenticator, now });
  registerPolicyRoutes(app, { controller: opts.controller });
  registerAlertRoutes(app, { controller: opts.controller });
  registerIntegrationRoutes(app, opts);
  registerReportRoutes(app, opts);
  registerLiveStream(app, { controller: opts.controller, heartbeatMs: opts.heartbeatMs ?? 15_000, log: app.log });
  registerStaticUi(app);
  registerPoliciesPage(app);

  await app.ready();
  return app;
}
