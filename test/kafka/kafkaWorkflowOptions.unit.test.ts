import { describe, expect, it } from 'vitest';
import { isValidationError } from '../../src/core/errors.js';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import { runKafkaWorkflow } from '../../src/kafka/index.js';
import { paymentOptions, manualClock } from '../support/paymentWorkflow.js';

describe('runKafkaWorkflow options', () => {
  const store = createMemoryEventStore();
  const base = {
    ...paymentOptions(store, store.documents.async, manualClock().now),
    brokers: '127.0.0.1:1',
    topics: ['shop'],
  };
  const thrown = (options: unknown): unknown => {
    try {
      runKafkaWorkflow(options as Parameters<typeof runKafkaWorkflow>[0]);
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it('names a malformed timer setting before connecting to anything', () => {
    const error = thrown({ ...base, timerPollIntervalMs: 0 });
    expect(isValidationError(error) && error.path).toBe('options.timerPollIntervalMs');
  });

  it('names a malformed workflow definition', () => {
    const error = thrown({ ...base, workflow: { ...base.workflow, decide: 'no' } });
    expect(isValidationError(error) && error.path).toBe('options.workflow.decide');
  });
});
