import { describe, expect, it } from 'vitest';
import {
  alertTopic,
  allCabinetsFilter,
  cabinetTopic,
  decodePayload,
  encodePayload,
  parseAlertTopic,
  parseCabinetTopic,
  UP_CHANNELS,
  DOWN_CHANNELS,
} from './index.js';

describe('topics', () => {
  it('builds and parses every channel', () => {
    for (const channel of [...UP_CHANNELS, ...DOWN_CHANNELS]) {
      const topic = cabinetTopic('CAB-01', channel);
      expect(topic).toBe(`luciole/v1/cabinets/CAB-01/${channel}`);
      expect(parseCabinetTopic(topic)).toEqual({ cabinetId: 'CAB-01', channel });
    }
    expect(UP_CHANNELS.sort()).toEqual(['ack', 'event', 'presence', 'status', 'telemetry']);
    expect(DOWN_CHANNELS.sort()).toEqual(['command', 'policy', 'receipt']);
  });

  it('rejects anything that is not exactly a cabinet topic', () => {
    for (const t of [
      'luciole/v1/cabinets/+/telemetry',
      'luciole/v1/cabinets/#',
      'luciole/v1/cabinets/CAB-01/telemetry/extra',
      'luciole/v1/cabinets/CAB-01/unknown',
      'luciole/v2/cabinets/CAB-01/telemetry',
      'luciole/v1/cabinets//telemetry',
      `luciole/v1/cabinets/${'x'.repeat(65)}/telemetry`,
    ]) {
      expect(parseCabinetTopic(t), t).toBeNull();
    }
    expect(() => cabinetTopic('bad/id', 'status')).toThrow(/invalid cabinet id/);
    expect(allCabinetsFilter('presence')).toBe('luciole/v1/cabinets/+/presence');
  });

  it('builds and parses alert topics', () => {
    expect(alertTopic('cabinet_offline.CAB-01')).toBe('luciole/v1/alerts/cabinet_offline.CAB-01');
    expect(parseAlertTopic('luciole/v1/alerts/cabinet_offline.CAB-01')).toBe('cabinet_offline.CAB-01');
    expect(parseAlertTopic('luciole/v1/alerts/+')).toBeNull();
  });
});

describe('codec', () => {
  const telemetry = {
    v: 1,
    seq: 1,
    ts: 1763758800000,
    periodS: 60,
    lamps: [{ id: 'L1', level: 40, powerW: 21.4, energyWh: 10, fault: null }],
  };

  it('decodes a valid payload and strips unknown fields', () => {
    const r = decodePayload('telemetry', JSON.stringify({ ...telemetry, extra: 'ignored' }));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.seq).toBe(1);
      expect('extra' in r.value).toBe(false);
    }
  });

  it('names the offending field', () => {
    const bad = { ...telemetry, lamps: [{ ...telemetry.lamps[0], level: 140 }] };
    const r = decodePayload('telemetry', JSON.stringify(bad));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('LUCIOLE_ERR_PAYLOAD_INVALID');
      expect(r.error.field).toBe('lamps.0.level');
      expect(r.error.message).toMatch(/^lamps\.0\.level: /);
    }
  });

  it('refuses non-JSON, wrong version and oversize payloads without throwing', () => {
    const notJson = decodePayload('status', new TextEncoder().encode('{oops'));
    expect(notJson.ok || notJson.error.code).toBe('LUCIOLE_ERR_PAYLOAD_NOT_JSON');
    const v2 = decodePayload('status', '{"v":2,"online":true}');
    expect(v2.ok || v2.error.field).toBe('v');
    const huge = decodePayload('event', 'x'.repeat(256 * 1024 + 1));
    expect(huge.ok || huge.error.code).toBe('LUCIOLE_ERR_PAYLOAD_TOO_LARGE');
    const proto = decodePayload('status', '{"v":1,"online":true,"__proto__":{"polluted":1}}');
    expect(proto.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('checks policy internal references and time expressions', () => {
    const policy = {
      v: 1,
      id: 'p',
      version: 1,
      issuedAt: 0,
      site: { lat: 45.7, lon: 4.8, timezone: 'Europe/Paris' },
      failsafeLevel: 100,
      profiles: { a: { schedule: [{ from: 'dusk', to: '25:00', level: 50 }] } },
      lamps: { L1: { profile: 'b' } },
    };
    const r = decodePayload('policy', JSON.stringify(policy));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.field).toBe('profiles.a.schedule.0.to');
    policy.profiles.a.schedule[0]!.to = 'dawn-10';
    const r2 = decodePayload('policy', JSON.stringify(policy));
    expect(r2.ok || r2.error.field).toBe('lamps.L1.profile');
    const r3 = decodePayload('policy', JSON.stringify({ ...policy, site: { ...policy.site, timezone: 'Mars/Olympus' } }));
    expect(r3.ok || r3.error.field).toBe('site.timezone');
  });

  it('refuses to encode an invalid message', () => {
    expect(() => encodePayload('receipt', { v: 1, ts: 1, seqs: [[5, 3]] })).toThrow(/seqs\.0/);
    expect(encodePayload('receipt', { v: 1, ts: 1, seqs: [[3, 5]] })).toBe('{"v":1,"ts":1,"seqs":[[3,5]]}');
  });
});
