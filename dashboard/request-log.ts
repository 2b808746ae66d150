import type { FastifyRequest } from 'fastify';

/**
 * What a request log line says of the request: fastify's own fields, with the values of query
 * parameters that look like credentials replaced. Tokens go in the Authorization header, never
 * logged; a client that puts one in the URL anyway (`?access_token=…`) must not get it written
 * to the log.
 */
const SENSITIVE = /token|pass|secret|key|auth|sig|session|cred/i;

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // A malformed escape: judged on the raw name.
      }
      return eq >= 0 && SENSITIVE.test(decoded) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

export function requestLogSerializer(req: FastifyRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: redactUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
  };
}
