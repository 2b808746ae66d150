import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { alertTopic, allCabinetsFilter, cabinetTopic, CHANNELS, DOWN_CHANNELS, UP_CHANNELS } from '../protocol/index.js';
import { canPublish, canSubscribe, isValidFilter } from './acl.js';
import type { Identity } from './identity.js';

const cabA: Identity = { username: 'CAB-A', role: 'cabinet' };
const controller: Identity = { username: 'controller', role: 'controller' };

describe('canPublish', () => {
  it.each(UP_CHANNELS)('a cabinet publishes its own %s channel', (ch) => {
    expect(canPublish(cabA, cabinetTopic('CAB-A', ch))).toBe(true);
  });

  it.each(DOWN_CHANNELS)('a cabinet does not publish its own down channel %s', (ch) => {
    expect(canPublish(cabA, cabinetTopic('CAB-A', ch))).toBe(false);
  });

  it.each(CHANNELS)('a cabinet publishes nothing on another cabinet (%s)', (ch) => {
    expect(canPublish(cabA, cabinetTopic('CAB-B', ch))).toBe(false);
    // Prefix tricks: a longer id that starts with its own.
    expect(canPublish(cabA, cabinetTopic('CAB-AB', ch))).toBe(false);
  });

  it('a cabinet publishes no alert', () => {
    expect(canPublish(cabA, alertTopic('a1'))).toBe(false);
  });

  it.each(DOWN_CHANNELS)("the controller publishes any cabinet's %s", (ch) => {
    expect(canPublish(controller, cabinetTopic('CAB-A', ch))).toBe(true);
    expect(canPublish(controller, cabinetTopic('CAB-B', ch))).toBe(true);
  });

  it.each(UP_CHANNELS)('the controller does not publish an up channel (%s)', (ch) => {
    expect(canPublish(controller, cabinetTopic('CAB-A', ch))).toBe(false);
  });

  it('the controller publishes alerts, with a valid id only', () => {
    expect(canPublish(controller, alertTopic('door-CAB-A.1'))).toBe(true);
    expect(canPublish(controller, 'luciole/v1/alerts/')).toBe(false);
    expect(canPublish(controller, 'luciole/v1/alerts/a/b')).toBe(false);
  });

  it.each([
    '',
    '$SYS/broker/new/clients',
    '$SYS/x',
    '$share/g/luciole/v1/cabinets/CAB-A/status',
    'luciole/v1/cabinets/CAB-A/status/extra',
    'luciole/v1/cabinets/CAB-A/',
    'luciole/v1/cabinets/CAB-A',
    'luciole/v1/cabinets//status',
    'luciole/v1/cabinets/CAB A/status',
    'luciole/v1/cabinets/CAB-A/Status',
    'luciole/v1/cabinets/CAB-A/unknown',
    'luciole/v2/cabinets/CAB-A/status',
    '/luciole/v1/cabinets/CAB-A/status',
    'luciole/v1/cabinets/+/status',
    'luciole/v1/cabinets/CAB-A/#',
    'luciole/v1/cabinets/CAB-A/status\u0000',
    `luciole/v1/cabinets/${'x'.repeat(65)}/status`,
  ])('malformed or reserved topic %j is refused to both roles', (topic) => {
    expect(canPublish(cabA, topic)).toBe(false);
    expect(canPublish(controller, topic)).toBe(false);
  });

  it("a cabinet's username that is not an id never matches a topic", () => {
    const odd: Identity = { username: '+', role: 'cabinet' };
    expect(canPublish(odd, 'luciole/v1/cabinets/+/status')).toBe(false);
  });

  it('property: a cabinet may publish a topic iff it is its own up channel', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_.-]{1,8}$/);
    fc.assert(
      fc.property(id, id, fc.constantFrom(...CHANNELS), (me, other, ch) => {
        const ident: Identity = { username: me, role: 'cabinet' };
        const expected = me === other && (UP_CHANNELS as readonly string[]).includes(ch);
        expect(canPublish(ident, cabinetTopic(other, ch))).toBe(expected);
      }),
    );
  });
});

describe('canSubscribe', () => {
  it.each(DOWN_CHANNELS)('a cabinet subscribes to its own %s channel', (ch) => {
    expect(canSubscribe(cabA, cabinetTopic('CAB-A', ch))).toBe(true);
  });

  it.each(UP_CHANNELS)('a cabinet does not subscribe to its own up channel %s', (ch) => {
    expect(canSubscribe(cabA, cabinetTopic('CAB-A', ch))).toBe(false);
  });

  it.each(CHANNELS)("a cabinet does not subscribe to another cabinet's %s", (ch) => {
    expect(canSubscribe(cabA, cabinetTopic('CAB-B', ch))).toBe(false);
  });

  it.each([
    '#',
    '+',
    'luciole/#',
    'luciole/v1/#',
    'luciole/v1/cabinets/+/policy',
    'luciole/v1/cabinets/CAB-A/#',
    'luciole/v1/cabinets/CAB-A/+',
    '+/v1/cabinets/CAB-A/policy',
    '$SYS/#',
    '$share/g/luciole/v1/cabinets/CAB-A/policy',
  ])('a cabinet may not use the filter %j', (filter) => {
    expect(canSubscribe(cabA, filter)).toBe(false);
  });

  it.each([
    allCabinetsFilter('telemetry'),
    allCabinetsFilter('status'),
    'luciole/v1/cabinets/+/+',
    'luciole/v1/#',
    'luciole/v1/cabinets/CAB-A/ack',
    'luciole/v1/alerts/+',
    '$SYS/#',
    '$SYS/+/new/clients',
  ])('the controller may subscribe to %j', (filter) => {
    expect(canSubscribe(controller, filter)).toBe(true);
  });

  it.each([
    '#',
    '+/#',
    'luciole/#',
    'luciole/v1',
    'luciole/v2/#',
    'other/topic',
    '$share/g/luciole/v1/#',
    'luciole/v1/cabinets/#/status',
    'luciole/v1/cab+/x',
    'luciole/v1/x#',
    '',
    'luciole/v1/\u0000',
  ])('the controller may not subscribe to %j', (filter) => {
    expect(canSubscribe(controller, filter)).toBe(false);
  });
});

describe('isValidFilter', () => {
  it('accepts MQTT filters and refuses misplaced wildcards', () => {
    expect(isValidFilter('a/+/c/#')).toBe(true);
    expect(isValidFilter('#')).toBe(true);
    expect(isValidFilter('a/#/c')).toBe(false);
    expect(isValidFilter('a/b#')).toBe(false);
    expect(isValidFilter('a/b+/c')).toBe(false);
    expect(isValidFilter('')).toBe(false);
  });
});
