import { readFileSync, mkdirSync } from 'node:fs';
import { systemClock } from '../core/clock.js';
import { createLogger, type Logger } from '../core/log.js';
import { LucioleError } from '../core/errors.js';
import { idSchema } from '../protocol/index.js';
import type { ConfigStore } from '../controller/stores.js';
import { parseConfig, parseFlags, portSchema } from './args.js';
import { CONTROLLER_USERNAME, configDbPath } from './names.js';
import { z } from 'zod';

// Each command imports what it runs when it runs (`await import`): `luciole edge-agent` on a
// cabinet's gateway must not load the server (fastify, PDF fonts, SQLite, InfluxDB clients): it
// measured 136 MB RSS that way for 100 lamps.

const USAGE = `luciole — éclairage public sobre et souverain

Usage:
  luciole demo [--speed N] [--http-port N] [--mqtt-port N] [--data-dir DIR] [--history-nights N] [--traffic X]
  luciole serve --data-dir DIR [--mqtt-port N] [--http-port N] [--host H] [--inventory FILE]
                [--broker-url URL [--shared-group G --member M]] [--tls-cert FILE --tls-key FILE]
                [--notifications FILE] [--telemetry sqlite|influxdb1|influxdb2 --influx-url URL --influx-db DB
                 --influx-username U --influx-org ORG --influx-bucket B]
  luciole broker --data-dir DIR [--mqtt-port N] [--host H] [--tls-cert FILE --tls-key FILE]
  luciole broker mosquitto-config --data-dir DIR --out DIR [--rotate] [--listen-port N] [--listen-host H]
  luciole edge-agent --config FILE
  luciole cabinet credentials CABINET_ID --data-dir DIR
  luciole controller credentials --data-dir DIR
  luciole inventory import FILE --data-dir DIR

Environment: LUCIOLE_ADMIN_TOKEN, LUCIOLE_DATA_DIR, LUCIOLE_MQTT_PORT, LUCIOLE_HTTP_PORT, LUCIOLE_HOST,
LUCIOLE_BROKER_URL, LUCIOLE_CONTROLLER_PASSWORD, LUCIOLE_SHARED_GROUP, LUCIOLE_MEMBER, LUCIOLE_LOG_LEVEL, LUCIOLE_TELEMETRY,
LUCIOLE_INFLUX_URL, LUCIOLE_INFLUX_DB, LUCIOLE_INFLUX_USERNAME, LUCIOLE_INFLUX_PASSWORD, LUCIOLE_INFLUX_TOKEN,
LUCIOLE_INFLUX_ORG, LUCIOLE_INFLUX_BUCKET.
`;

const out = (line = '') => process.stdout.write(line + '\n');

/** Stops cleanly on Ctrl+C / SIGTERM; a second signal exits at once. */
function onShutdown(stop: () => Promise<void>, log: Logger): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    out(`\n${signal} reçu : arrêt en cours…`);
    stop()
      .then(() => process.exit(0))
      .catch((e: unknown) => {
        log.error({ err: e }, 'error while stopping');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

async function demo(argv: string[]): Promise<void> {
  const { DEFAULT_SPEED, startDemo } = await import('./demo.js');
  const { values } = parseFlags(argv, {
    speed: { type: 'string' },
    'http-port': { type: 'string' },
    'mqtt-port': { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    'history-nights': { type: 'string' },
    traffic: { type: 'string' },
  });
  const cfg = parseConfig(
    z.object({
      speed: z.coerce.number().positive().max(10_000).default(DEFAULT_SPEED),
      httpPort: portSchema.default(8080),
      mqttPort: portSchema.default(1883),
      host: z.string().default('127.0.0.1'),
      dataDir: z.string().optional(),
      historyNights: z.coerce.number().int().min(0).max(31).default(3),
      traffic: z.coerce.number().min(0).max(10).default(0.3),
      adminToken: z.string().min(16).optional(),
    }),
    {
      speed: values.speed,
      httpPort: values['http-port'] ?? process.env.LUCIOLE_HTTP_PORT,
      mqttPort: values['mqtt-port'] ?? process.env.LUCIOLE_MQTT_PORT,
      host: values.host ?? process.env.LUCIOLE_HOST,
      dataDir: values['data-dir'],
      historyNights: values['history-nights'],
      traffic: values.traffic,
      adminToken: process.env.LUCIOLE_ADMIN_TOKEN || undefined,
    },
    'demo',
  );
  const logger = createLogger({ level: process.env.LUCIOLE_LOG_LEVEL ?? 'warn' });
  const t0 = Date.now();
  const d = await startDemo({ ...cfg, logger, say: out });
  onShutdown(d.stop, logger);
  const nightMin = Math.round((15 * 3600) / cfg.speed / 60);
  out('');
  out('Luciole est prêt (démarré en ' + ((Date.now() - t0) / 1000).toFixed(1) + ' s).');
  out(`  Tableau de bord : ${d.server.httpUrl}`);
  out(`  Connexion       : collez ce jeton d'accès dans l'écran de connexion :`);
  out(`                    ${d.server.adminToken}`);
  out(`  Broker MQTT     : ${d.server.mqttUrl}`);
  out(
    `  Ville simulée   : ${d.town.lamps.length} lampes, ${d.town.cabinets.length} armoires ; ` +
      `horloge ×${cfg.speed} (une nuit ≈ ${nightMin} min), départ au crépuscule`,
  );
  out('Ctrl+C pour arrêter.');
}

async function serve(argv: string[]): Promise<void> {
  const { SERVE_ENV, serveConfigSchema, withEnv } = await import('./serve-config.js');
  const { TELEMETRY_ENV, telemetryConfigSchema } = await import('../controller/telemetry/telemetry-config.js');
  const { startServer } = await import('./server.js');
  const { values } = parseFlags(argv, {
    'data-dir': { type: 'string' },
    'mqtt-port': { type: 'string' },
    'http-port': { type: 'string' },
    host: { type: 'string' },
    inventory: { type: 'string' },
    'broker-url': { type: 'string' },
    'shared-group': { type: 'string' },
    member: { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    notifications: { type: 'string' },
    telemetry: { type: 'string' },
    'influx-url': { type: 'string' },
    'influx-db': { type: 'string' },
    'influx-username': { type: 'string' },
    'influx-org': { type: 'string' },
    'influx-bucket': { type: 'string' },
  });
  // InfluxDB secrets (password, token) come from the environment only: never on a command line.
  const telemetry = parseConfig(
    telemetryConfigSchema,
    withEnv(
      {
        telemetry: values.telemetry,
        influxUrl: values['influx-url'],
        influxDb: values['influx-db'],
        influxUsername: values['influx-username'],
        influxOrg: values['influx-org'],
        influxBucket: values['influx-bucket'],
      },
      process.env,
      TELEMETRY_ENV,
    ),
    'telemetry',
  );
  const input = withEnv(
    {
      dataDir: values['data-dir'],
      mqttPort: values['mqtt-port'],
      httpPort: values['http-port'],
      host: values.host,
      inventory: values.inventory,
      brokerUrl: values['broker-url'],
      sharedGroup: values['shared-group'],
      member: values.member,
      tlsCert: values['tls-cert'],
      tlsKey: values['tls-key'],
      notificationsFile: values.notifications,
    },
    process.env,
    SERVE_ENV,
  );
  // Flags win over the environment.
  for (const [k, v] of Object.entries({
    dataDir: values['data-dir'],
    mqttPort: values['mqtt-port'],
    httpPort: values['http-port'],
    host: values.host,
    brokerUrl: values['broker-url'],
    sharedGroup: values['shared-group'],
    member: values.member,
    notificationsFile: values.notifications,
  })) {
    if (v !== undefined) (input as Record<string, unknown>)[k] = v;
  }
  const cfg = parseConfig(serveConfigSchema, { ...input, telemetry }, 'serve');
  const logger = createLogger();
  const server = await startServer(cfg, { clock: systemClock(), logger });
  onShutdown(server.stop, logger);
  out(`Luciole en service.`);
  out(`  Tableau de bord : ${server.httpUrl}`);
  out(`  Broker MQTT     : ${server.mqttUrl}`);
  if (server.adminTokenGenerated) {
    out(`  Jeton d'accès administrateur (affiché une seule fois ; fixez LUCIOLE_ADMIN_TOKEN pour le garder) :`);
    out(`    ${server.adminToken}`);
  } else out(`  Jeton d'accès : celui de LUCIOLE_ADMIN_TOKEN.`);
}

async function broker(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    'data-dir': { type: 'string' },
    'mqtt-port': { type: 'string' },
    host: { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
  });
  const cfg = parseConfig(
    z.object({
      dataDir: z.string().min(1),
      mqttPort: portSchema.default(1883),
      host: z.string().default('127.0.0.1'),
      tlsCert: z.string().optional(),
      tlsKey: z.string().optional(),
    }),
    {
      dataDir: values['data-dir'] ?? process.env.LUCIOLE_DATA_DIR,
      mqttPort: values['mqtt-port'] ?? process.env.LUCIOLE_MQTT_PORT,
      host: values.host ?? process.env.LUCIOLE_HOST,
      tlsCert: values['tls-cert'],
      tlsKey: values['tls-key'],
    },
    'broker',
  );
  const { default: Database } = await import('better-sqlite3');
  const { CredentialStore } = await import('../broker/credentials.js');
  const { startBroker } = await import('../broker/broker.js');
  mkdirSync(cfg.dataDir, { recursive: true });
  const db = new Database(configDbPath(cfg.dataDir));
  db.pragma('journal_mode = WAL');
  const credentials = new CredentialStore(db);
  credentials.init();
  const logger = createLogger();
  const b = await startBroker({
    port: cfg.mqttPort,
    host: cfg.host,
    credentials,
    logger,
    ...(cfg.tlsCert && cfg.tlsKey ? { tls: { cert: readFileSync(cfg.tlsCert), key: readFileSync(cfg.tlsKey) } } : {}),
  });
  onShutdown(async () => {
    await b.close();
    db.close();
  }, logger);
  out(`Broker MQTT Luciole en service : ${b.url}`);
}

async function edgeAgent(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, { config: { type: 'string' } });
  if (!values.config) throw new LucioleError('LUCIOLE_ERR_USAGE', 'edge-agent needs --config FILE');
  const { loadEdgeConfig } = await import('../edge-agent/config.js');
  const { buildSimulatedEdgeAgent } = await import('../edge-agent/compose.js');
  const config = loadEdgeConfig(String(values.config));
  const logger = createLogger({ name: `edge-${config.cabinetId}` });
  const { agent } = buildSimulatedEdgeAgent(config, systemClock(), logger);
  await agent.start();
  onShutdown(() => agent.stop(), logger);
  out(`Passerelle ${config.cabinetId} démarrée (${config.lamps.length} lampes) → ${config.brokerUrl}`);
}

async function withConfigStore<T>(dataDir: unknown, fn: (store: ConfigStore) => T): Promise<T> {
  const dir = parseConfig(z.string().min(1), dataDir ?? process.env.LUCIOLE_DATA_DIR, '--data-dir');
  const { openConfigStore } = await import('../controller/config-store.js');
  mkdirSync(dir, { recursive: true });
  const store = openConfigStore(configDbPath(dir));
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

async function credentialsCommand(role: 'cabinet' | 'controller', argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, { 'data-dir': { type: 'string' } });
  const username =
    role === 'controller' ? CONTROLLER_USERNAME : parseConfig(idSchema, positionals[0], 'CABINET_ID');
  const { CommandKeyStore } = await import('../controller/command-signing.js');
  const { CredentialStore } = await import('../broker/credentials.js');
  await withConfigStore(values['data-dir'], (store) => {
    const commandKeys = new CommandKeyStore(store.db);
    commandKeys.init();
    // The operator contract stays {username, password}: the gateway derives its command key from it.
    const credentials = new CredentialStore(store.db, {
      onCabinetSecret: (cabinetId, secret) => commandKeys.saveSecret(cabinetId, secret),
    });
    credentials.init();
    const password = credentials.issue(username, role);
    store.audit('cli', 'credentials.issue', `${role}:${username}`, 'previous secret revoked');
    out(JSON.stringify({ username, password }));
  });
}

/** Password, ACL and config files for Mosquitto, from the cabinets of the inventory. */
async function mosquittoConfig(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    'data-dir': { type: 'string' },
    out: { type: 'string' },
    rotate: { type: 'boolean' },
    'listen-port': { type: 'string' },
    'listen-host': { type: 'string' },
  });
  const cfg = parseConfig(
    z.object({
      out: z.string().min(1),
      rotate: z.boolean().default(false),
      port: portSchema.default(1883),
      host: z.string().default('0.0.0.0'),
    }),
    { out: values.out, rotate: values.rotate, port: values['listen-port'], host: values['listen-host'] },
    'broker mosquitto-config',
  );
  const { CredentialStore } = await import('../broker/credentials.js');
  const { generateMosquittoFiles } = await import('../broker/mosquitto-config.js');
  await withConfigStore(values['data-dir'], (store) => {
    const credentials = new CredentialStore(store.db);
    credentials.init();
    const r = generateMosquittoFiles({
      outDir: cfg.out,
      issuer: credentials,
      controller: CONTROLLER_USERNAME,
      cabinets: store.cabinets().map((c) => c.id),
      rotate: cfg.rotate,
      listener: { port: cfg.port, host: cfg.host },
    });
    store.audit('cli', 'mosquitto.config', cfg.out, `${r.issued.size} secrets issued, ${r.removed.length} accounts removed`);
    out(
      JSON.stringify({
        passwordFile: r.passwordFile,
        aclFile: r.aclFile,
        confFile: r.confFile,
        secretsFile: r.secretsFile,
        issued: [...r.issued.keys()],
        removed: r.removed,
      }),
    );
  });
}

async function inventoryImport(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, { 'data-dir': { type: 'string' } });
  const file = positionals[0];
  if (!file) throw new LucioleError('LUCIOLE_ERR_USAGE', 'inventory import needs a FILE');
  const { importInventoryFile } = await import('./server.js');
  await withConfigStore(values['data-dir'], (store) => {
    const report = importInventoryFile(store, file, 'cli');
    out(JSON.stringify(report));
  });
}

export async function main(argv: string[]): Promise<void> {
  const [cmd, sub, ...rest] = argv;
  switch (cmd) {
    case 'demo':
      return demo(argv.slice(1));
    case 'serve':
      return serve(argv.slice(1));
    case 'broker':
      if (sub === 'mosquitto-config') return mosquittoConfig(rest);
      return broker(argv.slice(1));
    case 'edge-agent':
      return edgeAgent(argv.slice(1));
    case 'cabinet':
      if (sub === 'credentials') return credentialsCommand('cabinet', rest);
      break;
    case 'controller':
      if (sub === 'credentials') return credentialsCommand('controller', rest);
      break;
    case 'inventory':
      if (sub === 'import') return inventoryImport(rest);
      break;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return;
  }
  throw new LucioleError('LUCIOLE_ERR_USAGE', `unknown command: ${argv.join(' ')}\n\n${USAGE}`);
}

