import { RateLimitedLog, type Logger } from '../core/log.js';
import {
  CABINETS_PREFIX,
  decodePayload,
  MAX_PAYLOAD_BYTES,
  parseCabinetTopic,
  UP_CHANNELS,
  type Ack,
  type DecodeError,
  type GatewayEvent,
  type Presence,
  type Status,
  type Telemetry,
  type UpChannel,
} from '../protocol/index.js';

/** What the controller does with each valid uplink message. Handlers may throw: ingest contains it. */
export interface IngestHandlers {
  telemetry(cabinetId: string, msg: Telemetry): void;
  presence(cabinetId: string, msg: Presence): void;
  /** `retained`: a stored status replayed by the broker on subscription, not news. */
  status(cabinetId: string, msg: Status, retained: boolean): void;
  event(cabinetId: string, msg: GatewayEvent): void;
  ack(cabinetId: string, msg: Ack): void;
  /** A telemetry message refused for good whose `seq` could still be read: final for receipts. */
  invalidTelemetry(cabinetId: string, seq: number): void;
}

export interface IngestCounters {
  messagesIn: Record<string, number>;
  invalid: Record<string, number>;
  handlerErrors: number;
}

const UNKNOWN_CHANNEL = 'unknown';
const INVALID_LOG_INTERVAL_MS = 60_000;
/** Beyond this, an oversized telemetry payload is not even parsed to find its seq. */
const MAX_SEQ_SALVAGE_BYTES = 4 * MAX_PAYLOAD_BYTES;

/**
 * The controller's front door: every uplink message goes through `handle`, which never throws.
 * It parses the topic, validates the payload against the channel's schema, counts and drops
 * what is invalid (logged at most once a minute per cabinet), and dispatches the rest.
 */
export class Ingest {
  private readonly messagesIn: Record<string, number> = {};
  private readonly invalid: Record<string, number> = {};
  private handlerErrors = 0;
  private readonly invalidLog: RateLimitedLog;
  private readonly errorLog: RateLimitedLog;
  private closed = false;

  constructor(
    private readonly handlers: IngestHandlers,
    private readonly logger: Logger,
    now: () => number,
  ) {
    for (const c of UP_CHANNELS) {
      this.messagesIn[c] = 0;
      this.invalid[c] = 0;
    }
    this.invalidLog = new RateLimitedLog(logger, INVALID_LOG_INTERVAL_MS, now);
    this.errorLog = new RateLimitedLog(logger, INVALID_LOG_INTERVAL_MS, now);
  }

  /** After close, messages are dropped: no work after stop. */
  close(): void {
    this.closed = true;
  }

  counters(): IngestCounters {
    return { messagesIn: { ...this.messagesIn }, invalid: { ...this.invalid }, handlerErrors: this.handlerErrors };
  }

  handle(topic: string, payload: Uint8Array, retained = false): void {
    if (this.closed) return;
    try {
      this.dispatch(topic, payload, retained);
    } catch (err) {
      this.handlerErrors++;
      this.errorLog.warn(`handler:${topicChannel(topic)}`, { err, topic: truncate(topic) }, 'uplink handler failed');
    }
  }

  private count(bucket: Record<string, number>, channel: string): void {
    bucket[channel] = (bucket[channel] ?? 0) + 1;
  }

  private dispatch(topic: string, payload: Uint8Array, retained: boolean): void {
    const parsed = parseCabinetTopic(topic);
    if (!parsed || !isUpChannel(parsed.channel)) {
      const channel = topicChannel(topic);
      this.count(this.messagesIn, channel);
      this.count(this.invalid, channel);
      // One key for every bad topic: the bad cabinet segment is attacker-chosen and must not grow the map.
      this.invalidLog.warn('invalid-topic', { topic: truncate(topic), bytes: payload.byteLength }, 'message on an invalid topic dropped');
      return;
    }
    const { cabinetId, channel } = parsed;
    this.count(this.messagesIn, channel);
    switch (channel) {
      case 'telemetry': {
        const r = decodePayload('telemetry', payload);
        if (!r.ok) {
          this.refuse(cabinetId, channel, r.error);
          const seq = salvageSeq(payload);
          if (seq !== null) this.handlers.invalidTelemetry(cabinetId, seq);
          return;
        }
        this.handlers.telemetry(cabinetId, r.value);
        return;
      }
      case 'presence': {
        const r = decodePayload('presence', payload);
        if (!r.ok) return this.refuse(cabinetId, channel, r.error);
        this.handlers.presence(cabinetId, r.value);
        return;
      }
      case 'status': {
        // An empty retained payload clears a status: not a message.
        if (payload.byteLength === 0) return;
        const r = decodePayload('status', payload);
        if (!r.ok) return this.refuse(cabinetId, channel, r.error);
        this.handlers.status(cabinetId, r.value, retained);
        return;
      }
      case 'event': {
        const r = decodePayload('event', payload);
        if (!r.ok) return this.refuse(cabinetId, channel, r.error);
        this.handlers.event(cabinetId, r.value);
        return;
      }
      case 'ack': {
        const r = decodePayload('ack', payload);
        if (!r.ok) return this.refuse(cabinetId, channel, r.error);
        this.handlers.ack(cabinetId, r.value);
        return;
      }
    }
  }

  private refuse(cabinetId: string, channel: UpChannel, error: DecodeError): void {
    this.count(this.invalid, channel);
    this.invalidLog.warn(
      cabinetId,
      { cabinetId, channel, code: error.code, field: error.field, reason: error.message.slice(0, 200) },
      'invalid uplink message dropped',
    );
  }
}

function isUpChannel(c: string): c is UpChannel {
  return (UP_CHANNELS as readonly string[]).includes(c);
}

/** The channel segment of a topic we subscribed to, for counting; 'unknown' if not an up channel. */
function topicChannel(topic: string): string {
  if (!topic.startsWith(CABINETS_PREFIX)) return UNKNOWN_CHANNEL;
  const last = topic.slice(topic.lastIndexOf('/') + 1);
  return isUpChannel(last) ? last : UNKNOWN_CHANNEL;
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/**
 * The `seq` of a telemetry message refused as invalid, when it can still be read as a
 * non-negative integer: PROTOCOL.md makes such a seq final ("refused for good as invalid"),
 * otherwise the gateway would resend a message that can never be stored, forever.
 */
export function salvageSeq(payload: Uint8Array): number | null {
  if (payload.byteLength > MAX_SEQ_SALVAGE_BYTES) return null;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
  const seq = (json as Record<string, unknown>).seq;
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : null;
}
