import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CredentialStore } from '../broker/credentials.js';
import { CONTROLLER_CLIENT_ID } from '../controller/controller.js';
import { systemClock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import { openConfigStore } from '../controller/config-store.js';
import { generateTown, townInventory } from '../sim/town.js';
import { main } from '../cli/main.js';
import { configDbPath, startServer } from '../cli/server.js';
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
    // Shared subscriptions: an external MQTT 5 broker, and both the group and this member's name.
    await expect(main(['serve', '--data-dir', tmp.dir, '--shared-group', 'controllers', '--member', 'a'])).rejects.toMatchObject({
      field: 'sharedGroup',
    });
    vi.stubEnv('LUCIOLE_CONTROLLER_PASSWORD', 'p'.repeat(20));
    await expect(
      main(['serve', '--data-dir', tmp.dir, '--broker-url', 'mqtt://127.0.0.1:1', '--shared-group', 'controllers']),
    ).rejects.toMatchObject({ field: 'member' });
    await expect(
      main(['serve', '--data-dir', tmp.dir, '--broker-url', 'mqtt://127.0.0.1:1', '--shared-group', 'a/b', '--member', 'x']),
    ).rejects.toMatchObject({ field: 'sharedGroup' });
    vi.unstubAllEnvs();
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

/**
 * Node runs the CLI's TypeScript through this loader (typescript's transpileModule, no type
 * check): a child process of this tree as it is, without a build.
 */
function writeTsLoader(dir: string): string {
  const ts = pathToFileURL(createRequire(import.meta.url).resolve('typescript')).href;
  writeFileSync(
    join(dir, 'ts-hooks.mjs'),
    `import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from ${JSON.stringify(ts)};
export async function resolve(specifier, context, next) {
  if (specifier.endsWith('.js') && specifier.startsWith('.') && context.parentURL?.endsWith('.ts')) {
    const url = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
    if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true };
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const file = fileURLToPath(url);
  const out = ts.transpileModule(readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
`,
  );
  const register = join(dir, 'ts-register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister('./ts-hooks.mjs', import.meta.url);\n`);
  return register;
}

describe('luciole serve with the bundled broker', () => {
  it('subscribes the controller to telemetry at QoS 0 (the broker dies with it) and to the rest at QoS 1', async () => {
    const tmp = tempDir('serve-qos');
    const server = await startServer(
      { dataDir: tmp.dir, mqttPort: 0, httpPort: 0, host: '127.0.0.1', periodS: 60, adminToken: 'x'.repeat(32) },
      { clock: systemClock(), logger: silentLogger() },
    );
    try {
      const client = (server.broker!.aedes as unknown as { clients: Record<string, { subscriptions: Record<string, { qos: number }> }> }).clients[
        CONTROLLER_CLIENT_ID
      ]!;
      const qos = Object.fromEntries(Object.entries(client.subscriptions).map(([topic, s]) => [topic.split('/').at(-1), s.qos]));
      expect(qos).toEqual({ telemetry: 0, presence: 1, status: 1, event: 1, ack: 1 });
    } finally {
      await server.stop();
      tmp.remove();
    }
  });
});

describe('luciole cabinet credentials, in another process than a running luciole serve', () => {
  it("disconnects the old secret's holder from the bundled broker; the new secret gets in", async () => {
    const tmp = tempDir('cli-reissue');
    const server = await startServer(
      { dataDir: tmp.dir, mqttPort: 0, httpPort: 0, host: '127.0.0.1', periodS: 60, adminToken: 'x'.repeat(32) },
      { clock: systemClock(), logger: silentLogger() },
    );
    const clients: mqtt.MqttClient[] = [];
    const connect = async (username: string, password: string) => {
      const c = mqtt.connect(server.mqttUrl, { username, password, clientId: `edge-${username}`, reconnectPeriod: 0, connectTimeout: 5000 });
      clients.push(c);
      await new Promise<void>((resolve, reject) => {
        c.once('connect', () => resolve());
        c.once('error', reject);
        c.once('close', () => reject(new Error('closed before CONNACK')));
      });
      return c;
    };
    try {
      const old = server.credentials.issue('ARM-01', 'cabinet');
      const other = server.credentials.issue('ARM-02', 'cabinet');
      const holder = await connect('ARM-01', old);
      const bystander = await connect('ARM-02', other);
      const gone = new Promise<void>((resolve) => holder.once('close', () => resolve()));

      const loader = writeTsLoader(tmp.dir);
      const root = fileURLToPath(new URL('../', import.meta.url));
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          ['--import', pathToFileURL(loader).href, join(root, 'cli/luciole.ts'), 'cabinet', 'credentials', 'ARM-01', '--data-dir', tmp.dir],
          { cwd: root, timeout: 20_000 },
          (err, out) => (err ? reject(err) : resolve(out)),
        );
      });
      const fresh = String((JSON.parse(stdout.trim()) as { password: unknown }).password);

      // Within the serve process's default poll interval (2 s), plus slack.
      await Promise.race([gone, new Promise((_, reject) => setTimeout(() => reject(new Error('not disconnected in time')), 5_000))]);
      expect(bystander.connected).toBe(true);
      expect(server.broker?.connectedClients()).toEqual(['ARM-02', 'controller']);
      await expect(connect('ARM-01', old)).rejects.toMatchObject({ code: 4 });
      const renewed = await connect('ARM-01', fresh);
      expect(renewed.connected).toBe(true);
    } finally {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await server.stop();
      tmp.remove();
    }
  }, 30_000);
});
