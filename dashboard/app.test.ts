import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ControllerApi } from '../controller/api.js';
import type { LampRecord } from '../controller/inventory-schema.js';
import type { PlanVersion, TownPlan } from '../controller/plan.js';
import type { AlertView, CabinetView, EnergySummary, IngestStats, LampView, LiveEvent } from '../controller/views.js';
import { ManualClock } from '../core/clock.js';
import type { Site } from '../protocol/index.js';
import { planVersionSchema } from '../controller/plan.js';
import {
  alertViewSchema,
  cabinetViewSchema,
  energySummarySchema,
  ingestStatsSchema,
  lampViewSchema,
  liveEventSchema,
} from '../controller/views.js';
import { LucioleError } from '../core/errors.js';
import { createSseParser, type SseMessage } from './ui/sse-parser.js';
import { buildApp } from './index.js';
import { uiFileNames } from './static-ui.js';

const UI_FILE_NAMES = uiFileNames();
import { credentialsSchema, errorBodySchema, healthSchema, townSchema } from './schemas.js';

/**
 * A ControllerApi with small fixed data, for the dashboard's tests: it records what the
 * dashboard asks and lets a test push live events.
 */
class TestController implements ControllerApi {
  readonly clock = new ManualClock(Date.UTC(2025, 10, 21, 19, 0, 0));
  readonly site: Site = { lat: 45.764, lon: 4.8357, timezone: 'Europe/Paris' };
  readonly published: Array<{ plan: TownPlan; author: string }> = [];
  readonly credentialRequests: Array<{ cabinetId: string; author: string }> = [];
  readonly energyRequests: number[] = [];
  plans: PlanVersion[] = [];
  /** When set, publishPlan throws it (a compile refusal, a database fault...). */
  publishError: Error | null = null;
  private readonly listeners = new Set<(event: LiveEvent) => void>();

  cabinets: CabinetView[] = [
    {
      id: 'ARM-01',
      online: true,
      lastSeen: this.clock.now() - 30_000,
      mode: 'policy',
      agent: 'luciole-edge/0.1.0',
      policy: { id: 'plan-hiver', version: 2 },
      policyPublished: { id: 'plan-hiver', version: 2 },
      policyAcked: { id: 'plan-hiver', version: 2 },
      lamps: 2,
      buffered: 0,
      lat: 45.7641,
      lon: 4.8356,
    },
    {
      id: 'ARM-02',
      online: false,
      lastSeen: null,
      mode: null,
      agent: null,
      policy: null,
      policyPublished: { id: 'plan-hiver', version: 2 },
      policyAcked: null,
      lamps: 1,
      buffered: null,
      lat: null,
      lon: null,
    },
  ];

  lamps: LampView[] = [
    { id: 'L-1', cabinetId: 'ARM-01', zone: 'centre', lat: 45.764, lon: 4.8357, nominalPowerW: 40, baselinePowerW: 150, level: 80, powerW: 32.1, fault: null, lastTs: this.clock.now() - 60_000 },
    { id: 'L-2', cabinetId: 'ARM-01', zone: 'centre', lat: 45.7642, lon: 4.8359, nominalPowerW: 40, baselinePowerW: null, level: 0, powerW: 0, fault: 'lamp_failure', lastTs: this.clock.now() - 60_000 },
    { id: 'L-3', cabinetId: 'ARM-02', zone: 'parc', lat: 45.7645, lon: 4.8362, nominalPowerW: 25, baselinePowerW: null, level: null, powerW: null, fault: null, lastTs: null },
  ];

  alerts: AlertView[] = [
    {
      id: 'alert-1',
      kind: 'cabinet_offline',
      severity: 'major',
      state: 'open',
      cabinetId: 'ARM-02',
      lampId: null,
      openedAt: this.clock.now() - 3_600_000,
      lastSeen: this.clock.now() - 60_000,
      resolvedAt: null,
      count: 1,
      detail: 'no message for 10 min',
    },
  ];

  town(): { name: string; site: Site } {
    return { name: 'Saint-Lumière', site: this.site };
  }
  listCabinets(): CabinetView[] {
    return this.cabinets;
  }
  getCabinet(id: string): CabinetView | undefined {
    return this.cabinets.find((c) => c.id === id);
  }
  listLamps(): LampView[] {
    return this.lamps;
  }
  getLamp(id: string): LampRecord | undefined {
    const lamp = this.lamps.find((l) => l.id === id);
    return lamp && { ...lamp, neighbours: [] };
  }
  async energy(nights: number): Promise<EnergySummary> {
    this.energyRequests.push(nights);
    const day = 86_400_000;
    const tonightDusk = this.clock.now() - 2 * 3_600_000;
    return {
      timezone: this.site.timezone,
      site: this.site,
      lamps: this.lamps.length,
      nights: Array.from({ length: nights }, (_, i) => {
        const dusk = tonightDusk - (nights - 1 - i) * day;
        const inProgress = i === nights - 1;
        const fullPowerWh = inProgress ? 210 : 1_470;
        const energyWh = fullPowerWh * 0.4;
        return {
          date: new Date(dusk).toISOString().slice(0, 10),
          dusk,
          dawn: dusk + 14 * 3_600_000,
          energyWh,
          fullPowerWh,
          savedWh: fullPowerWh - energyWh,
          savedPct: 60,
          completeness: inProgress ? 1 : 0.98,
          inProgress,
        };
      }),
    };
  }
  listAlerts(): AlertView[] {
    return this.alerts;
  }
  currentPlan(): PlanVersion | null {
    return this.plans.at(-1) ?? null;
  }
  listPlanVersions(): PlanVersion[] {
    return this.plans;
  }
  async publishPlan(plan: TownPlan, author: string): Promise<PlanVersion> {
    if (this.publishError) throw this.publishError;
    this.published.push({ plan, author });
    const version: PlanVersion = { version: this.plans.length + 1, author, createdAt: this.clock.now(), plan };
    this.plans.push(version);
    return version;
  }
  issueCabinetCredentials(cabinetId: string, author: string): { username: string; password: string } {
    this.credentialRequests.push({ cabinetId, author });
    return { username: cabinetId, password: `s3cret-${cabinetId}-${this.credentialRequests.length}` };
  }
  stats(): IngestStats {
    return {
      messagesIn: { telemetry: 12, status: 2 },
      invalid: { telemetry: 1 },
      duplicates: 3,
      samplesStored: 24,
      receiptsSent: 4,
      pendingWrites: 0,
    };
  }
  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }
  /** Pushes an event to every live stream, as the controller would. */
  emit(event: LiveEvent): void {
    for (const l of [...this.listeners]) l(event);
  }
}

// ---------------------------------------------------------------------------------------------

const TOKEN = 'test-admin-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

const validPlan = {
  id: 'plan-hiver',
  failsafeLevel: 100,
  profiles: {
    residentiel: {
      schedule: [
        { from: 'dusk', to: '22:30', level: 80 },
        { from: '22:30', to: 'dawn', level: 20 },
      ],
      presence: { level: 100, holdS: 120, rampUpMs: 300, rampDownS: 20, propagate: 2 },
    },
  },
  zones: { centre: 'residentiel' },
  defaultProfile: 'residentiel',
};

/** Every protected route, with what it takes to get a 200 from it. */
const protectedRoutes: Array<{ method: 'GET' | 'PUT' | 'POST'; url: string; payload?: unknown }> = [
  { method: 'GET', url: '/api/town' },
  { method: 'GET', url: '/api/cabinets' },
  { method: 'GET', url: '/api/cabinets/ARM-01' },
  { method: 'POST', url: '/api/cabinets/ARM-01/credentials' },
  { method: 'GET', url: '/api/lamps' },
  { method: 'GET', url: '/api/energy' },
  { method: 'GET', url: '/api/alerts' },
  { method: 'GET', url: '/api/stats' },
  { method: 'PUT', url: '/api/plan', payload: validPlan },
  { method: 'GET', url: '/api/plan' },
  { method: 'GET', url: '/api/plan/versions' },
  { method: 'GET', url: '/api/openapi.json' },
];

function expectSecurityHeaders(headers: Record<string, unknown>): void {
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['referrer-policy']).toBe('no-referrer');
  const csp = String(headers['content-security-policy']);
  expect(csp).toContain("default-src 'self'");
  // Nothing but 'self' (and 'none') is ever allowed as a source.
  const sources = csp.split(';').flatMap((d) => d.trim().split(/\s+/).slice(1));
  expect(sources.every((s) => s === "'self'" || s === "'none'")).toBe(true);
}

describe('dashboard HTTP API', () => {
  let controller: TestController;
  let app: FastifyInstance;

  beforeEach(async () => {
    controller = new TestController();
    app = await buildApp({ controller, adminToken: TOKEN, version: '9.9.9-test' });
  });
  afterEach(async () => {
    await app.close();
  });

  describe('authentication', () => {
    it('refuses every protected route without a token, with a wrong one, or with another scheme', async () => {
      const wrongHeaders = [
        {},
        { authorization: 'Bearer nope' },
        { authorization: `Bearer ${TOKEN.slice(0, -1)}x` },
        { authorization: `Bearer ${TOKEN}x` },
        { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
        { authorization: TOKEN },
      ];
      for (const route of [...protectedRoutes, { method: 'GET' as const, url: '/api/stream' }, { method: 'GET' as const, url: '/api/nope' }]) {
        for (const headers of wrongHeaders) {
          const res = await app.inject({ method: route.method, url: route.url, headers, payload: route.payload as object });
          expect(res.statusCode, `${route.method} ${route.url} ${JSON.stringify(headers)}`).toBe(401);
          const body = errorBodySchema.parse(res.json());
          expect(body.code).toBe('LUCIOLE_ERR_UNAUTHORIZED');
          expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
        }
      }
      // Nothing reached the controller.
      expect(controller.published).toHaveLength(0);
      expect(controller.credentialRequests).toHaveLength(0);
      expect(controller.energyRequests).toHaveLength(0);
    });

    it('answers every protected route with the token', async () => {
      for (const route of protectedRoutes) {
        const res = await app.inject({ method: route.method, url: route.url, headers: auth, payload: route.payload as object });
        expect(res.statusCode, `${route.method} ${route.url}: ${res.body}`).toBe(200);
        expect(res.headers['cache-control']).toBe('no-store');
      }
    });

    it('leaves /api/health open and reports the controller clock', async () => {
      controller.clock.advance(90_000);
      const res = await app.inject({ method: 'GET', url: '/api/health' });
      expect(res.statusCode).toBe(200);
      expect(healthSchema.parse(res.json())).toEqual({ status: 'ok', time: controller.clock.now(), version: '9.9.9-test' });
    });

    it('refuses to build with a short admin token', async () => {
      await expect(buildApp({ controller, adminToken: 'short' })).rejects.toMatchObject({ code: 'LUCIOLE_ERR_CONFIG_INSECURE', field: 'adminToken' });
    });

    it('reads the version from package.json when none is given', async () => {
      const pkg = z.object({ version: z.string() }).parse(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')));
      const other = await buildApp({ controller, adminToken: TOKEN });
      try {
        const res = await other.inject({ method: 'GET', url: '/api/health' });
        expect(res.json().version).toBe(pkg.version);
      } finally {
        await other.close();
      }
    });
  });

  describe('read routes', () => {
    it('returns bodies that match the view schemas and nothing more', async () => {
      // A field the schema does not name must not leak, whatever the controller hands over.
      (controller.cabinets[0] as Record<string, unknown>).secret = 'do-not-leak';
      const get = async (url: string) => {
        const res = await app.inject({ method: 'GET', url, headers: auth });
        expect(res.statusCode, url).toBe(200);
        return res.json();
      };
      expect(townSchema.parse(await get('/api/town'))).toEqual(controller.town());
      const cabinets = await get('/api/cabinets');
      expect(z.array(cabinetViewSchema.strict()).parse(cabinets)).toHaveLength(controller.cabinets.length);
      expect(JSON.stringify(cabinets)).not.toContain('do-not-leak');
      expect(cabinetViewSchema.strict().parse(await get('/api/cabinets/ARM-02'))).toEqual(controller.cabinets[1]);
      expect(z.array(lampViewSchema.strict()).parse(await get('/api/lamps'))).toEqual(controller.lamps);
      expect(z.array(alertViewSchema.strict()).parse(await get('/api/alerts'))).toEqual(controller.alerts);
      expect(ingestStatsSchema.parse(await get('/api/stats'))).toEqual(controller.stats());
    });

    it('answers an unknown cabinet with 404 and its code, a malformed id with 400 naming it', async () => {
      const missing = await app.inject({ method: 'GET', url: '/api/cabinets/ARM-99', headers: auth });
      expect(missing.statusCode).toBe(404);
      expect(errorBodySchema.parse(missing.json())).toMatchObject({ code: 'LUCIOLE_ERR_CABINET_NOT_FOUND', field: 'id' });

      const bad = await app.inject({ method: 'GET', url: `/api/cabinets/${encodeURIComponent('a b$')}`, headers: auth });
      expect(bad.statusCode).toBe(400);
      expect(errorBodySchema.parse(bad.json())).toMatchObject({ code: 'LUCIOLE_ERR_VALIDATION', field: 'id' });

      const creds = await app.inject({ method: 'POST', url: '/api/cabinets/ARM-99/credentials', headers: auth });
      expect(creds.statusCode).toBe(404);
      expect(controller.credentialRequests).toHaveLength(0);
    });

    it('asks the controller for 7 nights by default, the number given otherwise, and refuses 0, 63 or text', async () => {
      const byDefault = await app.inject({ method: 'GET', url: '/api/energy', headers: auth });
      expect(energySummarySchema.parse(byDefault.json()).nights).toHaveLength(7);
      const three = await app.inject({ method: 'GET', url: '/api/energy?nights=3', headers: auth });
      expect(energySummarySchema.parse(three.json()).nights).toHaveLength(3);
      const max = await app.inject({ method: 'GET', url: '/api/energy?nights=62', headers: auth });
      expect(max.statusCode).toBe(200);
      expect(controller.energyRequests).toEqual([7, 3, 62]);

      for (const nights of ['0', '63', 'dix', '2.5']) {
        const res = await app.inject({ method: 'GET', url: `/api/energy?nights=${nights}`, headers: auth });
        expect(res.statusCode, nights).toBe(400);
        expect(errorBodySchema.parse(res.json())).toMatchObject({ code: 'LUCIOLE_ERR_VALIDATION', field: 'nights' });
      }
      expect(controller.energyRequests).toHaveLength(3);
    });

    it('answers GET /api/plan with 404 until a plan is published', async () => {
      const none = await app.inject({ method: 'GET', url: '/api/plan', headers: auth });
      expect(none.statusCode).toBe(404);
      expect(errorBodySchema.parse(none.json()).code).toBe('LUCIOLE_ERR_PLAN_NOT_FOUND');
      const versions = await app.inject({ method: 'GET', url: '/api/plan/versions', headers: auth });
      expect(versions.json()).toEqual([]);
    });

    it('answers an unknown /api route with a 404 code once authenticated', async () => {
      const res = await app.inject({ method: 'GET', url: '/api/nope', headers: auth });
      expect(res.statusCode).toBe(404);
      expect(errorBodySchema.parse(res.json()).code).toBe('LUCIOLE_ERR_NOT_FOUND');
    });
  });

  describe('PUT /api/plan', () => {
    it('publishes a valid plan as admin and returns the new version', async () => {
      const res = await app.inject({ method: 'PUT', url: '/api/plan', headers: auth, payload: validPlan });
      expect(res.statusCode).toBe(200);
      const version = planVersionSchema.parse(res.json());
      expect(version).toMatchObject({ version: 1, author: 'admin', plan: validPlan });
      expect(controller.published).toEqual([{ plan: validPlan, author: 'admin' }]);

      const current = await app.inject({ method: 'GET', url: '/api/plan', headers: auth });
      expect(planVersionSchema.parse(current.json())).toEqual(version);
      const versions = await app.inject({ method: 'GET', url: '/api/plan/versions', headers: auth });
      expect(z.array(planVersionSchema).parse(versions.json())).toEqual([version]);
    });

    it('refuses an invalid body with 400 naming the field, without calling the controller', async () => {
      const cases: Array<{ body: unknown; field: string }> = [
        {
          body: { ...validPlan, profiles: { x: { schedule: [{ from: 'dusk', to: 'dawn', level: 140 }] } }, zones: {}, defaultProfile: 'x' },
          field: 'profiles.x.schedule.0.level',
        },
        { body: { ...validPlan, profiles: { x: { schedule: [{ from: 'soir', to: 'dawn', level: 10 }] } }, zones: {}, defaultProfile: 'x' }, field: 'profiles.x.schedule.0.from' },
        { body: { ...validPlan, failsafeLevel: 'max' }, field: 'failsafeLevel' },
        { body: { ...validPlan, defaultProfile: 'inconnu' }, field: 'defaultProfile' },
        { body: { ...validPlan, zones: { parc: 'inconnu' } }, field: 'zones.parc' },
      ];
      for (const { body, field } of cases) {
        const res = await app.inject({ method: 'PUT', url: '/api/plan', headers: auth, payload: body as object });
        expect(res.statusCode, field).toBe(400);
        const err = errorBodySchema.parse(res.json());
        expect(err).toMatchObject({ code: 'LUCIOLE_ERR_VALIDATION', field });
        expect(err.message).toContain(field);
      }
      expect(controller.published).toHaveLength(0);
    });

    it('refuses malformed JSON, a wrong content type and a body over 1 MiB as client errors', async () => {
      const notJson = await app.inject({ method: 'PUT', url: '/api/plan', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"id":' });
      expect(notJson.statusCode).toBe(400);
      expect(errorBodySchema.parse(notJson.json()).code).toBe('LUCIOLE_ERR_BAD_REQUEST');

      const text = await app.inject({ method: 'PUT', url: '/api/plan', headers: { ...auth, 'content-type': 'application/xml' }, payload: '<plan/>' });
      expect(text.statusCode).toBe(415);
      expect(errorBodySchema.parse(text.json()).code).toBe('LUCIOLE_ERR_UNSUPPORTED_MEDIA_TYPE');

      const huge = JSON.stringify({ ...validPlan, padding: 'x'.repeat(1024 * 1024) });
      const tooLarge = await app.inject({ method: 'PUT', url: '/api/plan', headers: { ...auth, 'content-type': 'application/json' }, payload: huge });
      expect(tooLarge.statusCode).toBe(413);
      expect(errorBodySchema.parse(tooLarge.json()).code).toBe('LUCIOLE_ERR_PAYLOAD_TOO_LARGE');
      expect(controller.published).toHaveLength(0);
    });

    it('passes a LucioleError on with its code and field', async () => {
      controller.publishError = new LucioleError('LUCIOLE_ERR_POLICY_INVALID', 'zone parc has no lamp', 'zones.parc');
      const res = await app.inject({ method: 'PUT', url: '/api/plan', headers: auth, payload: validPlan });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ code: 'LUCIOLE_ERR_POLICY_INVALID', message: 'zone parc has no lamp', field: 'zones.parc' });
    });

    it('answers any other failure with 500 and no internals', async () => {
      controller.publishError = new Error('SQLITE_BUSY at /var/lib/luciole/config.db');
      const res = await app.inject({ method: 'PUT', url: '/api/plan', headers: auth, payload: validPlan });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ code: 'LUCIOLE_ERR_INTERNAL', message: 'internal error' });
      expect(res.body).not.toContain('SQLITE');
      expectSecurityHeaders(res.headers);
    });
  });

  it('issues cabinet credentials without writing the secret to the log', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
    const logged = await buildApp({ controller, adminToken: TOKEN, logger, version: 'x' });
    try {
      const res = await logged.inject({ method: 'POST', url: '/api/cabinets/ARM-01/credentials', headers: auth });
      expect(res.statusCode).toBe(200);
      const creds = credentialsSchema.parse(res.json());
      expect(creds.username).toBe('ARM-01');
      expect(controller.credentialRequests).toEqual([{ cabinetId: 'ARM-01', author: 'admin' }]);
      expect(lines.length).toBeGreaterThan(0);
      const log = lines.join('\n');
      expect(log).toContain('cabinet credentials issued');
      expect(log).not.toContain(creds.password);
      expect(log).not.toContain(TOKEN);
    } finally {
      await logged.close();
    }
  });

  it('serves an OpenAPI 3 document listing every route with its schemas and the bearer scheme', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/openapi.json', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    const doc = JSON.parse(res.body) as {
      openapi: string;
      info: { title: string };
      paths: Record<string, Record<string, { parameters?: unknown[]; requestBody?: unknown; responses: Record<string, unknown>; security?: unknown[] }>>;
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
      security: unknown[];
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBe('Luciole API');
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    const expected: Record<string, string[]> = {
      '/api/health': ['get'],
      '/api/openapi.json': ['get'],
      '/api/town': ['get'],
      '/api/cabinets': ['get'],
      '/api/cabinets/{id}': ['get'],
      '/api/cabinets/{id}/credentials': ['post'],
      '/api/lamps': ['get'],
      '/api/energy': ['get'],
      '/api/alerts': ['get'],
      '/api/stats': ['get'],
      '/api/plan': ['get', 'put'],
      '/api/plan/versions': ['get'],
      '/api/stream': ['get'],
    };
    // The core routes of the operator contract; other capabilities add their own routes.
    for (const [path, methods] of Object.entries(expected)) {
      expect(Object.keys(doc.paths[path] ?? {}), path).toEqual(expect.arrayContaining(methods));
    }
    expect(doc.paths['/api/health']?.get?.security).toEqual([]);
    expect(JSON.stringify(doc.paths['/api/plan']?.put?.requestBody)).toContain('failsafeLevel');
    expect(JSON.stringify(doc.paths['/api/cabinets/{id}']?.get?.responses['200'])).toContain('policyPublished');
    expect(doc.paths['/api/cabinets/{id}']?.get?.responses['404']).toBeDefined();
    expect(JSON.stringify(doc.paths['/api/energy']?.get?.parameters)).toContain('nights');
  });

  it('sends the security headers on every kind of response', async () => {
    const responses = await Promise.all([
      app.inject({ method: 'GET', url: '/api/health' }),
      app.inject({ method: 'GET', url: '/api/town' }),
      app.inject({ method: 'GET', url: '/api/town', headers: auth }),
      app.inject({ method: 'GET', url: '/api/cabinets/none', headers: auth }),
      app.inject({ method: 'GET', url: '/' }),
      app.inject({ method: 'GET', url: '/ui/app.js' }),
      app.inject({ method: 'GET', url: '/ui/nothing.js' }),
    ]);
    for (const res of responses) expectSecurityHeaders(res.headers);
  });

  describe('web UI files', () => {
    it('serves the HTML page at / and each UI file with its content type', async () => {
      const page = await app.inject({ method: 'GET', url: '/' });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.body).toContain('<html lang="fr">');
      expect(page.body).toContain('/ui/app.js');

      const js = await app.inject({ method: 'GET', url: '/ui/app.js' });
      expect(js.statusCode).toBe(200);
      expect(js.headers['content-type']).toMatch(/^text\/javascript/);
      expect(js.body).toBe(readFileSync(new URL('./ui/app.js', import.meta.url), 'utf8'));

      const css = await app.inject({ method: 'GET', url: '/ui/style.css' });
      expect(css.headers['content-type']).toMatch(/^text\/css/);
    });

    it('serves every whitelisted file, and every module the page imports is whitelisted', async () => {
      for (const name of UI_FILE_NAMES) {
        const res = await app.inject({ method: 'GET', url: `/ui/${name}` });
        expect(res.statusCode, name).toBe(200);
      }
      // Each `from './x.js'` of the UI modules and each /ui/ reference of the page must be served.
      const referenced = new Set<string>();
      const page = readFileSync(new URL('./ui/index.html', import.meta.url), 'utf8');
      for (const m of page.matchAll(/\/ui\/([\w.-]+)/g)) referenced.add(m[1]!);
      for (const name of UI_FILE_NAMES.filter((n) => n.endsWith('.js'))) {
        const src = readFileSync(new URL(`./ui/${name}`, import.meta.url), 'utf8');
        for (const m of src.matchAll(/from '\.\/([\w.-]+)'/g)) referenced.add(m[1]!);
      }
      expect(referenced.size).toBeGreaterThan(5);
      for (const name of referenced) expect(UI_FILE_NAMES, name).toContain(name);
    });

    it('refuses anything outside the whitelist, traversal attempts included', async () => {
      for (const url of ['/ui/../app.ts', '/ui/%2e%2e/app.ts', '/ui/..%2fapp.ts', '/ui/', '/ui/sse-parser.d.ts', '/ui/ui/app.js', '/app.ts', '/ui/%2e%2e%2f%2e%2e%2fpackage.json']) {
        const res = await app.inject({ method: 'GET', url });
        expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, url).toBeLessThan(500);
        expect(res.body, url).not.toContain('buildApp');
        expect(res.body, url).not.toContain('"dependencies"');
      }
    });
  });
});

describe('live stream (SSE over a real socket)', () => {
  let controller: TestController;
  let app: FastifyInstance;
  let base: string;

  beforeEach(async () => {
    controller = new TestController();
    app = await buildApp({ controller, adminToken: TOKEN, heartbeatMs: 100, version: 'x' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await app.close();
  });

  /** Reads SSE messages and comments from a fetch response, one at a time. */
  function sseReader(res: Response) {
    const messages: SseMessage[] = [];
    let raw = '';
    const parser = createSseParser((m) => messages.push(m));
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    return {
      reader,
      get raw() {
        return raw;
      },
      /** Reads until `done(messages, raw)` holds (bounded by the test timeout). */
      async until(done: (messages: SseMessage[], raw: string) => boolean): Promise<SseMessage[]> {
        while (!done(messages, raw)) {
          const { value, done: ended } = await reader.read();
          if (ended) throw new Error('stream ended');
          raw += value;
          parser.push(value);
        }
        return messages;
      },
    };
  }

  async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
    const start = Date.now();
    while (!cond()) {
      if (Date.now() - start > timeoutMs) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('streams controller events with the token, drops malformed ones, sends heartbeats and unsubscribes on close', async () => {
    const abort = new AbortController();
    const res = await fetch(`${base}/api/stream`, { headers: auth, signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expectSecurityHeaders(Object.fromEntries(res.headers));
    const stream = sseReader(res);
    await waitFor(() => controller.subscriberCount === 1);

    const lamps: LiveEvent = { type: 'lamps', cabinetId: 'ARM-01', ts: controller.clock.now(), lamps: [{ id: 'L-1', level: 20, powerW: 8.2, fault: null }] };
    const presence: LiveEvent = { type: 'presence', cabinetId: 'ARM-01', lampId: 'L-2', kind: 'cyclist', ts: controller.clock.now() + 1 };
    controller.emit(lamps);
    controller.emit({ type: 'lamps', cabinetId: 'ARM-01', ts: -5, lamps: 'oops' } as unknown as LiveEvent);
    controller.emit({ ...presence, extra: 'not in the schema' } as LiveEvent);

    const messages = await stream.until((m) => m.length >= 2);
    expect(messages.map((m) => m.event)).toEqual(['lamps', 'presence']);
    expect(liveEventSchema.parse(JSON.parse(messages[0]!.data))).toEqual(lamps);
    expect(JSON.parse(messages[1]!.data)).toEqual(presence);

    await stream.until((_m, raw) => raw.includes(': heartbeat'));

    abort.abort();
    await waitFor(() => controller.subscriberCount === 0);
  });

  it('refuses the stream without the token', async () => {
    const res = await fetch(`${base}/api/stream`);
    expect(res.status).toBe(401);
    expect(errorBodySchema.parse(await res.json()).code).toBe('LUCIOLE_ERR_UNAUTHORIZED');
    expect(controller.subscriberCount).toBe(0);
  });

  it('ends open streams when the app closes', async () => {
    const res = await fetch(`${base}/api/stream`, { headers: auth });
    const stream = sseReader(res);
    await waitFor(() => controller.subscriberCount === 1);
    await app.close();
    expect(controller.subscriberCount).toBe(0);
    await expect(stream.until(() => false)).rejects.toThrow('stream ended');
  });
});
