// @ts-check
import { tokenStore } from './api.js';
import { createSseParser } from './sse-parser.js';

/**
 * Reads /api/stream with fetch (the token in a header, never in the URL), hands each event
 * over, and reconnects with a growing delay when the stream ends or fails.
 *
 * @param {{
 *   token: () => string | null,
 *   onEvent: (event: any) => void,
 *   onState: (state: 'connecting' | 'live' | 'reconnecting') => void,
 *   onUnauthorized: () => void,
 * }} opts
 * @returns {() => void} stops the stream for good
 */
export function startLiveStream(opts) {
  let stopped = false;
  let controller = new AbortController();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let retryTimer;
  let delayMs = 1000;
  const MAX_DELAY_MS = 30_000;

  const connect = async () => {
    opts.onState('connecting');
    controller = new AbortController();
    const res = await fetch('/api/stream', {
      headers: { Authorization: `Bearer ${opts.token() ?? ''}`, Accept: 'text/event-stream' },
      cache: 'no-store',
      signal: controller.signal,
    });
    if (res.status === 401) {
      stopped = true;
      opts.onUnauthorized();
      return;
    }
    if (!res.ok || !res.body) throw new Error(`flux indisponible (${res.status})`);
    opts.onState('live');
    delayMs = 1000;
    const parser = createSseParser((message) => {
      try {
        opts.onEvent(JSON.parse(message.data));
      } catch (e) {
        console.warn('événement illisible ignoré', e);
      }
    });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.push(value);
    }
  };

  const loop = () => {
    connect()
      .catch((e) => {
        if (!stopped) console.warn('flux en direct interrompu', e);
      })
      .finally(() => {
        if (stopped) return;
        opts.onState('reconnecting');
        retryTimer = setTimeout(loop, delayMs);
        delayMs = Math.min(MAX_DELAY_MS, delayMs * 2);
      });
  };
  loop();

  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    controller.abort();
  };
}

/**
 * The live stream of a signed-in page: stopped when the user leaves, a 401 ends the session, and
 * `resync` runs after each reconnection (the events missed while the stream was down).
 * @param {{ onLeave: (stop: () => void) => void, expire: () => void }} session
 * @param {{ onEvent: (event: any) => void, showLive: (state: 'connecting' | 'live' | 'reconnecting') => void, resync: () => void }} opts
 */
export function followLiveStream(session, opts) {
  let connectedOnce = false;
  const stop = startLiveStream({
    token: () => tokenStore.get(),
    onEvent: opts.onEvent,
    onState: (s) => {
      opts.showLive(s);
      if (s === 'live') {
        if (connectedOnce) opts.resync();
        connectedOnce = true;
      }
    },
    onUnauthorized: () => session.expire(),
  });
  session.onLeave(stop);
}
