import Fastify from 'fastify';
import fc from 'fast-check';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import type { ControllerApi } from '../controller/api.js';
import { requiredRole, type Role } from './auth.js';
import { registerAlertRoutes } from './routes-alerts.js';
import { registerPolicyRoutes } from './routes-policies.js';
import { ACTION_ROLES, ROLES, mayDo, refusedMessage, unreachableMessage, whoLabel } from './ui/auth-roles.js';
import { liveEventSchema, type LiveEvent } from '../controller/views.js';
import { formatSseFrame } from './sse.js';
import { fitProjection, levelColour, MAP_SIZE } from './ui/geometry.js';
import { createSseParser, type SseMessage } from './ui/sse-parser.js';

/** The browser modules that hold logic, run here as the ES modules the browser loads. */

function parseAll(chunks: string[]): SseMessage[] {
  const out: SseMessage[] = [];
  const parser = createSseParser((m) => out.push(m));
  for (const c of chunks) parser.push(c);
  return out;
}

/** Cuts `text` at the given positions. */
function cut(text: string, positions: number[]): string[] {
  const at = [...new Set(positions.map((p) => p % (text.length + 1)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let prev = 0;
  for (const p of [...at, text.length]) {
    chunks.push(text.slice(prev, p));
    prev = p;
  }
  return chunks;
}

describe('SSE parser (ui/sse-parser.js)', () => {
  const events: LiveEvent[] = [
    { type: 'lamps', cabinetId: 'ARM-01', ts: 1_763_758_800_000, lamps: [{ id: 'L-1', level: 40, powerW: 21.4, fault: null }] },
    { type: 'presence', cabinetId: 'ARM-01', lampId: 'L-2', kind: 'pedestrian', ts: 1_763_758_801_234 },
    {
      type: 'alert',
      alert: {
        id: 'a-1', kind: 'door_open', severity: 'minor', state: 'open', cabinetId: 'ARM-01', lampId: null,
        openedAt: 1, lastSeen: 2, resolvedAt: null, count: 1, detail: 'porte « nord »\u00a0ouverte',
      },
    },
  ];
  const stream = `: luciole\n\n${events.map(formatSseFrame).join(': heartbeat\n\n')}`;

  it('reads back what the server frames, however the stream is cut into chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (positions) => {
        const messages = parseAll(cut(stream, positions));
        expect(messages.map((m) => m.event)).toEqual(events.map((e) => e.type));
        expect(messages.map((m) => liveEventSchema.parse(JSON.parse(m.data)))).toEqual(events);
      }),
    );
  });

  it('accepts CRLF and CR line ends, joins data lines and skips comments and unknown fields', () => {
    fc.assert(
      fc.property(fc.constantFrom('\n', '\r\n', '\r'), fc.array(fc.nat(), { maxLength: 10 }), (eol, positions) => {
        const text = [': hello', 'event: a', 'id: 7', 'data: one', 'data:two', '', 'data: {"x":1}', '', ''].join(eol);
        expect(parseAll(cut(text, positions))).toEqual([
          { event: 'a', data: 'one\ntwo' },
          { event: 'message', data: '{"x":1}' },
        ]);
      }),
    );
  });

  it('holds back an incomplete frame until its blank line arrives', () => {
    const out: SseMessage[] = [];
    const parser = createSseParser((m) => out.push(m));
    parser.push('event: lamps\ndata: {}');
    expect(out).toEqual([]);
    parser.push('\n\n');
    expect(out).toEqual([{ event: 'lamps', data: '{}' }]);
  });
});

describe('map geometry (ui/geometry.js)', () => {
  const metresPerDegLat = 111_320;

  it('keeps shapes: a square of ground is a square on the map, at any latitude', () => {
    fc.assert(
      fc.property(fc.double({ min: -70, max: 70, noNaN: true }), fc.double({ min: -170, max: 170, noNaN: true }), (lat, lon) => {
        const side = 500 / metresPerDegLat;
        const dLon = side / Math.cos((lat * Math.PI) / 180);
        const corners = [
          { lat, lon },
          { lat: lat + side, lon: lon + dLon },
        ];
        const fit = fitProjection(corners, 0);
        expect(fit.width / fit.height).toBeCloseTo(1, 2);
        expect(Math.max(fit.width, fit.height)).toBeCloseTo(MAP_SIZE, 6);
      }),
    );
  });

  it('puts every point inside the drawing, north up and east right', () => {
    const points = [
      { lat: 45.7601, lon: 4.83 },
      { lat: 45.7702, lon: 4.845 },
      { lat: 45.765, lon: 4.851 },
    ];
    const fit = fitProjection(points, 24);
    for (const p of points) {
      const { x, y } = fit.project(p.lat, p.lon);
      expect(x).toBeGreaterThanOrEqual(24 - 1e-9);
      expect(y).toBeGreaterThanOrEqual(24 - 1e-9);
      expect(x).toBeLessThanOrEqual(fit.width - 24 + 1e-9);
      expect(y).toBeLessThanOrEqual(fit.height - 24 + 1e-9);
    }
    const north = fit.project(45.7702, 4.84);
    const south = fit.project(45.7601, 4.84);
    expect(north.y).toBeLessThan(south.y);
    expect(fit.project(45.765, 4.851).x).toBeGreaterThan(fit.project(45.765, 4.83).x);
  });

  it('draws a single lamp, or none, without dividing by zero', () => {
    for (const pts of [[{ lat: 45.76, lon: 4.83 }], []]) {
      const fit = fitProjection(pts);
      const { x, y } = fit.project(45.76, 4.83);
      expect([fit.width, fit.height, x, y].every(Number.isFinite)).toBe(true);
    }
  });

  it('colours lamps from dark grey at 0 % to warm yellow at 100 %, brighter as the level rises', () => {
    expect(levelColour(0)).toBe('#3a3a3a');
    expect(levelColour(100)).toBe('#ffc83d');
    expect(levelColour(140)).toBe(levelColour(100));
    expect(levelColour(-5)).toBe(levelColour(0));
    expect(levelColour(null)).toMatch(/^#[0-9a-f]{6}$/);
    const luminance = (hex: string): number => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    for (let level = 0; level < 100; level += 5) {
      expect(levelColour(level)).toMatch(/^#[0-9a-f]{6}$/);
      expect(luminance(levelColour(level + 5))).toBeGreaterThan(luminance(levelColour(level)));
    }
  });
});

describe('what each role may do on the pages (ui/auth-roles.js)', () => {
  /** Each route's least role, as the route files declare it, keyed like ACTION_ROLES ("PUT /api/zones/{zone}"). */
  async function declaredRoles(): Promise<Map<string, string>> {
    const app = Fastify({ logger: false });
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    const roles = new Map<string, string>();
    app.addHook('onRoute', (route) => {
      const role = requiredRole(route.config as { public?: boolean; minRole?: Role } | undefined);
      for (const method of [route.method].flat()) roles.set(`${method} ${route.url.replace(/:(\w+)/g, '{$1}')}`, role);
    });
    // Registering reads nothing from the controller; the handlers, never called here, would.
    const controller = {} as ControllerApi;
    registerAlertRoutes(app, { controller });
    registerPolicyRoutes(app, { controller });
    await app.ready();
    await app.close();
    return roles;
  }

  it('asks for the role each action’s route declares, so the pages hide exactly what the server refuses', async () => {
    const declared = await declaredRoles();
    expect(declared.size).toBeGreaterThan(10);
    for (const [action, role] of Object.entries(ACTION_ROLES)) expect([action, declared.get(action)]).toEqual([action, role]);
  });

  it('lets a role do an action at or above its level only, and nobody but admin an unknown one', () => {
    expect(mayDo('viewer', 'POST /api/alerts/{id}/acknowledge')).toBe(false);
    expect(mayDo('maintenance', 'POST /api/alerts/{id}/acknowledge')).toBe(true);
    expect(mayDo('maintenance', 'PUT /api/plan')).toBe(false);
    expect(mayDo('technician', 'PUT /api/plan')).toBe(true);
    expect(mayDo('viewer', 'GET /api/alerts/{id}/work-order')).toBe(true);
    for (const role of ROLES) expect(mayDo(role, 'DELETE /api/everything')).toBe(role === 'admin');
    expect(mayDo(null, 'GET /api/alerts/{id}/work-order')).toBe(false);
    expect(mayDo('root', 'GET /api/alerts/{id}/work-order')).toBe(false);
    // Ordered: whoever may do an action, every higher role may too.
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(ACTION_ROLES)), fc.integer({ min: 0, max: ROLES.length - 1 }), (action, i) => {
        if (mayDo(ROLES[i], action)) for (const higher of ROLES.slice(i)) expect(mayDo(higher, action)).toBe(true);
      }),
    );
  });

  it('says who is signed in and why the sign-in form is back, in French', () => {
    expect(whoLabel({ name: 'maire', role: 'viewer', kind: 'session' })).toBe('maire · consultation (élus)');
    expect(whoLabel({ name: 'token:tok_1', role: 'maintenance', kind: 'token' })).toBe('jeton · maintenance');
    expect(whoLabel({ name: 'admin', role: 'admin', kind: 'bootstrap' })).toBe('admin · administration');
    expect(whoLabel({ name: 'x', role: 'inconnu', kind: 'session' })).toBe('x · inconnu');
    expect(refusedMessage('fresh-token')).toMatch(/^Jeton refusé/);
    expect(refusedMessage('session')).toMatch(/session a expiré.*reconnectez-vous/);
    expect(refusedMessage('token')).toMatch(/expiré ou révoqué.*reconnectez-vous/);
    expect(unreachableMessage('Failed to fetch', 5)).toBe('Connexion impossible (Failed to fetch). Nouvel essai dans 5 secondes.');
    expect(unreachableMessage('Failed to fetch', null)).toBe('Connexion impossible (Failed to fetch).');
  });
});
