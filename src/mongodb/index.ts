export { createMongoEventStore } from './mongoEventStore.js';
export type {
  MongoCapabilities,
  MongoEventStore,
  MongoEventStoreOptions,
} from './mongoEventStore.js';
export { createMongoCheckpointStore } from './mongoCheckpointStore.js';
export { createMongoSnapshotStore } from './mongoSnapshotStore.js';
export type { CheckpointDoc, ParkedDoc, SnapshotDoc } from './mongoSchema.js';
export { createMongoProjectionTarget } from './mongoDocumentStore.js';
export type { MongoProjectionTargetOptions } from './mongoDocumentStore.js';
export { createMongoKeyStore } from './mongoKeyStore.js';
export type { MongoKeyStoreOptions } from './mongoKeyStore.js';
export { createNodeCipher } from '../node/nodeCipher.js';
