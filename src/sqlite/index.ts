export { createSqliteEventStore } from './sqliteEventStore.js';
export type { SqliteEventStore, SqliteEventStoreOptions } from './sqliteEventStore.js';
export { createSqliteCheckpointStore } from './sqliteCheckpointStore.js';
export { createSqliteSnapshotStore } from './sqliteSnapshotStore.js';
export { createSqliteDocuments, createSqliteProjectionTarget } from './sqliteDocumentStore.js';
export type { SqliteDocuments } from './sqliteDocumentStore.js';
export type { Durability } from './sqliteSchema.js';
export { createSqliteKeyStore } from './sqliteKeyStore.js';
export type { SqliteKeyStoreOptions } from './sqliteKeyStore.js';
