import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ControllerApi } from '../controller/api.js';
import { planVersionSchema } from '../controller/plan.js';
import {
  cabinetViewSchema,
  energySummarySchema,
  ingestStatsSchema,
  lampViewSchema,
} from '../controller/views.js';
import { LucioleError } from '../core/errors.js';
import type { Principal } from './auth.js';
import {
  cabinetParamsSchema,
  credentialsSchema,
  energyQuerySchema,
  errorBodySchema,
  healthSchema,
  openApiDocumentSchema,
  townSchema,
} from './schemas.js';

export interface ApiRoutesOptions {
  controller: ControllerApi;
  version: string;
}

// Documented on every protected route; the handler itself never sends them, auth and the error handler do.
const denied = { 401: errorBodySchema } as const;
const invalid = { 400: errorBodySchema } as const;
const missing = { 404: errorBodySchema } as const;

/** The JSON API. Each handler is one call into ControllerApi; auth and errors live elsewhere. */
export function registerApiRoutes(app: FastifyInstance, opts: ApiRoutesOptions): void {
  const { controller } = opts;
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/api/health',
    { config: { public: true }, schema: { summary: 'Liveness, controller clock and version (no auth)', security: [], response: { 200: healthSchema } } },
    async () => ({ status: 'ok' as const, time: controller.clock.now(), version: opts.version }),
  );

  api.get('/api/openapi.json', { config: { minRole: 'viewer' }, schema: { summary: 'This document', response: { 200: openApiDocumentSchema, ...denied } } }, async () =>
    openApiDocumentSchema.parse(app.swagger()),
  );

  api.get('/api/town', { config: { minRole: 'viewer' }, schema: { summary: 'Town name and site', response: { 200: townSchema, ...denied } } }, async () =>
    controller.town(),
  );

  api.get(
    '/api/cabinets',
    { config: { minRole: 'viewer' }, schema: { summary: 'All cabinets', response: { 200: z.array(cabinetViewSchema), ...denied } } },
    async () => controller.listCabinets(),
  );

  api.get(
    '/api/cabinets/:id',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'One cabinet',
        params: cabinetParamsSchema,
        response: { 200: cabinetViewSchema, ...invalid, ...denied, ...missing },
      },
    },
    async (request) => {
      const cabinet = controller.getCabinet(request.params.id);
      if (!cabinet) throw cabinetNotFound(request.params.id);
      return cabinet;
    },
  );

  api.post(
    '/api/cabinets/:id/credentials',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: "Issues a new MQTT secret for a cabinet, revoking the old one",
        params: cabinetParamsSchema,
        response: { 200: credentialsSchema, ...invalid, ...denied, ...missing },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!controller.getCabinet(id)) throw cabinetNotFound(id);
      const by = actor(request.principal);
      const credentials = controller.issueCabinetCredentials(id, by);
      // The secret itself is never logged; who asked for it is.
      request.log.info({ cabinetId: id, by }, 'cabinet credentials issued');
      return reply.header('Cache-Control', 'no-store').send(credentials);
    },
  );

  api.get('/api/lamps', { config: { minRole: 'viewer' }, schema: { summary: 'All lamps with their latest reading', response: { 200: z.array(lampViewSchema), ...denied } } }, async () =>
    controller.listLamps(),
  );

  api.get(
    '/api/energy',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Energy per night against the full-power baseline, tonight included',
        querystring: energyQuerySchema,
        response: { 200: energySummarySchema, ...invalid, ...denied },
      },
    },
    async (request) => controller.energy(request.query.nights),
  );

  // GET /api/alerts (with filters) and the maintenance board's routes are in routes-alerts.ts.

  api.get('/api/stats', { config: { minRole: 'viewer' }, schema: { summary: 'Ingest counters', response: { 200: ingestStatsSchema, ...denied } } }, async () =>
    controller.stats(),
  );

  api.get(
    '/api/plan',
    { config: { minRole: 'viewer' }, schema: { summary: 'The current lighting plan', response: { 200: planVersionSchema, ...denied, ...missing } } },
    async () => {
      const plan = controller.currentPlan();
      if (!plan) throw new LucioleError('LUCIOLE_ERR_PLAN_NOT_FOUND', 'no plan has been published yet');
      return plan;
    },
  );

  // PUT /api/plan and GET /api/plan/versions (compliance checks, diffs) are in routes-policies.ts.
}

/** The author recorded in the audit trail: the authenticated principal (the admin, for now). */
function actor(principal: Principal | null): string {
  return principal?.name ?? 'admin';
}

function cabinetNotFound(id: string): LucioleError {
  return new LucioleError('LUCIOLE_ERR_CABINET_NOT_FOUND', `no cabinet "${id}"`, 'id');
}
