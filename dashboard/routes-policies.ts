import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ControllerApi, PolicyApi } from '../controller/api.js';
import { overrideRecordSchema, overrideRequestSchema } from '../controller/overrides.js';
import { levelCurveSchema } from '../controller/plan-curve.js';
import { diffPlans, withDiffSummaries } from '../controller/plan-diff.js';
import { townPlanSchema } from '../controller/plan.js';
import { PlanNoncompliantError } from '../controller/policy-service.js';
import {
  complianceFindingSchema,
  complianceReportSchema,
  planSaveResultSchema,
  planVersionDetailSchema,
  planVersionSummarySchema,
  rolloutSchema,
  whatIfResultSchema,
  type Rollout,
} from '../controller/policy-views.js';
import { lampGroupSchema, lampGroupUpdateSchema, zoneUpdateSchema, zoneViewSchema } from '../controller/zones.js';
import { LucioleError } from '../core/errors.js';
import { idSchema } from '../protocol/index.js';
import type { Principal } from './auth.js';
import { errorBodySchema, type ErrorBody } from './schemas.js';

/**
 * The policy editor's API: zones, groups, plan versions with compliance checks and diffs,
 * rollback, what-if, the level curve of a profile, rollout per cabinet, manual overrides.
 * Everything behind the bearer token; bodies and answers are zod schemas, so all of it is in
 * the OpenAPI document. Compliance messages are in French.
 */

export interface PolicyRoutesOptions {
  controller: ControllerApi;
}

const denied = { 401: errorBodySchema } as const;
const invalid = { 400: errorBodySchema } as const;
const missing = { 404: errorBodySchema } as const;
const notConfigured = { 501: errorBodySchema } as const;

/** 422: the plan breaks a compliance rule; every finding, errors and warnings. */
const noncompliantSchema = errorBodySchema.extend({ findings: z.array(complianceFindingSchema) });
const noncompliant = { 422: noncompliantSchema } as const;

const zoneParamsSchema = z.object({ zone: idSchema });
const idParamsSchema = z.object({ id: idSchema });
const versionParamsSchema = z.object({ v: z.coerce.number().int().positive() });
const planBodySchema = z.object({ plan: townPlanSchema });
const rollbackBodySchema = z.object({ version: z.number().int().positive() });
const curveQuerySchema = z.object({ profile: idSchema, date: z.iso.date() });
const curveBodySchema = curveQuerySchema.extend({ plan: townPlanSchema.optional() });

export function registerPolicyRoutes(app: FastifyInstance, opts: PolicyRoutesOptions): void {
  const { controller } = opts;
  const api = app.withTypeProvider<ZodTypeProvider>();
  // Routes that need the policy editor answer 501 without it (a controller that does not provide one).
  const requirePolicies = async (_request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (controller.policies) return;
    const body: ErrorBody = { code: 'LUCIOLE_ERR_NOT_CONFIGURED', message: 'this controller has no policy editor' };
    await reply.code(501).send(body);
  };
  const policies = (): PolicyApi => controller.policies!;
  // A refused plan answers 422 with its findings, which the generic error body cannot carry.
  const refused = (err: unknown) => {
    if (!(err instanceof PlanNoncompliantError)) throw err;
    return {
      code: err.code,
      message: err.message,
      ...(err.field !== undefined ? { field: err.field } : {}),
      findings: err.findings,
    };
  };

  // ---------------- zones and groups ----------------

  api.get(
    '/api/zones',
    { config: { minRole: 'viewer' }, preHandler: requirePolicies, schema: { summary: 'Zones: metadata, lamp counts and the profile each uses', response: { 200: z.array(zoneViewSchema), ...denied, ...notConfigured } } },
    async () => policies().zones(),
  );

  api.put(
    '/api/zones/:zone',
    {
      config: { minRole: 'technician' },
      preHandler: requirePolicies,
      schema: {
        summary: "Sets a zone's metadata (category, closing time, end of activity, cap, extinction hours)",
        params: zoneParamsSchema,
        body: zoneUpdateSchema,
        response: { 200: zoneViewSchema, ...invalid, ...denied, ...missing, ...notConfigured },
      },
    },
    async (request) => policies().updateZone(request.params.zone, request.body, actor(request.principal)),
  );

  api.get(
    '/api/groups',
    { config: { minRole: 'viewer' }, preHandler: requirePolicies, schema: { summary: 'Named groups of lamps (override targets)', response: { 200: z.array(lampGroupSchema), ...denied, ...notConfigured } } },
    async () => policies().groups(),
  );

  api.get(
    '/api/groups/:id',
    { config: { minRole: 'viewer' }, preHandler: requirePolicies, schema: { summary: 'One group of lamps', params: idParamsSchema, response: { 200: lampGroupSchema, ...invalid, ...denied, ...missing, ...notConfigured } } },
    async (request) => {
      const group = policies().group(request.params.id);
      if (!group) throw groupNotFound(request.params.id);
      return group;
    },
  );

  api.put(
    '/api/groups/:id',
    {
      config: { minRole: 'technician' },
      preHandler: requirePolicies,
      schema: {
        summary: 'Creates or replaces a group of lamps',
        params: idParamsSchema,
        body: lampGroupUpdateSchema,
        response: { 200: lampGroupSchema, ...invalid, ...denied, ...missing, ...notConfigured },
      },
    },
    async (request) => policies().saveGroup({ ...request.body, id: request.params.id }, actor(request.principal)),
  );

  api.delete(
    '/api/groups/:id',
    { config: { minRole: 'technician' }, preHandler: requirePolicies, schema: { summary: 'Deletes a group of lamps', params: idParamsSchema, response: { 204: z.null(), ...invalid, ...denied, ...missing, ...notConfigured } } },
    async (request, reply) => {
      if (!policies().deleteGroup(request.params.id, actor(request.principal))) throw groupNotFound(request.params.id);
      return reply.code(204).send(null);
    },
  );

  // ---------------- plan versions ----------------

  api.put(
    '/api/plan',
    {
      config: { minRole: 'technician' },
      schema: {
        summary: 'Checks a plan and publishes it as a new version to every cabinet; compliance errors refuse it (422)',
        body: townPlanSchema,
        response: { 200: planSaveResultSchema, ...invalid, ...denied, ...noncompliant },
      },
    },
    async (request, reply) => {
      const author = actor(request.principal);
      if (controller.policies) {
        try {
          return await controller.policies.save(request.body, author);
        } catch (err) {
          return reply.code(422).send(refused(err));
        }
      }
      // A controller without the policy editor: published as is, unchecked.
      const previous = controller.currentPlan();
      const version = await controller.publishPlan(request.body, author);
      return { ...version, findings: [], diff: diffPlans(previous?.plan ?? null, version.plan), cabinets: null };
    },
  );

  api.get(
    '/api/plan/versions',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Every plan version, newest first, each with a summary of what it changed',
        response: { 200: z.array(planVersionSummarySchema), ...denied },
      },
    },
    async () => withDiffSummaries(controller.listPlanVersions()),
  );

  api.get(
    '/api/plan/versions/:v',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'One plan version with its full diff against the version before it',
        params: versionParamsSchema,
        response: { 200: planVersionDetailSchema, ...invalid, ...denied, ...missing },
      },
    },
    async (request) => {
      const versions = controller.listPlanVersions();
      const i = versions.findIndex((p) => p.version === request.params.v);
      if (i < 0) throw new LucioleError('LUCIOLE_ERR_PLAN_VERSION_NOT_FOUND', `no plan version ${request.params.v}`, 'v');
      const previous = versions[i + 1];
      return { ...versions[i]!, diff: diffPlans(previous?.plan ?? null, versions[i]!.plan), previous: previous?.version ?? null };
    },
  );

  api.post(
    '/api/plan/rollback',
    {
      config: { minRole: 'technician' },
      preHandler: requirePolicies,
      schema: {
        summary: 'Publishes a new version equal to an earlier one ("rollback to vN")',
        body: rollbackBodySchema,
        response: { 200: planSaveResultSchema, ...invalid, ...denied, ...missing, ...noncompliant, ...notConfigured },
      },
    },
    async (request, reply) => {
      const service = policies();
      try {
        return await service.rollback(request.body.version, actor(request.principal));
      } catch (err) {
        return reply.code(422).send(refused(err));
      }
    },
  );

  api.post(
    '/api/plan/check',
    {
      config: { minRole: 'technician' },
      preHandler: requirePolicies,
      schema: {
        summary: 'Compliance of a draft plan (French light-nuisance order, dark corridors), nothing saved',
        body: planBodySchema,
        response: { 200: complianceReportSchema, ...invalid, ...denied, ...notConfigured },
      },
    },
    async (request) => policies().check(request.body.plan),
  );

  api.post(
    '/api/plan/what-if',
    {
      config: { minRole: 'technician' },
      preHandler: requirePolicies,
      schema: {
        summary: 'The last 7 nights replayed with a draft and with the plan in force: energy and detections boosted',
        body: planBodySchema,
        response: { 200: whatIfResultSchema, ...invalid, ...denied, ...notConfigured },
      },
    },
    async (request) => policies().whatIf(request.body.plan),
  );

  api.get(
    '/api/plan/curve',
    {
      config: { minRole: 'viewer' },
      preHandler: requirePolicies,
      schema: {
        summary: "A profile's level every 5 minutes over the night of a date (current plan, calendar applied), with dusk and dawn",
        querystring: curveQuerySchema,
        response: { 200: levelCurveSchema, ...invalid, ...denied, ...missing, ...notConfigured },
      },
    },
    async (request) => policies().curve(request.query.profile, request.query.date),
  );

  api.post(
    '/api/plan/curve',
    {
      config: { minRole: 'technician' },
      preHandler: requirePolicies,
      schema: {
        summary: "A profile's level every 5 minutes over the night of a date, for a draft plan",
        body: curveBodySchema,
        response: { 200: levelCurveSchema, ...invalid, ...denied, ...missing, ...notConfigured },
      },
    },
    async (request) => policies().curve(request.body.profile, request.body.date, request.body.plan),
  );

  api.get(
    '/api/plan/rollout',
    { config: { minRole: 'viewer' }, schema: { summary: 'Per cabinet: version published, version acked, online', response: { 200: rolloutSchema, ...denied } } },
    async () => rollout(controller),
  );

  // ---------------- overrides ----------------

  api.post(
    '/api/overrides',
    {
      config: { minRole: 'technician' },
      preHandler: requirePolicies,
      schema: {
        summary: 'Holds a lamp, group, cabinet, zone or the whole town at a level until a time (7 days at most)',
        body: overrideRequestSchema,
        response: { 201: overrideRecordSchema, ...invalid, ...denied, ...missing, ...notConfigured },
      },
    },
    async (request, reply) => reply.code(201).send(await policies().setOverride(request.body, actor(request.principal))),
  );

  api.get(
    '/api/overrides',
    {
      config: { minRole: 'viewer' },
      preHandler: requirePolicies,
      schema: {
        summary: 'Active overrides, with who set them and delivery per cabinet (applied or not)',
        response: { 200: z.array(overrideRecordSchema), ...denied, ...notConfigured },
      },
    },
    async () => policies().overrides(),
  );

  api.delete(
    '/api/overrides/:id',
    {
      config: { minRole: 'technician' },
      preHandler: requirePolicies,
      schema: {
        summary: 'Ends an override early (clear-override to its lamps)',
        params: idParamsSchema,
        response: { 200: overrideRecordSchema, ...invalid, ...denied, ...missing, ...notConfigured },
      },
    },
    async (request) => policies().clearOverride(request.params.id, actor(request.principal)),
  );
}

function rollout(controller: ControllerApi): Rollout {
  const current = controller.currentPlan();
  const plan = current ? { id: current.plan.id, version: current.version } : null;
  const cabinets = controller
    .listCabinets()
    // Cabinets never sent a policy and unknown to the inventory (a rogue client) are not part of a rollout.
    .filter((c) => c.policyPublished !== null || c.lamps > 0)
    .map((c) => ({
      cabinetId: c.id,
      online: c.online,
      published: c.policyPublished,
      acked: c.policyAcked,
      upToDate: plan !== null && c.policyAcked?.id === plan.id && c.policyAcked.version === plan.version,
    }));
  const acked = cabinets.filter((c) => c.upToDate).length;
  return { plan, cabinets, total: cabinets.length, acked, complete: plan !== null && acked === cabinets.length };
}

/** The author recorded in the audit trail: the authenticated principal (the admin, for now). */
function actor(principal: Principal | null): string {
  return principal?.name ?? 'admin';
}

function groupNotFound(id: string): LucioleError {
  return new LucioleError('LUCIOLE_ERR_GROUP_NOT_FOUND', `no group "${id}"`, 'id');
}
