import { createMemoryCheckpointStore } from '../../src/core/memoryCheckpointStore.js';
import { createMemoryDocuments } from '../../src/core/memoryDocumentStore.js';
import { createMemorySnapshotStore } from '../../src/core/memorySnapshotStore.js';
import { checkpointStoreContract } from '../contract/checkpointStoreContract.js';
import { documentStoreContract } from '../contract/documentStoreContract.js';
import { snapshotStoreContract } from '../contract/snapshotStoreContract.js';

snapshotStoreContract('memory', { create: () => Promise.resolve(createMemorySnapshotStore()) });
checkpointStoreContract('memory', {
  create: () => Promise.resolve(createMemoryCheckpointStore()),
});
documentStoreContract('memory', { create: () => Promise.resolve(createMemoryDocuments().target) });
