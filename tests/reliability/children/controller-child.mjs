// A controller alone in its own process, for kill -9: the build of this tree is in LUCIOLE_BUILD.
import path from 'node:path';
const build = process.env.LUCIOLE_BUILD;
const { openConfigStore } = await import(path.join(build, 'controller/config-store.js'));
const { SqliteTelemetryStore } = await import(path.join(build, 'controller/sqlite-telemetry-store.js'));
const { Controller } = await import(path.join(build, 'controller/controller.js'));
const { systemClock } = await import(path.join(build, 'core/clock.js'));
const { silentLogger } = await import(path.join(build, 'core/log.js'));
const dir = process.env.DATA_DIR;
const configStore = openConfigStore(path.join(dir, 'config.db'));
const telemetryStore = new SqliteTelemetryStore({ file: path.join(dir, 'telemetry.db') });
await telemetryStore.open();
const controller = new Controller({
  brokerUrl: process.env.BROKER_URL,
  username: 'controller',
  password: process.env.PASSWORD,
  configStore,
  telemetryStore,
  clock: systemClock(),
  logger: silentLogger(),
  batchMs: 20,
  receiptMs: 50,
});
await controller.start();
process.send?.({ type: 'ready' });
process.on('message', async (m) => {
  if (m?.type === 'stop') {
    await controller.stop();
    await telemetryStore.close();
    configStore.close();
    process.exit(0);
  }
});
