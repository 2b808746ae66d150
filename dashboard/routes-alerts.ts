import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ControllerApi } from '../controller/api.js';
import { workOrderHtml } from '../controller/alerts/work-order.js';
import { alertFilterSchema, alertViewSchema, lampHistoryViewSchema } from '../controller/views.js';
import { LucioleError } from '../core/errors.js';
import { idSchema } from '../protocol/index.js';
import type { Principal } from './auth.js';
import { errorBodySchema, type ErrorBody } from './schemas.js';

/**
 * The maintenance board's API: alerts filtered, one alert with its evidence and history,
 * acknowledge and resolve (with who and a note), a lamp's history (the evidence link), and a
 * printable work order. Reads need `viewer`, acting on an alert `maintenance`.
 */

export interface AlertRoutesOptions {
  controller: ControllerApi;
}

const denied = { 401: errorBodySchema } as const;
const invalid = { 400: errorBodySchema } as const;
const missing = { 404: errorBodySchema } as const;
const notConfigured = { 501: errorBodySchema } as const;

const DAY_MS = 86_400_000;
const boardPage = new URL('./ui/maintenance.html', import.meta.url);

const idParamsSchema = z.object({ id: idSchema });
const alertQuerySchema = alertFilterSchema.extend({
  since: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().positive().max(10_000).optional(),
});
/** Who did it, when the token is shared by a crew: recorded as « name (account) ». */
const byField = z.string().trim().min(1).max(64).optional();
const acknowledgeBodySchema = z.object({ by: byField }).optional();
const resolveBodySchema = z.object({
  /** What was done: required, so the history says why the alert was closed. */
  note: z.string().trim().min(1, { message: 'a note is required' }).max(1024),
  by: byField,
});
const historyQuerySchema = z.object({
  /** Default: 7 days before `to`. */
  from: z.coerce.number().int().nonnegative().optional(),
  /** Default: now (controller clock). */
  to: z.coerce.number().int().positive().optional(),
  maxPoints: z.coerce.number().int().min(10).max(20_000).optional(),
});

export function registerAlertRoutes(app: FastifyInstance, opts: AlertRoutesOptions): void {
  const { controller } = opts;
  const api = app.withTypeProvider<ZodTypeProvider>();

  // The board at a URL crews can type. Public like every UI file: the page holds no data, and
  // its API calls carry the token and meet the routes' roles; minRole names its audience.
  app.get('/maintenance', { config: { public: true, minRole: 'maintenance' }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-cache').send(await readFile(boardPage)),
  );

  // A controller without fault detection answers 501 on what needs it.
  const needs =
    (what: 'getAlert' | 'acknowledgeAlert' | 'resolveAlert' | 'lampHistory') =>
    async (_request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      if (controller[what]) return;
      const body: ErrorBody = { code: 'LUCIOLE_ERR_NOT_CONFIGURED', message: "ce contrôleur n'a pas de tableau de maintenance" };
      await reply.code(501).send(body);
    };
  const findAlert = (id: string) => {
    const alert = controller.getAlert!(id);
    if (!alert) throw new LucioleError('LUCIOLE_ERR_ALERT_NOT_FOUND', `alerte « ${id} » introuvable`, 'id');
    return alert;
  };

  api.get(
    '/api/alerts',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Alerts, newest opened first (full history unless filtered): state (open, acknowledged, resolved, active), kind, zone, severity, since (opened at or after, ms), limit',
        querystring: alertQuerySchema,
        response: { 200: z.array(alertViewSchema), ...invalid, ...denied },
      },
    },
    async (request) => {
      const q = request.query;
      const filtered = Object.values(q).some((v) => v !== undefined);
      return filtered ? controller.listAlerts(q) : controller.listAlerts();
    },
  );

  api.get(
    '/api/alerts/:id',
    {
      config: { minRole: 'viewer' },
      preHandler: needs('getAlert'),
      schema: {
        summary: 'One alert with its evidence, folded lamps and history',
        params: idParamsSchema,
        response: { 200: alertViewSchema, ...invalid, ...denied, ...missing, ...notConfigured },
      },
    },
    async (request) => findAlert(request.params.id),
  );

  api.post(
    '/api/alerts/:id/acknowledge',
    {
      config: { minRole: 'maintenance' },
      preHandler: needs('acknowledgeAlert'),
      schema: {
        summary: 'A crew takes an open alert in hand (open → acknowledged)',
        params: idParamsSchema,
        body: acknowledgeBodySchema,
        response: { 200: alertViewSchema, ...invalid, ...denied, ...missing, ...notConfigured },
      },
    },
    async (request) => {
      const who = actor(request.principal, request.body?.by);
      const alert = controller.acknowledgeAlert!(request.params.id, who);
      request.log.info({ alertId: alert.id, by: who }, 'alert acknowledged');
      return alert;
    },
  );

  api.post(
    '/api/alerts/:id/resolve',
    {
      config: { minRole: 'maintenance' },
      preHandler: needs('resolveAlert'),
      schema: {
        summary: 'Closes an alert with a note saying what was done (open or acknowledged → resolved)',
        params: idParamsSchema,
        body: resolveBodySchema,
        response: { 200: alertViewSchema, ...invalid, ...denied, ...missing, ...notConfigured },
      },
    },
    async (request) => {
      const who = actor(request.principal, request.body.by);
      const alert = controller.resolveAlert!(request.params.id, who, request.body.note);
      request.log.info({ alertId: alert.id, by: who }, 'alert resolved');
      return alert;
    },
  );

  api.get(
    '/api/alerts/:id/work-order',
    {
      config: { minRole: 'viewer' },
      preHandler: needs('getAlert'),
      schema: {
        summary: "A crew's printable work order (French HTML): lamp, coordinates, cabinet, fault, evidence, history",
        params: idParamsSchema,
        produces: ['text/html'],
        response: { 200: z.string().describe('text/html page'), ...invalid, ...denied, ...missing, ...notConfigured },
      },
    },
    async (request, reply) => {
      const alert = findAlert(request.params.id);
      const town = controller.town();
      const lamp = alert.lampId ? (controller.getLamp(alert.lampId) ?? null) : null;
      const cabinet = controller.getCabinet(alert.cabinetId) ?? null;
      const html = workOrderHtml({ alert, lamp, cabinet, town: town.name, timeZone: town.site.timezone, now: controller.clock.now() });
      return reply.type('text/html; charset=utf-8').send(html);
    },
  );

  api.get(
    '/api/lamps/:id/history',
    {
      config: { minRole: 'viewer' },
      preHandler: needs('lampHistory'),
      schema: {
        summary: "A lamp's level and power readings (the evidence link of an alert); averaged into buckets beyond maxPoints (default 2000); at most 31 days",
        params: idParamsSchema,
        querystring: historyQuerySchema,
        response: { 200: lampHistoryViewSchema, ...invalid, ...denied, ...missing, ...notConfigured },
      },
    },
    async (request) => {
      const to = request.query.to ?? controller.clock.now();
      const from = request.query.from ?? Math.max(0, to - 7 * DAY_MS);
      return controller.lampHistory!(request.params.id, from, to, request.query.maxPoints);
    },
  );
}

/** The author recorded in the alert's history and the audit trail. */
function actor(principal: Principal | null, by: string | undefined): string {
  const account = principal?.name ?? 'admin';
  return by ? `${by} (${account})` : account;
}
