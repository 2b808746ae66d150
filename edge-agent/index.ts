export { EdgeAgent, AGENT_NAME, WILL_PAYLOAD, type EdgeAgentOptions, type EdgeAgentStats } from './agent.js';
export {
  edgeConfigSchema,
  edgeLampConfigSchema,
  loadEdgeConfig,
  parseEdgeConfig,
  type EdgeConfig,
  type EdgeLampConfig,
} from './config.js';
export type { DriverEvent, DriverReading, LampDriver, PresenceDetection } from './driver.js';
export {
  SimulatedDriver,
  powerFraction,
  trafficRatePerHour,
  STANDBY_W,
  CABINET_OWN_W,
  DRIFT_FACTOR,
  type LampFault,
  type SensorFault,
  type SimulatedDriverOptions,
} from './sim-driver.js';
export { Outbox, type AppendResult } from './outbox.js';
export { UplinkQueue, type QueuedUplink, type UplinkQueueOptions } from './uplink-queue.js';
export { ReplayPacer, type ReplayPacerOptions } from './replay-pacer.js';
export { SensorLimiter } from './sensor-limiter.js';
export { LampWatchdog, failsafeOutput, type LampWatchdogOptions } from './lamp-watchdog.js';
export { CLOCK_SANE_AFTER, clockUnsynced } from './clock-sync.js';
export { checkCommand, commandKeyFromSecret, type CommandCheck } from './command-auth.js';
export { nodeFs, isStorageError, type EdgeFs } from './fs-port.js';
export { StateStore, type StateLoadResult, type StateStoreOptions } from './state-store.js';
export { createDimmingEngine } from './dimming/engine.js';
export type { ActiveOverride, DimmingEngine, DimmingEngineOptions } from './dimming/types.js';
export { buildSimulatedEdgeAgent } from './compose.js';
