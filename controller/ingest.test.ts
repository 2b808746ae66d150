import { describe, expect, it } from 'vitest';
import { silentLogger } from '../core/log.js';
import { cabinetTopic, type Ack, type GatewayEvent, type Presence, type Status, type Telemetry } from '../protocol/index.js';
import { Ingest, salvageSeq, type IngestHandlers } from './ingest.js';

function recorder(): { handlers: IngestHandlers; calls: Array<[string, string, unknown]> } {
  const calls: Array<[string, string, unknown]> = [];
  return {
    calls,
    handlers: {
      telemetry: (c, m: Telemetry) => calls.push(['telemetry', c, m]),
      presence: (c, m: Presence) => calls.push(['presence', c, m]),
      status: (c, m: Status) => calls.push(['status', c, m]),
      event: (c, m: GatewayEvent) => calls.push(['event', c, m]),
      ack: (c, m: Ack) => calls.push(['ack', c, m]),
      invalidTelemetry: (c, seq) => calls.push(['invalidTelemetry', c, seq]),
    },
  };
}

const enc = (x: unknown): Uint8Array => new TextEncoder().encode(typeof x === 'string' ? x : JSON.stringify(x));

describe('Ingest', () => {
  it('dispatches valid messages with defaults applied', () => {
    const { handlers, calls } = recorder();
    const ingest = new Ingest(handlers, silentLogger(), () => 0);
    ingest.handle(cabinetTopic('C1', 'telemetry'), enc({ v: 1, seq: 3, ts: 1000, lamps: [] }));
    ingest.handle(cabinetTopic('C1', 'status'), enc({ v: 1, online: false }), true);
    expect(calls[0]).toEqual(['telemetry', 'C1', { v: 1, seq: 3, ts: 1000, periodS: 60, lamps: [] }]);
    expect(calls[1]).toEqual(['status', 'C1', { v: 1, online: false }]);
    expect(ingest.counters().messagesIn).toMatchObject({ telemetry: 1, status: 1 });
    expect(ingest.counters().invalid).toMatchObject({ telemetry: 0, status: 0 });
  });

  it('counts garbage per channel, salvages a readable telemetry seq, and never throws', () => {
    const { handlers, calls } = recorder();
    const ingest = new Ingest(handlers, silentLogger(), () => 0);
    ingest.handle(cabinetTopic('C1', 'telemetry'), enc('{not json'));
    ingest.handle(cabinetTopic('C1', 'telemetry'), enc({ v: 1, seq: 42, ts: 'yesterday', lamps: [] }));
    ingest.handle(cabinetTopic('C1', 'telemetry'), enc({ v: 1, seq: -1, ts: 1, lamps: [] }));
    ingest.handle(cabinetTopic('C1', 'presence'), enc({ v: 1, ts: 1, sensorId: 'S', lampId: 'L', kind: 'ghost', count: 1 }));
    ingest.handle(cabinetTopic('C1', 'ack'), new Uint8Array(300 * 1024).fill(0x20));
    ingest.handle('luciole/v1/cabinets/bad$id/event', enc({ v: 1, ts: 1, code: 'reboot' }));
    ingest.handle('luciole/v1/cabinets//status', enc({ v: 1, online: true }));
    expect(ingest.counters().invalid).toMatchObject({ telemetry: 3, presence: 1, ack: 1, event: 1, status: 1 });
    expect(calls).toEqual([['invalidTelemetry', 'C1', 42]]);
  });

  it('contains a throwing handler and keeps going', () => {
    const { handlers, calls } = recorder();
    const ingest = new Ingest(
      { ...handlers, event: () => { throw new Error('boom'); } },
      silentLogger(),
      () => 0,
    );
    expect(() => ingest.handle(cabinetTopic('C1', 'event'), enc({ v: 1, ts: 1, code: 'reboot' }))).not.toThrow();
    ingest.handle(cabinetTopic('C1', 'ack'), enc({ v: 1, ts: 1, ref: 'command:x', ok: true }));
    expect(ingest.counters().handlerErrors).toBe(1);
    expect(calls.map((c) => c[0])).toEqual(['ack']);
  });

  it('drops everything after close()', () => {
    const { handlers, calls } = recorder();
    const ingest = new Ingest(handlers, silentLogger(), () => 0);
    ingest.close();
    ingest.handle(cabinetTopic('C1', 'telemetry'), enc({ v: 1, seq: 3, ts: 1000, lamps: [] }));
    expect(calls).toEqual([]);
  });

  it('salvageSeq reads only non-negative safe integers', () => {
    expect(salvageSeq(enc({ seq: 7 }))).toBe(7);
    expect(salvageSeq(enc({ seq: 1.5 }))).toBeNull();
    expect(salvageSeq(enc({ seq: '7' }))).toBeNull();
    expect(salvageSeq(enc([7]))).toBeNull();
    expect(salvageSeq(enc('nope'))).toBeNull();
  });
});
