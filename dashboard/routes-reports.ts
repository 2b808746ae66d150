import { readFile } from 'node:fs/promises';
import type { Database } from 'better-sqlite3';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ControllerApi } from '../controller/api.js';
import { openDataDocumentSchema, tableSchemaSchema, toCsv, toJsonDocument } from '../controller/opendata/datasets.js';
import { groupsCsv, NIGHTLY_ENERGY_SCHEMA, nightlyRows, nightsCsv } from '../controller/reports/exports.js';
import { reportPdf } from '../controller/reports/pdf.js';
import { buildEnergyReport, buildLampFigures, type ReportContext, type RollupSource } from '../controller/reports/report.js';
import { energyReportSchema, reportQuerySchema, type ReportQuery } from '../controller/reports/report-schema.js';
import { ReportSettingsStore } from '../controller/reports/settings-store.js';
import { reportSettingsSchema } from '../controller/reports/settings.js';
import type { TelemetryStore } from '../controller/stores.js';
import type { Principal } from './auth.js';
import { errorBodySchema, type ErrorBody } from './schemas.js';

/**
 * Energy reports for elected officials (issue 5): the report as JSON, CSV, an A4 PDF and open
 * data, its settings (tariffs, emission factor), and the page at `/rapport`. Reads are for every
 * role (`viewer`); settings are written by technical services (`technician`).
 */

export interface ReportDeps {
  /** The telemetry store; a store without hourly roll-ups (`rollupByHour`, `rollupByGroup`) serves no report (501). */
  telemetry: Pick<TelemetryStore, 'rollupByHour' | 'rollupByGroup'>;
  /** The config store: its database keeps the report settings, `audit` records their changes. */
  config: { readonly db: Database; audit?(actor: string, action: string, target: string, detail?: string): void };
  /** Expected telemetry period, s (completeness). Default 60. */
  periodS?: number;
}

declare module './app.js' {
  interface BuildAppOptions {
    /** Telemetry roll-ups and the config database for the energy reports; without them those routes answer 501. */
    reports?: ReportDeps;
  }
}

export interface ReportRoutesOptions {
  controller: ControllerApi;
  reports?: ReportDeps;
}

const denied = { 401: errorBodySchema, 403: errorBodySchema } as const;
const invalid = { 400: errorBodySchema } as const;
const notConfigured = { 501: errorBodySchema } as const;
const csvQuerySchema = reportQuerySchema.extend({ table: z.enum(['nights', 'groups', 'lamps']).default('nights') });

const page = new URL('./ui/report.html', import.meta.url);

function rollupsOf(deps: ReportDeps | undefined): RollupSource | null {
  const t = deps?.telemetry;
  if (!t?.rollupByHour || !t.rollupByGroup) return null;
  return { rollupByHour: (from, to) => t.rollupByHour!(from, to), rollupByGroup: (q) => t.rollupByGroup!(q) };
}

export function registerReportRoutes(app: FastifyInstance, opts: ReportRoutesOptions): void {
  const { controller } = opts;
  const api = app.withTypeProvider<ZodTypeProvider>();
  const source = rollupsOf(opts.reports);
  const settings = opts.reports ? new ReportSettingsStore(opts.reports.config.db, opts.reports.config.audit?.bind(opts.reports.config)) : null;
  settings?.init();

  const context = (): ReportContext | null => {
    if (!source || !settings) return null;
    const zoneLabels = new Map((controller.policies?.zones() ?? []).map((z) => [z.name, z.label]));
    return {
      source,
      town: controller.town(),
      lamps: controller.listLamps().map((l) => ({
        id: l.id,
        cabinetId: l.cabinetId,
        zone: l.zone,
        nominalPowerW: l.nominalPowerW,
        baselinePowerW: l.baselinePowerW,
      })),
      settings: settings.get(),
      periodS: opts.reports?.periodS ?? 60,
      now: controller.clock.now(),
      zoneLabels,
    };
  };
  const unavailable = (reply: FastifyReply): FastifyReply =>
    reply.code(501).send({
      code: 'LUCIOLE_ERR_NOT_CONFIGURED',
      message: 'energy reports need a telemetry store with hourly roll-ups and the config database, which this server was not given',
    } satisfies ErrorBody);

  app.get('/rapport', { config: { public: true, minRole: 'viewer' }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-cache').send(await readFile(page)),
  );

  api.get(
    '/api/reports/energy',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Energy report: headline figures against both baselines, per night, per zone or cabinet, a year before, completeness',
        querystring: reportQuerySchema,
        response: { 200: energyReportSchema, ...invalid, ...denied, ...notConfigured },
      },
    },
    async (request, reply) => {
      const ctx = context();
      if (!ctx) return unavailable(reply);
      return buildEnergyReport(ctx, request.query);
    },
  );

  // Text and PDF bodies: declared on the untyped instance (the zod serializer knows JSON only), the query still validated by its schema.
  app.get<{ Querystring: z.infer<typeof csvQuerySchema> }>(
    '/api/reports/energy.csv',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Energy report as CSV for a spreadsheet set to French (semicolons, decimal commas): nights, groups or lamps',
        querystring: csvQuerySchema,
        response: { ...invalid, ...denied, ...notConfigured },
      },
    },
    async (request, reply) => {
      const ctx = context();
      if (!ctx) return unavailable(reply);
      const { table, ...query } = request.query;
      let body: string;
      if (table === 'lamps') body = groupsCsv((await buildLampFigures(ctx, query)).lamps, 'Lampe');
      else {
        const report = await buildEnergyReport(ctx, query);
        body = table === 'nights' ? nightsCsv(report) : groupsCsv(report.groups, report.groupBy === 'zone' ? 'Zone' : 'Armoire');
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="energie-${table}-${query.period}.csv"`)
        .send(body);
    },
  );

  app.get<{ Querystring: ReportQuery }>(
    '/api/reports/energy.pdf',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Energy report as a printable A4 PDF (French)',
        querystring: reportQuerySchema,
        response: { ...invalid, ...denied, ...notConfigured },
      },
    },
    async (request, reply) => {
      const ctx = context();
      if (!ctx) return unavailable(reply);
      const report = await buildEnergyReport(ctx, request.query);
      return reply
        .type('application/pdf')
        .header('Content-Disposition', `inline; filename="rapport-energie-${report.period.from}-${report.period.to}.pdf"`)
        .send(await reportPdf(report));
    },
  );

  const ds = NIGHTLY_ENERGY_SCHEMA;
  app.get<{ Querystring: ReportQuery }>(
    '/api/reports/opendata/energy-nightly.csv',
    {
      config: { minRole: 'viewer' },
      schema: { summary: `Open data: ${ds.title} (CSV, Licence Ouverte 2.0)`, querystring: reportQuerySchema, response: { ...invalid, ...denied, ...notConfigured } },
    },
    async (request, reply) => {
      const ctx = context();
      if (!ctx) return unavailable(reply);
      const report = await buildEnergyReport(ctx, request.query);
      return reply
        .type('text/csv; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="${ds.name}.csv"`)
        .header('Link', '</api/reports/opendata/energy-nightly.schema.json>; rel="describedby"')
        .send(toCsv(ds, nightlyRows(report)));
    },
  );
  api.get(
    '/api/reports/opendata/energy-nightly.json',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: `Open data: ${ds.title} (JSON with field descriptions, Licence Ouverte 2.0)`,
        querystring: reportQuerySchema,
        response: { 200: openDataDocumentSchema, ...invalid, ...denied, ...notConfigured },
      },
    },
    async (request, reply) => {
      const ctx = context();
      if (!ctx) return unavailable(reply);
      const report = await buildEnergyReport(ctx, request.query);
      return toJsonDocument(ds, nightlyRows(report), report.town.name, ctx.now);
    },
  );
  api.get(
    '/api/reports/opendata/energy-nightly.schema.json',
    { config: { minRole: 'viewer' }, schema: { summary: 'Open data: Table Schema of energy-nightly (fields, units, licence)', response: { 200: tableSchemaSchema, ...denied } } },
    async () => ds,
  );

  api.get(
    '/api/reports/settings',
    { config: { minRole: 'viewer' }, schema: { summary: 'Tariffs (€/kWh with their dates) and emission factor of the reports', response: { 200: reportSettingsSchema, ...denied, ...notConfigured } } },
    async (_request, reply) => (settings ? settings.get() : unavailable(reply)),
  );
  api.put(
    '/api/reports/settings',
    {
      config: { minRole: 'technician' },
      schema: {
        summary: 'Sets the tariffs (non-overlapping dates) and the emission factor of the reports',
        body: reportSettingsSchema,
        response: { 200: reportSettingsSchema, ...invalid, ...denied, ...notConfigured },
      },
    },
    async (request, reply) => (settings ? settings.save(request.body, actor(request.principal)) : unavailable(reply)),
  );
}

function actor(principal: Principal | null): string {
  return principal?.name ?? 'admin';
}
