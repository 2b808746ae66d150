import { z } from 'zod';
import { ID_PATTERN } from './ids.js';
import {
  ackSchema,
  commandSchema,
  eventSchema,
  policySchema,
  presenceSchema,
  receiptSchema,
  statusSchema,
  telemetrySchema,
} from './messages.js';

export const TOPIC_ROOT = 'luciole/v1';
export const CABINETS_PREFIX = `${TOPIC_ROOT}/cabinets/`;
export const ALERTS_PREFIX = `${TOPIC_ROOT}/alerts/`;

/** The one typed map from channel to payload schema, direction, QoS and retain flag. */
export const channels = {
  status: { schema: statusSchema, direction: 'up', qos: 1, retain: true },
  telemetry: { schema: telemetrySchema, direction: 'up', qos: 1, retain: false },
  presence: { schema: presenceSchema, direction: 'up', qos: 1, retain: false },
  event: { schema: eventSchema, direction: 'up', qos: 1, retain: false },
  ack: { schema: ackSchema, direction: 'up', qos: 1, retain: false },
  policy: { schema: policySchema, direction: 'down', qos: 1, retain: true },
  command: { schema: commandSchema, direction: 'down', qos: 1, retain: false },
  receipt: { schema: receiptSchema, direction: 'down', qos: 1, retain: false },
} as const;

export type Channel = keyof typeof channels;
export type UpChannel = { [K in Channel]: (typeof channels)[K]['direction'] extends 'up' ? K : never }[Channel];
export type DownChannel = Exclude<Channel, UpChannel>;
export type PayloadOf<C extends Channel> = z.infer<(typeof channels)[C]['schema']>;
/** What a sender writes: fields with defaults may be left out. */
export type InputOf<C extends Channel> = z.input<(typeof channels)[C]['schema']>;

export const CHANNELS = Object.keys(channels) as Channel[];
export const UP_CHANNELS = CHANNELS.filter((c) => channels[c].direction === 'up') as UpChannel[];
export const DOWN_CHANNELS = CHANNELS.filter((c) => channels[c].direction === 'down') as DownChannel[];

export const MAX_PAYLOAD_BYTES = 256 * 1024;

export function isChannel(s: string): s is Channel {
  return Object.hasOwn(channels, s);
}

export function cabinetTopic(cabinetId: string, channel: Channel): string {
  if (!ID_PATTERN.test(cabinetId)) throw new Error(`invalid cabinet id: ${JSON.stringify(cabinetId)}`);
  return `${CABINETS_PREFIX}${cabinetId}/${channel}`;
}

export function alertTopic(alertId: string): string {
  if (!ID_PATTERN.test(alertId)) throw new Error(`invalid alert id: ${JSON.stringify(alertId)}`);
  return `${ALERTS_PREFIX}${alertId}`;
}

/** A subscription filter for one channel of every cabinet, e.g. `luciole/v1/cabinets/+/telemetry`. */
export function allCabinetsFilter(channel: Channel): string {
  return `${CABINETS_PREFIX}+/${channel}`;
}

export interface ParsedCabinetTopic {
  cabinetId: string;
  channel: Channel;
}

/** Parses `luciole/v1/cabinets/{cabinetId}/{channel}`; null for anything else (wildcards included). */
export function parseCabinetTopic(topic: string): ParsedCabinetTopic | null {
  if (!topic.startsWith(CABINETS_PREFIX)) return null;
  const rest = topic.slice(CABINETS_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return null;
  const cabinetId = rest.slice(0, slash);
  const channel = rest.slice(slash + 1);
  if (!ID_PATTERN.test(cabinetId) || !isChannel(channel)) return null;
  return { cabinetId, channel };
}

export function parseAlertTopic(topic: string): string | null {
  if (!topic.startsWith(ALERTS_PREFIX)) return null;
  const id = topic.slice(ALERTS_PREFIX.length);
  return ID_PATTERN.test(id) ? id : null;
}
