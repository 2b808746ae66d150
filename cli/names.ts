import { join } from 'node:path';

/**
 * Names shared by the `luciole` commands, in a module that loads nothing else: the gateway
 * command must not pull the server's dependencies (fastify, the PDF fonts, SQLite) onto a small
 * ARM gateway just to know them.
 */

/** The controller's MQTT account. */
export const CONTROLLER_USERNAME = 'controller';

export function configDbPath(dataDir: string): string {
  return join(dataDir, 'config.db');
}
