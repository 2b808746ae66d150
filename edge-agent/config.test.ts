import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LucioleError } from '../core/errors.js';
import { loadEdgeConfig } from './config.js';
import { removeDir, tempDir } from './test-support.js';

const base = {
  cabinetId: 'CAB-01',
  brokerUrl: 'mqtt://127.0.0.1:1883',
  password: 's3cret',
  dataDir: 'data',
  site: { lat: 45.764, lon: 4.8357, timezone: 'Europe/Paris' },
  lamps: [{ id: 'LYS-0001', nominalPowerW: 40, sensorId: 'S-1' }],
};

describe('loadEdgeConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => removeDir(dir));
  const write = (o: unknown): string => {
    const f = path.join(dir, 'edge.json');
    fs.writeFileSync(f, JSON.stringify(o));
    return f;
  };

  it('applies defaults and resolves dataDir next to the file', () => {
    const c = loadEdgeConfig(write(base), {});
    expect(c.username).toBe('CAB-01');
    expect(c.periodS).toBe(60);
    expect(c.tickMs).toBe(1000);
    expect(c.failsafeLevel).toBe(100);
    expect(c.outboxMaxBytes).toBe(50 * 1024 * 1024);
    expect(c.dataDir).toBe(path.join(dir, 'data'));
  });

  it('environment overrides the file', () => {
    const c = loadEdgeConfig(write(base), {
      LUCIOLE_BROKER_URL: 'mqtts://broker.example:8883',
      LUCIOLE_CABINET_ID: 'CAB-02',
      LUCIOLE_EDGE_PASSWORD: 'from-env',
    });
    expect(c.brokerUrl).toBe('mqtts://broker.example:8883');
    expect(c.cabinetId).toBe('CAB-02');
    expect(c.username).toBe('CAB-02');
    expect(c.password).toBe('from-env');
  });

  it('refuses to start without a password, naming the field', () => {
    const { password: _omit, ...noPassword } = base;
    void _omit;
    const f = write(noPassword);
    expect(() => loadEdgeConfig(f, {})).toThrow(/password: is required/);
    try {
      loadEdgeConfig(write({ ...base, password: '' }), {});
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(LucioleError);
      expect((e as LucioleError).code).toBe('LUCIOLE_ERR_CONFIG_INVALID');
      expect((e as LucioleError).field).toBe('password');
    }
  });

  it('names the offending nested field', () => {
    expect(() => loadEdgeConfig(write({ ...base, lamps: [{ id: 'bad id', nominalPowerW: 40 }] }), {})).toThrow(
      /lamps\.0\.id/,
    );
    expect(() =>
      loadEdgeConfig(write({ ...base, lamps: [base.lamps[0], base.lamps[0]] }), {}),
    ).toThrow(/lamps\.1\.id: duplicate/);
  });
});
