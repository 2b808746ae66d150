import type { z } from 'zod';
import { channels, MAX_PAYLOAD_BYTES, type Channel, type InputOf, type PayloadOf } from './topics.js';

// Web APIs rather than Buffer: this module is also loaded by the browser UI.
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

/** Why a payload was refused, with the field named: what a log line and a counter need. */
export interface DecodeError {
  code: 'LUCIOLE_ERR_PAYLOAD_TOO_LARGE' | 'LUCIOLE_ERR_PAYLOAD_NOT_JSON' | 'LUCIOLE_ERR_PAYLOAD_INVALID';
  message: string;
  /** Dotted path of the first offending field, '' for the whole payload. */
  field: string;
}

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: DecodeError };

export function formatIssuePath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => String(p)).join('.');
}

export function firstIssue(error: z.ZodError): DecodeError {
  const issue = error.issues[0];
  const field = issue ? formatIssuePath(issue.path) : '';
  return {
    code: 'LUCIOLE_ERR_PAYLOAD_INVALID',
    field,
    message: `${field || '(payload)'}: ${issue?.message ?? 'invalid'}`,
  };
}

/** Decodes a raw MQTT payload of `channel`; never throws. */
export function decodePayload<C extends Channel>(
  channel: C,
  payload: Uint8Array | string,
): DecodeResult<PayloadOf<C>> {
  const bytes = typeof payload === 'string' ? utf8Encoder.encode(payload) : payload;
  const size = bytes.byteLength;
  if (size > MAX_PAYLOAD_BYTES) {
    return {
      ok: false,
      error: { code: 'LUCIOLE_ERR_PAYLOAD_TOO_LARGE', field: '', message: `payload of ${size} bytes exceeds 256 KiB` },
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === 'string' ? payload : utf8Decoder.decode(bytes));
  } catch (e) {
    return {
      ok: false,
      error: { code: 'LUCIOLE_ERR_PAYLOAD_NOT_JSON', field: '', message: `not JSON: ${(e as Error).message}` },
    };
  }
  const parsed = channels[channel].schema.safeParse(json);
  if (!parsed.success) return { ok: false, error: firstIssue(parsed.error) };
  return { ok: true, value: parsed.data as PayloadOf<C> };
}

/** Validates then serialises an outgoing message, so nothing invalid ever leaves a process. */
export function encodePayload<C extends Channel>(channel: C, message: InputOf<C>): string {
  const parsed = channels[channel].schema.safeParse(message);
  if (!parsed.success) {
    const e = firstIssue(parsed.error);
    throw new Error(`refusing to send an invalid ${channel} message: ${e.message}`);
  }
  return JSON.stringify(message);
}
