/**
 * Helpers for testing code built on Eventloom, importable as `eventloom/testing`.
 *
 * @example
 * import { DeciderSpecification, createMemoryEventStore } from 'eventloom/testing';
 */
export {
  DeciderSpecification,
  type DeciderSpecificationGiven,
  type DeciderSpecificationThen,
  type DeciderSpecificationWhen,
  type ErrorExpectation,
  type SpecificationResult,
} from './deciderSpecification.js';
export {
  WorkflowSpecification,
  type GivenInput,
  type WorkflowHistoryStep,
  type WorkflowSpecificationGiven,
  type WorkflowSpecificationOptions,
  type WorkflowSpecificationThen,
  type WorkflowSpecificationWhen,
} from './workflowSpecification.js';
export { createTestClock, type TestClock } from './testClock.js';
export { createMemoryEventStore, type MemoryEventStoreOptions } from '../memoryEventStore.js';
export { createMemorySnapshotStore } from '../memorySnapshotStore.js';
