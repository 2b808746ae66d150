import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { EdgeAgent } from './agent.js';
import type { EdgeConfig } from './config.js';
import { SimulatedDriver } from './sim-driver.js';

/** The gateway wired to the simulated cabinet its config describes (`sim` section). */
export function buildSimulatedEdgeAgent(
  config: EdgeConfig,
  clock: Clock,
  logger: Logger,
): { agent: EdgeAgent; driver: SimulatedDriver } {
  const driver = new SimulatedDriver({
    clock,
    lamps: config.lamps,
    timezone: config.site.timezone,
    ...(config.sim?.seed !== undefined ? { seed: config.sim.seed } : {}),
    ...(config.sim ? { traffic: config.sim.traffic } : {}),
  });
  return { agent: new EdgeAgent({ config, clock, driver, logger }), driver };
}
