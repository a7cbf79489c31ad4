import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import { projectionContract } from '../contract/projectionContract.js';
import { eventStoreContract } from '../contract/eventStoreContract.js';
import { appendEdgesContract } from '../contract/appendEdgesContract.js';
import { tracingContract } from '../contract/tracingContract.js';
import { subscriptionEdgesContract } from '../contract/subscriptionEdgesContract.js';

eventStoreContract('memory', { create: () => Promise.resolve(createMemoryEventStore()) });
appendEdgesContract('memory', { create: () => Promise.resolve(createMemoryEventStore()) });
subscriptionEdgesContract('memory', {
  create: () => Promise.resolve(createMemoryEventStore()),
  headKnownAtSubscribe: true,
});

projectionContract('memory store + memory documents', {
  inline: true,
  create: (inline) => {
    const store = createMemoryEventStore({ inlineProjections: inline });
    return Promise.resolve({ store, target: store.documents.target });
  },
});
tracingContract('memory', { create: () => Promise.resolve(createMemoryEventStore()) });
