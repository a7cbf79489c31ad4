export { createPostgresProjectionTarget } from './postgresDocumentStore.js';
export type {
  PostgresProjectionTarget,
  PostgresProjectionTargetOptions,
} from './postgresDocumentStore.js';
export { translatePostgresError } from './postgresErrors.js';
