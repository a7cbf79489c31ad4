// The public API of `eventloom`: the pure core. Named exports only, written by hand.

export type {
  AppendOptions,
  AppendResult,
  CheckpointStore,
  DeleteStreamOptions,
  EventData,
  EventMetadata,
  EventStore,
  ExpectedVersion,
  ParkedEvent,
  PoisonPolicy,
  ReadAllOptions,
  ReadDirection,
  ReadStreamOptions,
  Recorded,
  RecordedEvent,
  RetryPolicy,
  Snapshot,
  SnapshotStore,
  StreamInfo,
  SubscribeOptions,
  Subscription,
  SubscriptionHandler,
  SubscriptionHandlerContext,
  SubscriptionNotice,
  SubscriptionStart,
  SubscriptionStatus,
} from './types.js';

export {
  CommandRejectedError,
  ConcurrencyError,
  ConfigurationError,
  EventloomError,
  HandlerFailedError,
  IdempotencyConflictError,
  isCommandRejectedError,
  isConcurrencyError,
  isConfigurationError,
  isEventloomError,
  isIdempotencyConflictError,
  isNotFoundError,
  isRetryableError,
  isStoreClosedError,
  isStoreUnavailableError,
  isStoreCorruptedError,
  isStoreFailedError,
  isStreamDeletedError,
  isTamperedDataError,
  isValidationError,
  NotFoundError,
  RETRYABLE_CODES,
  StoreClosedError,
  StoreUnavailableError,
  StoreCorruptedError,
  StoreFailedError,
  StreamDeletedError,
  TamperedDataError,
  ValidationError,
} from './errors.js';
export type { ErrorCode, EventloomErrorOptions } from './errors.js';

export { newEventId } from './eventId.js';
export { streamCategory } from './streamCategory.js';
export { toEventJson } from './eventJson.js';
export type { EventJson } from './eventJson.js';
export { storedJsonOf } from './storedJson.js';
export type { StoredJson } from './storedJson.js';
export { noopLogger } from './logger.js';
export type { LogFields, Logger } from './logger.js';
export { LIMITS } from './validation.js';

export { createMemoryEventStore } from './memoryEventStore.js';
export type { MemoryEventStore, MemoryEventStoreOptions } from './memoryEventStore.js';
export { createMemoryCheckpointStore } from './memoryCheckpointStore.js';
export { createMemorySnapshotStore } from './memorySnapshotStore.js';
export { createMemoryDocuments } from './memoryDocumentStore.js';
export type { MemoryDocuments } from './memoryDocumentStore.js';

export type {
  Decider,
  DecideResult,
  DeciderCommand,
  DeciderEvent,
  DeciderState,
  DomainEvent,
} from './decider.js';
export { AggregateRoot, createAggregateRepository } from './aggregateRoot.js';
export type {
  AggregateEvent,
  AggregateRepository,
  AggregateRepositoryOptions,
  AggregateSnapshotOptions,
  SaveOptions,
  SaveResult,
  UpdateOptions,
  UpdateResult,
} from './aggregateRoot.js';
export { createCommandHandler, idempotentEventId } from './commandHandler.js';
export type {
  AppendedEvent,
  CommandHandler,
  CommandHandlerOptions,
  CommandHandlerSnapshotOptions,
  CommandResult,
  CommandRetryOptions,
  HandleOptions,
  SnapshotErrorContext,
  SnapshotErrorHandler,
} from './commandHandler.js';

export { createUpcaster, withUpcasting } from './upcasting.js';
export type { UpcastFunction, Upcaster, UpcastInput, UpcastOutput } from './upcasting.js';
export { RESERVED_METADATA_KEYS } from './reservedMetadata.js';

export { rebuildProjection, startProjection } from './projections.js';
export type { RebuildOptions, RebuildProgress, StartProjectionOptions } from './projections.js';
export type {
  Document,
  DocumentFilter,
  DocumentStore,
  DocumentWrite,
  FindOptions,
  InlineProjection,
  Projection,
  ProjectionTarget,
  SyncDocumentStore,
} from './readModel.js';
export type { DocumentClaim } from './readModel.js';

export { personalData } from './personalData.js';
export type {
  PersonalDataDeclaration,
  PersonalDataPolicy,
  PersonalEventRule,
  PersonalEventView,
  PersonalFieldName,
  ResolvedPersonalRule,
} from './personalData.js';
export type { AnyEvent } from './personalData.js';
export { parseKeyEncryptionKey } from './keyStore.js';
export type {
  DataKeyRecord,
  ForgetOutcome,
  KeyEncryptionKey,
  KeyStore,
  WrappedDataKey,
} from './keyStore.js';
export { createMemoryKeyStore } from './memoryKeyStore.js';
export {
  createCryptoShredder,
  ERASED,
  isEncryptedValue,
  PERSONAL_DATA_FIELD,
  PERSONAL_DATA_FORGOTTEN,
} from './cryptoShredder.js';
export { createWebCryptoCipher, SYNTHETIC_IV_INFO, syntheticIvInput } from './cipher.js';
export type { AeadCipher, CipherKey, CryptoPort, MaybePromise } from './cipher.js';
export type {
  CryptoShredder,
  CryptoShredderOptions,
  EncryptedValue,
  ForgetResult,
} from './cryptoShredder.js';
export {
  applyPersonalDataOption,
  attachPersonalData,
  forgottenStreamId,
  isPersonalDataForgotten,
  resolvePersonalData,
  storedFormOf,
  withCryptoShredding,
  withSnapshotEncryption,
} from './cryptoShredding.js';
export type {
  AppendWithPlaintext,
  CryptoShreddingEventStore,
  PersonalDataForgottenData,
  PersonalDataOption,
  PersonalDataStoreOptions,
  SnapshotEncryptionOptions,
} from './cryptoShredding.js';

export { defineWorkflow, workflowStreamId } from './workflow.js';
export type {
  Workflow,
  WorkflowCommandOf,
  WorkflowDecideContext,
  WorkflowInput,
  WorkflowInputOf,
  WorkflowInputSource,
  WorkflowOutput,
  WorkflowState,
  WorkflowTimer,
} from './workflow.js';
export { WORKFLOW_RECORD_TYPES } from './workflowInstance.js';
export type { WorkflowRecord } from './workflowInstance.js';
export { createWorkflowProcessor } from './workflowProcessor.js';
export type {
  WorkflowClock,
  WorkflowCommand,
  WorkflowCommandHandler,
  WorkflowCommandHandlers,
  WorkflowHandleResult,
  WorkflowInputEvent,
  WorkflowProcessor,
  WorkflowProcessorOptions,
} from './workflowProcessor.js';
export { runWorkflow } from './runWorkflow.js';
export type { RunWorkflowOptions, WorkflowNotice, WorkflowRunner } from './runWorkflow.js';
export { startWorkflowTimerLoop } from './workflowTimerLoop.js';
export type {
  WorkflowTimerFailure,
  WorkflowTimerLoop,
  WorkflowTimerLoopOptions,
} from './workflowTimerLoop.js';
export type { WorkflowTimerSettings } from './workflowTimerLoop.js';
export { createWorkflowTimerIndex, WORKFLOW_TIMERS_COLLECTION } from './workflowTimers.js';
export type { DueTimer, WorkflowTimerIndex } from './workflowTimers.js';
export {
  parseWorkflowStreamId,
  readWorkflowInstance,
  WORKFLOW_INSTANCES_COLLECTION,
  workflowInstancesProjection,
} from './workflowInspection.js';
export type {
  WorkflowInputHistory,
  WorkflowInstanceSummary,
  WorkflowInstanceView,
} from './workflowInspection.js';
export {
  EVENTLOOM_VERSION,
  extractTraceparent,
  formatTraceparent,
  injectTraceparent,
  inSpan,
  parseTraceparent,
  TRACEPARENT,
  TRACESTATE,
  tracer,
  tracingEnabled,
} from './tracing.js';
export type { ExtractedTrace, InSpanOptions } from './tracing.js';
