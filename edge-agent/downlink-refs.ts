import { ID_PATTERN } from '../protocol/index.js';

/**
 * What can still be read of a downlink that failed validation, so the refusal can be
 * acknowledged against the right policy or command.
 */
function rawObject(payload: Uint8Array | string): Record<string, unknown> | null {
  try {
    const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8');
    const json: unknown = JSON.parse(text);
    return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** `policy:{id}@{version}` when both can be read, else `policy:unknown@0`. */
export function policyRefOfRaw(payload: Uint8Array | string): string {
  const o = rawObject(payload);
  const id = o?.id;
  const version = o?.version;
  if (typeof id === 'string' && ID_PATTERN.test(id) && Number.isSafeInteger(version) && (version as number) >= 0) {
    return `policy:${id}@${version as number}`;
  }
  return 'policy:unknown@0';
}

/** The command id when it can be read, else null (nothing to answer). */
export function commandIdOfRaw(payload: Uint8Array | string): string | null {
  const id = rawObject(payload)?.id;
  return typeof id === 'string' && ID_PATTERN.test(id) ? id : null;
}

/** Ack `error` is at most 1024 characters. */
export function ackError(message: string): string {
  return message.length > 1024 ? `${message.slice(0, 1021)}...` : message;
}
