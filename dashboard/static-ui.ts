import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LucioleError } from '../core/errors.js';

/**
 * The web UI's files, served from `dashboard/ui/` next to this module (the source tree under
 * vitest, dist/dashboard/ui/ after the build). Only the names below are ever read: a request
 * never reaches the file system with a path it chose, so there is no traversal to defend.
 */
const UI_FILES: ReadonlyMap<string, string> = new Map([
  ['index.html', 'text/html; charset=utf-8'],
  ['style.css', 'text/css; charset=utf-8'],
  ['favicon.svg', 'image/svg+xml'],
  ['app.js', 'text/javascript; charset=utf-8'],
  ['api.js', 'text/javascript; charset=utf-8'],
  ['format.js', 'text/javascript; charset=utf-8'],
  ['geometry.js', 'text/javascript; charset=utf-8'],
  ['live.js', 'text/javascript; charset=utf-8'],
  ['map.js', 'text/javascript; charset=utf-8'],
  ['panels.js', 'text/javascript; charset=utf-8'],
  ['sse-parser.js', 'text/javascript; charset=utf-8'],
]);

export const UI_FILE_NAMES: readonly string[] = [...UI_FILES.keys()];

const uiDir = new URL('./ui/', import.meta.url);

async function sendUiFile(reply: FastifyReply, name: string): Promise<FastifyReply> {
  const type = UI_FILES.get(name);
  if (type === undefined) throw new LucioleError('LUCIOLE_ERR_NOT_FOUND', 'no such file');
  // Read on each request: small files, and an edited UI shows on reload during development.
  const body = await readFile(new URL(name, uiDir));
  return reply.type(type).header('Cache-Control', 'no-cache').send(body);
}

const uiParamsSchema = z.object({ '*': z.string().max(64) });

export function registerStaticUi(app: FastifyInstance): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get('/', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => sendUiFile(reply, 'index.html'));
  typed.get('/ui/*', { config: { public: true }, schema: { hide: true, params: uiParamsSchema } }, async (request, reply) =>
    sendUiFile(reply, request.params['*']),
  );
}
