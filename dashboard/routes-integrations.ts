import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ControllerApi } from '../controller/api.js';
import { buildFiwareEntities, toNormalized } from '../controller/fiware/entities.js';
import { fiwareSourceOf } from '../controller/fiware/source.js';
import { columnMappingSchema } from '../controller/import/csv-columns.js';
import { inventoryImportReportSchema } from '../controller/import/import-report.js';
import { importInventory, type InventoryInput, type InventoryTarget } from '../controller/import/inventory-import.js';
import { lampDetailsSchema, lampRecordSchema, type LampDetails, type LampRecord } from '../controller/inventory-schema.js';
import { ControllerMetrics } from '../controller/metrics.js';
import {
  INVENTORY_SCHEMA,
  MONTHLY_ENERGY_SCHEMA,
  inventoryRows,
  monthlyEnergyRows,
  openDataDocumentSchema,
  tableSchemaSchema,
  toCsv,
  toJsonDocument,
  type Row,
  type TableSchema,
} from '../controller/opendata/datasets.js';
import { LucioleError } from '../core/errors.js';
import { idSchema } from '../protocol/index.js';
import type { Principal } from './auth.js';
import { errorBodySchema, type ErrorBody } from './schemas.js';

/**
 * Routes that fit Luciole into a town's other tools: FIWARE export, open data, inventory import
 * (CSV or GeoJSON, dry run, all or nothing), art. 5 lamp details, Prometheus `/metrics`.
 * Every route needs the API's bearer token, `/metrics` included (Prometheus sends it with
 * `authorization: { credentials_file: ... }`); to scrape without it, serve
 * `ControllerMetrics.render()` on a separate port bound to a private interface (docs/integrations.md).
 */

/** Inventory writes. The SQLite config store (`openConfigStore`) provides them. */
export type InventoryAdmin = InventoryTarget & {
  updateLampDetails(id: string, patch: LampDetails, actor: string): LampRecord;
};

export interface IntegrationDeps {
  /** Without it, the import and lamp-edit routes answer 501. */
  inventory?: InventoryAdmin;
  /** After the inventory changed: e.g. `() => controller.reloadInventory()`. */
  onInventoryChanged?: () => void;
  /** Metrics to serve, when the caller owns them (a separate metrics port); otherwise made, started and stopped with the app. */
  metrics?: ControllerMetrics;
}

export interface IntegrationRoutesOptions {
  controller: ControllerApi;
  integrations?: IntegrationDeps;
}

declare module './app.js' {
  interface BuildAppOptions {
    /** Inventory store, change hook and metrics for the integration routes. */
    integrations?: IntegrationDeps;
  }
}

/** 100,000 lamps of CSV with every column is about 15 MiB. */
export const IMPORT_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

const denied = { 401: errorBodySchema } as const;
const invalid = { 400: errorBodySchema } as const;
const notConfigured = { 501: errorBodySchema } as const;

const fiwareQuerySchema = z.object({
  format: z.enum(['normalized', 'keyValues']).default('keyValues'),
  /** `true`: served as a file to save (Content-Disposition: attachment). */
  download: z.enum(['true', 'false']).default('false'),
});
const entitiesSchema = z.array(z.looseObject({ id: z.string(), type: z.string() }));

const importQuerySchema = z.object({
  dryRun: z.enum(['true', 'false']).default('false'),
  /** CSV only: JSON object, lamp field → column header, e.g. {"id":"N° PL"}; null ignores a column. */
  mapping: z.string().max(4000).optional(),
});
const importRefusedSchema = errorBodySchema.extend({ report: inventoryImportReportSchema });

const lampParamsSchema = z.object({ id: idSchema });
const lampPatchSchema = lampDetailsSchema.strict().refine((p) => Object.keys(p).length > 0, { message: 'give at least one field' });


export function registerIntegrationRoutes(app: FastifyInstance, opts: IntegrationRoutesOptions): void {
  const { controller } = opts;
  const deps = opts.integrations ?? {};
  const api = app.withTypeProvider<ZodTypeProvider>();

  const metrics = deps.metrics ?? new ControllerMetrics({ controller });
  const ownsMetrics = deps.metrics === undefined;
  // Owned metrics join the live stream at the first scrape (an app nobody scrapes pays nothing,
  // and holds no subscription), and leave it when the app closes.
  if (ownsMetrics) app.addHook('onClose', async () => metrics.stop());
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeHttp(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });

  // CSV and GeoJSON bodies for the import; JSON keeps fastify's own parser.
  app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT_BYTES }, (_req, body, done) => {
    done(null, body);
  });
  app.addContentTypeParser('application/geo+json', { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT_BYTES }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new LucioleError('LUCIOLE_ERR_INVENTORY_INVALID', 'body: not valid JSON', 'body'), undefined);
    }
  });

  // Text bodies: declared on the untyped instance, the zod serializer only knows JSON.
  app.get(
    '/metrics',
    { config: { minRole: 'admin' }, schema: { summary: 'Prometheus metrics (text exposition format)', response: { ...denied } } },
    async (_request, reply) => {
      if (ownsMetrics) metrics.start();
      const text = await metrics.render();
      return reply.type(metrics.contentType).header('Cache-Control', 'no-store').send(text);
    },
  );

  api.get(
    '/api/export/fiware',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Lamps, cabinets, zones and lamp models as FIWARE Smart Data Models NGSI-LD entities (read-only)',
        querystring: fiwareQuerySchema,
        response: { 200: entitiesSchema, ...invalid, ...denied },
      },
    },
    async (request, reply) => {
      const { entities, skipped } = buildFiwareEntities(fiwareSourceOf(controller));
      if (skipped.length > 0) request.log.info({ skipped }, 'FIWARE export: entities left out');
      const body = request.query.format === 'normalized' ? entities.map(toNormalized) : entities;
      if (request.query.download === 'true') {
        reply.header('Content-Disposition', `attachment; filename="luciole-fiware-${request.query.format}.jsonld"`);
      }
      // Entities carry their @context: NGSI-LD's media type for that.
      return reply.type('application/ld+json').send(body as z.infer<typeof entitiesSchema>);
    },
  );

  const datasets: Array<{ name: string; schema: TableSchema; rows: () => Promise<Row[]> }> = [
    { name: 'inventory', schema: INVENTORY_SCHEMA, rows: async () => inventoryRows(lampRecords(controller)) },
    // 62 nights, the most the controller summarises at once: the current and previous months.
    { name: 'energy-monthly', schema: MONTHLY_ENERGY_SCHEMA, rows: async () => monthlyEnergyRows(await controller.energy(62)) },
  ];
  for (const ds of datasets) {
    app.get(
      `/api/opendata/${ds.name}.csv`,
      { config: { minRole: 'viewer' }, schema: { summary: `Open data: ${ds.schema.title} (CSV, Licence Ouverte 2.0)`, response: { ...denied } } },
      async (_request, reply) =>
        reply
          .type('text/csv; charset=utf-8')
          .header('Content-Disposition', `attachment; filename="${ds.name}.csv"`)
          .header('Link', `</api/opendata/${ds.name}.schema.json>; rel="describedby"`)
          .send(toCsv(ds.schema, await ds.rows())),
    );
    api.get(
      `/api/opendata/${ds.name}.json`,
      { config: { minRole: 'viewer' }, schema: { summary: `Open data: ${ds.schema.title} (JSON with field descriptions, Licence Ouverte 2.0)`, response: { 200: openDataDocumentSchema, ...denied } } },
      async () => toJsonDocument(ds.schema, await ds.rows(), controller.town().name, controller.clock.now()),
    );
    api.get(
      `/api/opendata/${ds.name}.schema.json`,
      { config: { minRole: 'viewer' }, schema: { summary: `Open data: Table Schema of ${ds.name} (fields, units, licence)`, response: { 200: tableSchemaSchema, ...denied } } },
      async () => ds.schema,
    );
  }

  api.post(
    '/api/inventory/import',
    {
      config: { minRole: 'admin' },
      bodyLimit: IMPORT_BODY_LIMIT_BYTES,
      schema: {
        summary: 'Imports an inventory (CSV, or GeoJSON per the operator contract): a per-row report; all or nothing; dryRun=true writes nothing',
        querystring: importQuerySchema,
        response: { 200: inventoryImportReportSchema, ...invalid, ...denied, 422: importRefusedSchema, ...notConfigured },
      },
    },
    async (request, reply) => {
      const store = deps.inventory;
      if (!store) return reply.code(501).send(notConfiguredBody('inventory import'));
      const input = importInput(request.body);
      const mapping = parseMapping(request.query.mapping);
      const dryRun = request.query.dryRun === 'true';
      const by = actor(request.principal);
      const { report, imported } = importInventory(store, input, {
        dryRun,
        actor: by,
        ...(mapping ? { mapping } : {}),
        onProgress: (p) => request.log.debug({ progress: p }, 'inventory import'),
      });
      if (!dryRun && !report.applied) {
        const first = report.rows.find((r) => r.action === 'refuse');
        const firstError = first?.errors?.[0];
        return reply.code(422).send({
          code: 'LUCIOLE_ERR_INVENTORY_INVALID',
          message: `${report.summary.refuse} of ${report.summary.rows} rows refused; nothing imported`,
          ...(firstError ? { field: firstError.column ?? firstError.field } : {}),
          report,
        });
      }
      if (imported) {
        request.log.info({ by, imported }, 'inventory imported');
        deps.onInventoryChanged?.();
      }
      return report;
    },
  );

  api.patch(
    '/api/lamps/:id',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: "Sets a lamp's art. 5 data (arrêté du 27 décembre 2018) and lamp type; null clears a field",
        params: lampParamsSchema,
        body: lampPatchSchema,
        response: { 200: lampRecordSchema, ...invalid, ...denied, 404: errorBodySchema, ...notConfigured },
      },
    },
    async (request, reply) => {
      const store = deps.inventory;
      if (!store) return reply.code(501).send(notConfiguredBody('lamp editing'));
      const lamp = store.updateLampDetails(request.params.id, request.body, actor(request.principal));
      deps.onInventoryChanged?.();
      return lamp;
    },
  );
}

/** Lamp records (art. 5 data included) in the controller's order. */
function lampRecords(controller: ControllerApi): LampRecord[] {
  const out: LampRecord[] = [];
  for (const view of controller.listLamps()) {
    const record = controller.getLamp(view.id);
    if (record) out.push(record);
  }
  return out;
}

function importInput(body: unknown): InventoryInput {
  if (typeof body === 'string') {
    const trimmed = body.trimStart();
    // A GeoJSON file sent as text/plain is still GeoJSON.
    if (trimmed.startsWith('{')) {
      try {
        return { format: 'geojson', json: JSON.parse(trimmed) as unknown };
      } catch {
        throw new LucioleError('LUCIOLE_ERR_INVENTORY_INVALID', 'body: not valid JSON', 'body');
      }
    }
    return { format: 'csv', text: body };
  }
  if (typeof body === 'object' && body !== null) return { format: 'geojson', json: body };
  throw new LucioleError('LUCIOLE_ERR_INVENTORY_INVALID', 'body: send a CSV (text/csv) or a GeoJSON FeatureCollection (application/json)', 'body');
}

function parseMapping(raw: string | undefined): z.infer<typeof columnMappingSchema> | undefined {
  if (raw === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new LucioleError('LUCIOLE_ERR_VALIDATION', 'mapping: not valid JSON', 'mapping');
  }
  const parsed = columnMappingSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
    const field = ['mapping', ...path.map(String)].join('.');
    throw new LucioleError('LUCIOLE_ERR_VALIDATION', `${field}: ${issue.message}`, field);
  }
  return parsed.data;
}

function notConfiguredBody(what: string): ErrorBody {
  return { code: 'LUCIOLE_ERR_NOT_CONFIGURED', message: `${what} needs an inventory store, which this server was not given` };
}

function actor(principal: Principal | null): string {
  return principal?.name ?? 'admin';
}
