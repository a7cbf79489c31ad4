import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import { workflowRunnerContract } from '../contract/workflowRunnerContract.js';

workflowRunnerContract('memory', {
  create: () => {
    const store = createMemoryEventStore();
    return Promise.resolve({ store, timers: store.documents.async });
  },
  propertyRuns: 60,
});
