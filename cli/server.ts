import { mkdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { LucioleError } from '../core/errors.js';
import { CredentialStore } from '../broker/credentials.js';
import { startBroker, type RunningBroker } from '../broker/broker.js';
import { openConfigStore } from '../controller/config-store.js';
import { createTelemetryStore } from '../controller/telemetry/store-factory.js';
import { telemetryConfigSchema } from '../controller/telemetry/telemetry-config.js';
import { CommandKeyStore } from '../controller/command-signing.js';
import { Controller } from '../controller/controller.js';
import { RetentionJob } from '../controller/retention.js';
import { buildNotifier, describeNotifications, loadNotificationsFile, withTownTimeZone } from '../controller/notify/notifications-config.js';
import type { ConfigStore, TelemetryStore } from '../controller/stores.js';
import { buildApp } from '../dashboard/app.js';
import type { ServeConfig } from './serve-config.js';
import { CONTROLLER_USERNAME, configDbPath } from './names.js';

export { CONTROLLER_USERNAME, configDbPath } from './names.js';

export interface RunningServer {
  httpUrl: string;
  mqttUrl: string;
  adminToken: string;
  adminTokenGenerated: boolean;
  controller: Controller;
  configStore: ConfigStore;
  telemetryStore: TelemetryStore;
  credentials: CredentialStore;
  broker: RunningBroker | null;
  app: FastifyInstance;
  stop(): Promise<void>;
}

/** Reads and imports an inventory file; errors name the file, the feature and the field. */
export function importInventoryFile(store: ConfigStore, file: string, actor: string) {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new LucioleError('LUCIOLE_ERR_INVENTORY_INVALID', `${file}: cannot read JSON: ${(e as Error).message}`);
  }
  try {
    return store.importInventory(json, actor);
  } catch (e) {
    if (e instanceof LucioleError) throw new LucioleError(e.code, `${file}: ${e.message}`, e.field);
    throw e;
  }
}

/**
 * `luciole serve`: bundled broker (unless an external one is named), controller and dashboard
 * in one process. The parts only talk through MQTT and the stores, as they would on separate
 * machines. start order: stores, broker, controller, HTTP; stop() in reverse.
 */
export async function startServer(cfg: ServeConfig, deps: { clock: Clock; logger: Logger }): Promise<RunningServer> {
  const { clock, logger } = deps;
  mkdirSync(cfg.dataDir, { recursive: true });
  const configStore = openConfigStore(configDbPath(cfg.dataDir), { now: () => clock.now() });
  const cleanups: Array<() => Promise<void> | void> = [() => configStore.close()];
  const undo = async () => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    const commandKeys = new CommandKeyStore(configStore.db);
    commandKeys.init();
    // Each cabinet secret issued here also gives the controller the key its commands are signed with.
    const credentials = new CredentialStore(configStore.db, {
      onCabinetSecret: (cabinetId, secret) => commandKeys.saveSecret(cabinetId, secret),
    });
    credentials.init();
    if (cfg.inventory) {
      const report = importInventoryFile(configStore, cfg.inventory, 'cli');
      logger.info({ report }, 'inventory imported');
    }

    let broker: RunningBroker | null = null;
    let brokerUrl = cfg.brokerUrl;
    let controllerPassword = cfg.controllerPassword;
    if (!brokerUrl) {
      // One process: a fresh controller secret at every start, known only to this process.
      controllerPassword = credentials.issue(CONTROLLER_USERNAME, 'controller');
      broker = await startBroker({
        port: cfg.mqttPort,
        host: cfg.host,
        credentials,
        logger: logger.child({ part: 'broker' }),
        ...(cfg.tlsCert && cfg.tlsKey
          ? { tls: { cert: readFileSync(cfg.tlsCert), key: readFileSync(cfg.tlsKey) } }
          : {}),
      });
      const b = broker;
      cleanups.push(() => b.close());
      brokerUrl = broker.url;
    }

    const telemetryConfig = {
      ...(cfg.telemetry ?? telemetryConfigSchema.parse({})),
      ...(cfg.retentionDays !== undefined ? { rawRetentionDays: cfg.retentionDays } : {}),
    };
    const telemetryStore = createTelemetryStore(telemetryConfig, {
      dataDir: cfg.dataDir,
      clock,
      logger,
      // Zone tags are for InfluxDB only; reading every lamp is not free for a large town.
      ...(telemetryConfig.telemetry === 'sqlite' ? {} : { lampZones: new Map(configStore.lamps().map((l) => [l.id, l.zone])) }),
    });
    await telemetryStore.open();
    cleanups.push(() => telemetryStore.close());

    const configured = cfg.notifications ?? (cfg.notificationsFile ? loadNotificationsFile(cfg.notificationsFile, process.env) : null);
    const notifications = configured ? withTownTimeZone(configured, configStore.town().site.timezone) : null;
    const notifier = notifications ? buildNotifier(notifications, clock, logger.child({ part: 'controller' })) : null;
    if (notifications) logger.info({ notifications: describeNotifications(notifications) }, 'alert notifications');

    const controller = new Controller({
      brokerUrl: brokerUrl!,
      username: CONTROLLER_USERNAME,
      password: controllerPassword!,
      ...(cfg.sharedGroup && cfg.member ? { shared: { group: cfg.sharedGroup, member: cfg.member } } : {}),
      // The bundled broker lives and dies with this process: see ControllerOptions.telemetryQos.
      telemetryQos: broker ? 0 : 1,
      configStore,
      telemetryStore,
      clock,
      logger: logger.child({ part: 'controller' }),
      credentials: {
        issue: (username, role) => {
          // A new secret revokes the old one: on the bundled broker the holder of the old one is
          // disconnected and its queued session dropped at once (the revocation itself is
          // synchronous, before the new secret is issued).
          if (broker) {
            broker.revokeCabinet(username).catch((err: unknown) => logger.error({ err, username }, 'revocation failed'));
          }
          return credentials.issue(username, role);
        },
      },
      periodS: cfg.periodS,
      ...(notifier ? { notifier } : {}),
    });
    await controller.start();
    cleanups.push(() => controller.stop());

    const retention = new RetentionJob({
      clock,
      telemetry: telemetryStore,
      rawRetentionDays: telemetryConfig.rawRetentionDays,
      credentials: configStore,
      log: logger.child({ part: 'retention' }),
    });
    retention.start();
    cleanups.push(() => retention.stop());

    const adminTokenGenerated = !cfg.adminToken;
    const adminToken = cfg.adminToken ?? randomBytes(24).toString('base64url');
    const app = await buildApp({
      controller,
      adminToken,
      logger: logger.child({ part: 'http' }),
      integrations: { inventory: configStore, onInventoryChanged: () => controller.reloadInventory() },
      reports: { telemetry: telemetryStore, config: configStore, periodS: cfg.periodS },
      access: {
        store: configStore,
        ...(cfg.sessionTtlHours !== undefined ? { sessionTtlMs: cfg.sessionTtlHours * 3_600_000 } : {}),
        ...(cfg.sessionIdleMinutes !== undefined ? { sessionIdleMs: cfg.sessionIdleMinutes * 60_000 } : {}),
      },
    });
    await app.listen({ port: cfg.httpPort, host: cfg.host });
    cleanups.push(() => app.close());
    const address = app.server.address();
    const httpPort = typeof address === 'object' && address ? address.port : cfg.httpPort;
    const shownHost = cfg.host === '0.0.0.0' || cfg.host === '::' ? 'localhost' : cfg.host;

    return {
      httpUrl: `http://${shownHost}:${httpPort}/`,
      mqttUrl: brokerUrl!,
      adminToken,
      adminTokenGenerated,
      controller,
      configStore,
      telemetryStore,
      credentials,
      broker,
      app,
      stop: undo,
    };
  } catch (e) {
    await undo();
    throw e;
  }
}
