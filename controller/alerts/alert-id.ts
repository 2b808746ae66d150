import { ID_PATTERN } from '../../protocol/index.js';

/**
 * The id of one alert episode: `{kind}.{subject}.{openedAt base 36}`: a new outage after a
 * resolved one gets a new id, so the history of each episode is kept.
 */
export function alertId(kind: string, subject: string, openedAt: number): string {
  const id = `${kind}.${subject}.${Math.max(0, openedAt).toString(36)}`;
  if (ID_PATTERN.test(id)) return id;
  // Too long with a 64-char subject: keep a readable prefix and a hash of the whole.
  return `${id.slice(0, 54)}.${fnv1a(id)}`;
}

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
