import { SinkError, type LineSink } from './write-queue.js';

/**
 * Line protocol over HTTP, the same for the write queue and the bench's raw ceiling. A 400 or 413
 * is the content's fault (parse error, field-type conflict, max-values-per-tag exceeded): permanent.
 * Anything else (refused, timeout, 401/403 until an admin fixes a token, 404 while a database is
 * recreated, 429, 5xx) is worth retrying. Credentials go in headers, never in a URL that could be
 * logged.
 */

export interface Influx1Target {
  url: string;
  database: string;
  retentionPolicy: string;
  username?: string | undefined;
  password?: string | undefined;
}

export interface Influx2Target {
  url: string;
  org: string;
  bucket: string;
  token: string;
}

export function influx1Sink(t: Influx1Target): LineSink {
  const endpoint = new URL('write', withSlash(t.url));
  endpoint.searchParams.set('db', t.database);
  endpoint.searchParams.set('rp', t.retentionPolicy);
  endpoint.searchParams.set('precision', 'ms');
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  if (t.username) {
    headers.authorization = `Basic ${Buffer.from(`${t.username}:${t.password ?? ''}`).toString('base64')}`;
  }
  return httpSink(endpoint.toString(), headers);
}

export function influx2Sink(t: Influx2Target): LineSink {
  const endpoint = new URL('api/v2/write', withSlash(t.url));
  endpoint.searchParams.set('org', t.org);
  endpoint.searchParams.set('bucket', t.bucket);
  endpoint.searchParams.set('precision', 'ms');
  return httpSink(endpoint.toString(), {
    'content-type': 'text/plain; charset=utf-8',
    authorization: `Token ${t.token}`,
  });
}

function httpSink(endpoint: string, headers: Record<string, string>): LineSink {
  return {
    async write(body, signal) {
      let res: Response;
      try {
        res = await fetch(endpoint, { method: 'POST', headers, body, signal });
      } catch (err) {
        throw new SinkError(`InfluxDB unreachable: ${err instanceof Error ? err.message : String(err)}`, false);
      }
      if (res.status === 204 || res.status === 200) {
        await res.body?.cancel();
        return;
      }
      const text = (await res.text().catch(() => '')).slice(0, 500);
      throw new SinkError(`InfluxDB write answered ${res.status}: ${text}`, res.status === 400 || res.status === 413, res.status);
    },
  };
}

export function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
