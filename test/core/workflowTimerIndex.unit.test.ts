import { createMemoryDocuments } from '../../src/core/memoryDocumentStore.js';
import { workflowTimerIndexContract } from '../contract/workflowTimerIndexContract.js';

workflowTimerIndexContract('memory', {
  create: () => Promise.resolve({ documents: createMemoryDocuments().async }),
});
