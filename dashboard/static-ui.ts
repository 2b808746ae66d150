import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LucioleError } from '../core/errors.js';

/**
 * The web UI's files, served from `dashboard/ui/` next to this module (the source tree under
 * vitest, dist/dashboard/ui/ after the build). The folder is listed once at start; only names of
 * the form `name.ext` with a known type are ever read, so a request never reaches the file
 * system with a path it chose: there is no traversal to defend.
 */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  js: 'text/javascript; charset=utf-8',
};
const uiDir = new URL('./ui/', import.meta.url);
function listUiFiles(): ReadonlyMap<string, string> {
  return new Map(
    readdirSync(uiDir)
      .map((name) => [name, /^[a-z0-9-]+\.([a-z]+)$/.exec(name)?.[1]] as const)
      .filter((e): e is readonly [string, string] => e[1] !== undefined && Object.hasOwn(CONTENT_TYPES, e[1]))
      .map(([name, ext]) => [name, CONTENT_TYPES[ext]!]),
  );
}

/** The files served, for tests. */
export function uiFileNames(): string[] {
  return [...listUiFiles().keys()];
}

async function sendUiFile(files: ReadonlyMap<string, string>, reply: FastifyReply, name: string): Promise<FastifyReply> {
  const type = files.get(name);
  if (type === undefined) throw new LucioleError('LUCIOLE_ERR_NOT_FOUND', 'no such file');
  // Read on each request: small files, and an edited UI shows on reload during development.
  const body = await readFile(new URL(name, uiDir));
  return reply.type(type).header('Cache-Control', 'no-cache').send(body);
}

const uiParamsSchema = z.object({ '*': z.string().max(64) });

export function registerStaticUi(app: FastifyInstance): void {
  const files = listUiFiles();
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get('/', { config: { public: true }, schema: { hide: true } }, async (_request, reply) =>
    sendUiFile(files, reply, 'index.html'),
  );
  typed.get('/ui/*', { config: { public: true }, schema: { hide: true, params: uiParamsSchema } }, async (request, reply) =>
    sendUiFile(files, reply, request.params['*']),
  );
}
