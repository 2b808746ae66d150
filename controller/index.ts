export { Controller, CONTROLLER_CLIENT_ID, type ControllerOptions, type CredentialIssuer } from './controller.js';
export type { ControllerApi } from './api.js';
export { Ingest, salvageSeq, type IngestCounters, type IngestHandlers } from './ingest.js';
export { LiveState, type CabinetLive, type LampLive, type LiveListener } from './live-state.js';
export { MqttLink, type MqttLinkOptions, type PublishOptions } from './mqtt-link.js';
export { relayCommands, RELAY_TTL_MS, type RelayCommand, type RelayContext, type RelaySkip, type RelayTarget } from './presence-relay.js';
export { Receipts, type ReceiptsOptions } from './receipts.js';
export { TelemetrySink, type TelemetrySinkOptions } from './telemetry-sink.js';
export { WriteBatcher, type WriteBatcherOptions } from './write-batcher.js';
