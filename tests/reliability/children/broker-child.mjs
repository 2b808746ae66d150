// The bundled broker alone in its own process, for kill -9: the build of this tree is in LUCIOLE_BUILD.
import path from 'node:path';
const build = process.env.LUCIOLE_BUILD;
const { default: Database } = await import('better-sqlite3');
const { CredentialStore } = await import(path.join(build, 'broker/credentials.js'));
const { startBroker } = await import(path.join(build, 'broker/broker.js'));
const { silentLogger } = await import(path.join(build, 'core/log.js'));
const db = new Database(process.env.CONFIG_DB);
const credentials = new CredentialStore(db);
credentials.init();
const broker = await startBroker({ port: Number(process.env.PORT), host: '127.0.0.1', credentials, logger: silentLogger() });
process.send?.({ type: 'ready', url: broker.url });
