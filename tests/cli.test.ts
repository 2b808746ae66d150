import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CredentialStore } from '../broker/credentials.js';
import { openConfigStore } from '../controller/config-store.js';
import { generateTown, townInventory } from '../sim/town.js';
import { main } from '../cli/main.js';
import { configDbPath } from '../cli/server.js';
import { tempDir } from './helpers.js';

/** The operator contract of the `luciole` command, through its entry point. */
describe('luciole command', () => {
  let tmp: ReturnType<typeof tempDir>;
  let printed: string[];

  beforeEach(() => {
    tmp = tempDir('cli');
    printed = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    tmp.remove();
  });

  const lastJson = () => JSON.parse(printed.at(-1)!.trim()) as Record<string, unknown>;

  it('cabinet credentials prints a secret, and a new one revokes the old', async () => {
    await main(['cabinet', 'credentials', 'ARM-01', '--data-dir', tmp.dir]);
    const first = lastJson();
    expect(first.username).toBe('ARM-01');
    expect(String(first.password).length).toBeGreaterThanOrEqual(32);
    await main(['cabinet', 'credentials', 'ARM-01', '--data-dir', tmp.dir]);
    const second = lastJson();
    expect(second.password).not.toBe(first.password);

    const db = new Database(configDbPath(tmp.dir));
    const creds = new CredentialStore(db);
    creds.init();
    expect(await creds.verify('ARM-01', String(first.password))).toBeNull();
    expect(await creds.verify('ARM-01', String(second.password))).toBe('cabinet');
    const raw = JSON.stringify(db.prepare('select * from mqtt_credentials').all());
    expect(raw).not.toContain(String(second.password));
    db.close();
    const store = openConfigStore(configDbPath(tmp.dir));
    expect(store.auditLog(10).filter((e) => e.action === 'credentials.issue')).toHaveLength(2);
    store.close();
  });

  it('refuses a malformed cabinet id, naming it', async () => {
    await expect(main(['cabinet', 'credentials', 'ARM/01', '--data-dir', tmp.dir])).rejects.toMatchObject({
      code: 'LUCIOLE_ERR_CONFIG_INVALID',
    });
  });

  it('imports an inventory idempotently, and refuses a bad file whole, naming feature and field', async () => {
    const inv = townInventory(generateTown({ columns: 2, rows: 1 }));
    const file = join(tmp.dir, 'lampes.geojson');
    writeFileSync(file, JSON.stringify(inv));
    await main(['inventory', 'import', file, '--data-dir', tmp.dir]);
    expect(lastJson()).toMatchObject({ lamps: inv.features.length, created: inv.features.length });
    await main(['inventory', 'import', file, '--data-dir', tmp.dir]);
    expect(lastJson()).toMatchObject({ created: 0, updated: 0, unchanged: inv.features.length });

    const bad = structuredClone(inv);
    bad.features.push({ ...bad.features[0]!, properties: { ...bad.features[0]!.properties, id: 'NEW-1' } });
    (bad.features[2]!.properties as { nominalPowerW: number }).nominalPowerW = -5;
    writeFileSync(file, JSON.stringify(bad));
    await expect(main(['inventory', 'import', file, '--data-dir', tmp.dir])).rejects.toMatchObject({
      code: 'LUCIOLE_ERR_INVENTORY_INVALID',
      field: 'features.2.properties.nominalPowerW',
    });
    const store = openConfigStore(configDbPath(tmp.dir));
    expect(store.lamps().map((l) => l.id)).not.toContain('NEW-1');
    store.close();
  });

  it('refuses to serve with an insecure or incomplete config, naming the setting', async () => {
    await expect(main(['serve'])).rejects.toMatchObject({ code: 'LUCIOLE_ERR_CONFIG_INVALID', field: 'dataDir' });
    vi.stubEnv('LUCIOLE_ADMIN_TOKEN', 'short');
    await expect(main(['serve', '--data-dir', tmp.dir])).rejects.toMatchObject({ field: 'adminToken' });
    vi.unstubAllEnvs();
    await expect(
      main(['serve', '--data-dir', tmp.dir, '--broker-url', 'mqtt://127.0.0.1:1']),
    ).rejects.toMatchObject({ field: 'controllerPassword' });
    await expect(main(['frobnicate'])).rejects.toMatchObject({ code: 'LUCIOLE_ERR_USAGE' });
  });
});

describe('luciole serve telemetry settings', () => {
  it('names the missing InfluxDB setting', async () => {
    const tmp = tempDir('cli-influx');
    try {
      await expect(main(['serve', '--data-dir', tmp.dir, '--telemetry', 'influxdb1'])).rejects.toMatchObject({
        code: 'LUCIOLE_ERR_CONFIG_INVALID',
        field: 'influxUrl',
      });
      await expect(
        main(['serve', '--data-dir', tmp.dir, '--telemetry', 'influxdb2', '--influx-url', 'http://127.0.0.1:8086']),
      ).rejects.toMatchObject({ field: 'influxToken' });
      await expect(main(['serve', '--data-dir', tmp.dir, '--telemetry', 'mongodb'])).rejects.toMatchObject({
        field: 'telemetry',
      });
    } finally {
      tmp.remove();
    }
  });
});
