import { channels, parseAlertTopic, parseCabinetTopic, TOPIC_ROOT } from '../protocol/index.js';
import type { Identity } from './identity.js';

/**
 * The access rule of PROTOCOL.md, as pure functions of an identity and a topic (or filter).
 * Everything not explicitly allowed is refused.
 */

const SYS_PREFIX = '$SYS/';
const ROOT_PREFIX = `${TOPIC_ROOT}/`;

/** A topic a client may never publish to: broker-reserved (`$...`, which includes `$SYS/`) or NUL. */
function isReservedOrInvalid(topic: string): boolean {
  return topic.length === 0 || topic.startsWith('$') || topic.includes('\u0000');
}

/**
 * MQTT-1.5.3-1/2: a topic or filter with U+0000 or ill-formed UTF-8 must close the connection. The
 * packet parser decodes ill-formed UTF-8 to U+FFFD, which no Luciole topic contains either.
 */
export function isIllFormedText(s: string): boolean {
  return s.includes('\u0000') || s.includes('\uFFFD');
}

function hasWildcard(s: string): boolean {
  return s.includes('+') || s.includes('#');
}

/** MQTT filter syntax: `#` only as the whole last level, `+` only as a whole level, no NUL. */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return false;
    if (level.includes('+') && level !== '+') return false;
  }
  return true;
}

export function canPublish(identity: Identity, topic: string): boolean {
  if (isReservedOrInvalid(topic) || hasWildcard(topic)) return false;
  const parsed = parseCabinetTopic(topic);
  if (identity.role === 'cabinet') {
    return parsed !== null && parsed.cabinetId === identity.username && channels[parsed.channel].direction === 'up';
  }
  if (identity.role === 'controller') {
    if (parsed !== null) return channels[parsed.channel].direction === 'down';
    return parseAlertTopic(topic) !== null;
  }
  return false;
}

export function canSubscribe(identity: Identity, filter: string): boolean {
  if (!isValidFilter(filter)) return false;
  if (identity.role === 'cabinet') {
    // Exact topics only: a wildcard, even one that would match only its own topics, is refused so
    // that the rule stays checkable by reading the filter.
    if (hasWildcard(filter)) return false;
    const parsed = parseCabinetTopic(filter);
    return parsed !== null && parsed.cabinetId === identity.username && channels[parsed.channel].direction === 'down';
  }
  if (identity.role === 'controller') {
    // `$SYS/#` is the broker's own monitoring tree; a narrower `$SYS/...` filter sees less of it.
    if (filter.startsWith(SYS_PREFIX)) return true;
    return filter.startsWith(ROOT_PREFIX);
  }
  return false;
}
