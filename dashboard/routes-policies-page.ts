import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';

/**
 * `/politiques`: the policy editor's page (dashboard/ui/policies.html) at a URL technical
 * services can type. Public like every file of the UI: the page holds no data, and each call
 * it makes carries the bearer token and meets the API routes' own roles.
 */
const page = new URL('./ui/policies.html', import.meta.url);

export function registerPoliciesPage(app: FastifyInstance): void {
  app.get(
    '/politiques',
    // minRole names the page's audience (its API calls need technician to write); `public` is what the check reads.
    { config: { public: true, minRole: 'technician' }, schema: { hide: true } },
    async (_request, reply) => reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-cache').send(await readFile(page)),
  );
}
