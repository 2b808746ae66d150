import { describe, it, expect } from 'vitest';
import { describeTelemetryConfig, parseTelemetryConfig } from './telemetry-config.js';

describe('telemetry config', () => {
  it('defaults to the embedded SQLite store', () => {
    expect(parseTelemetryConfig({}, {})).toMatchObject({ telemetry: 'sqlite', influxDb: 'luciole', rawRetentionDays: 90 });
  });

  it('lets the environment override flags', () => {
    const c = parseTelemetryConfig(
      { telemetry: 'sqlite', influxUrl: 'http://flag:8086' },
      { LUCIOLE_TELEMETRY: 'influxdb1', LUCIOLE_INFLUX_URL: 'http://env:8086', LUCIOLE_INFLUX_DB: 'town', LUCIOLE_INFLUX_ORG: '' },
    );
    expect(c).toMatchObject({ telemetry: 'influxdb1', influxUrl: 'http://env:8086', influxDb: 'town' });
  });

  it('refuses a store without what it needs, naming the field', () => {
    const issues = (input: Record<string, unknown>): string[] => {
      try {
        parseTelemetryConfig(input, {});
        return [];
      } catch (e) {
        return (e as { issues: Array<{ path: string[] }> }).issues.map((i) => i.path.join('.'));
      }
    };
    expect(issues({ telemetry: 'influxdb1' })).toEqual(['influxUrl']);
    expect(issues({ telemetry: 'influxdb1', influxUrl: 'http://h:8086', influxUsername: 'u' })).toEqual(['influxPassword']);
    expect(issues({ telemetry: 'influxdb2', influxUrl: 'http://h:8086' }).sort()).toEqual(['influxOrg', 'influxToken']);
    expect(issues({ telemetry: 'influxdb3' })).toEqual(['telemetry']);
    expect(issues({ telemetry: 'influxdb1', influxUrl: 'not a url' })).toEqual(['influxUrl']);
  });

  it('never shows credentials when described for a log', () => {
    const c = parseTelemetryConfig(
      { telemetry: 'influxdb2', influxUrl: 'http://user:hunter2@h:8086/?token=abc' },
      { LUCIOLE_INFLUX_TOKEN: 'sekret-token', LUCIOLE_INFLUX_ORG: 'ville', LUCIOLE_INFLUX_PASSWORD: 'pw-xyz' },
    );
    const text = JSON.stringify(describeTelemetryConfig(c));
    for (const secret of ['hunter2', 'sekret-token', 'pw-xyz', 'abc']) expect(text).not.toContain(secret);
    expect(text).toContain('ville');
  });
});
