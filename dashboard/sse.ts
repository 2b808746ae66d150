import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { liveEventSchema, type LiveEvent } from '../controller/views.js';
import type { ControllerApi } from '../controller/api.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** A client this far behind is cut off; it reconnects and reloads, rather than grow our memory. */
const MAX_BUFFERED_BYTES = 1 << 20;

/** One SSE frame: `event: <type>` and the event as one line of JSON. */
export function formatSseFrame(event: LiveEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export interface LiveStreamOptions {
  controller: ControllerApi;
  heartbeatMs: number;
  log: FastifyBaseLogger;
}

/**
 * GET /api/stream: the controller's live events as Server-Sent Events. The route is behind the
 * same bearer auth as the rest of /api (the UI reads it with fetch, so the token never goes
 * in a URL). Every open stream is ended when the app closes, or close() would wait on them.
 */
export function registerLiveStream(app: FastifyInstance, opts: LiveStreamOptions): void {
  const open = new Set<() => void>();
  let dropped = 0;

  app.get(
    '/api/stream',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Live events (text/event-stream): lamps, cabinet, presence, alert; a comment line every 15 s',
        produces: ['text/event-stream'],
      },
    },
    (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        // A stream's socket is never reused: closing it with the stream lets the server shut down at once.
        Connection: 'close',
        // Reverse proxies (nginx) must pass events on as they come.
        'X-Accel-Buffering': 'no',
      });
      res.write(': luciole\n\n');

      let closed = false;
      const close = (): void => {
        if (closed) return;
        closed = true;
        unsubscribe();
        clearInterval(heartbeat);
        open.delete(close);
        res.end();
      };
      const send = (chunk: string): void => {
        if (closed) return;
        if (res.writableLength > MAX_BUFFERED_BYTES) {
          opts.log.warn({ reqId: request.id }, 'live stream client too slow, closing');
          close();
          return;
        }
        res.write(chunk);
      };
      const unsubscribe = opts.controller.subscribe((event) => {
        // Only what the schema names leaves the process; a malformed event is counted and dropped.
        const parsed = liveEventSchema.safeParse(event);
        if (!parsed.success) {
          dropped++;
          opts.log.warn({ dropped, issue: parsed.error.issues[0]?.path.join('.') }, 'invalid live event dropped');
          return;
        }
        send(formatSseFrame(parsed.data));
      });
      const heartbeat = setInterval(() => send(': heartbeat\n\n'), opts.heartbeatMs);
      open.add(close);
      // The response's 'close' is the connection going away (the request's fires once it is read).
      res.on('close', close);
      res.on('error', close);
    },
  );

  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });
}
