// The public API of `eventloom/relay`: change-data-capture from MongoDB (or the Eventloom
// store) to webhooks and Kafka. Named exports only, written by hand.

export { loadRelayConfig } from './loadRelayConfig.js';
export { parseRelayConfig } from './parseRelayConfig.js';
export { defineRelayConfig } from './relayConfig.js';
export type {
  CollectionConfig,
  CustomStepConfig,
  DatabaseConfig,
  EventloomSourceConfig,
  FilterStepConfig,
  HttpStepConfig,
  KafkaStepConfig,
  LogStepConfig,
  MapStepConfig,
  MongoSourceConfig,
  OperationType,
  RelayConfig,
  RetryOptions,
  StateConfig,
  StepConfig,
} from './relayConfig.js';
export { runRelay } from './runRelay.js';
export type { RunRelayOptions } from './runRelay.js';
export { startRelay } from './relayRunner.js';
export type { RelayHandle, RelayState, RelayStatus, StartRelayOptions } from './relayRunner.js';
export { listDeadLetters, replayDeadLetters } from './relayDeadLetters.js';
export type { ReplayResult } from './relayDeadLetters.js';
export type { ChangeMessage, RelayChange } from './relayChange.js';
export type { ResumePoint, SnapshotProgress } from './relayChange.js';
export type { RelayMetrics } from './relayMetrics.js';
export type { SubstituteEnvOptions } from './relayEnv.js';
export type { DeadLetter, RelayCheckpoint } from './relayStateStore.js';
export type { CustomStepFactory, CustomStepFunction, RelayStepContext } from './relayStep.js';
export { isRetryableStepFailure, RelayStepError } from './relayErrors.js';
export { signWebhook, webhookKey } from './relayHttpSink.js';
