import {
  type DocumentStore,
  type EventStore,
  type Projection,
  type ProjectionTarget,
  startProjection,
  type Subscription,
  type SubscriptionNotice,
} from '../core/index.js';
import { type Accounts, createAccounts } from './accounts.js';
import { aggregateStateAt, type AggregateStateAt } from './aggregateStates.js';
import { createCredentialStore } from './credentialStore.js';
import { createFeed, type Feed } from './feed.js';
import { createArgon2Hasher, type PasswordHasher } from './passwordHasher.js';
import { APP_PROJECTIONS } from './readModelProjections.js';
import { createReadModelQueries, type ReadModelQueries } from './readModelQueries.js';
import { createShop, type Shop } from './shop.js';

export interface ReferenceAppOptions {
  store: EventStore;
  /** Where the read models live (SQLite, MongoDB or PostgreSQL target). */
  readModels: ProjectionTarget;
  /**
   * Private, mutable state that must never enter the event log: password hashes (and the
   * server's sessions). Typically the event store's own database.
   */
  privateDocuments: DocumentStore;
  /** Default: argon2id with OWASP's baseline costs. */
  hasher?: PasswordHasher;
  /** Usernames with the admin role. */
  admins?: readonly string[];
  /** The server secret: HMAC key of the username and email claim streams (see `emailKey`). */
  claimKeySecret: string | Uint8Array;
  /**
   * Erases a person's personal data when their account is deleted: the store's `forget`
   * (see `withCryptoShredding` and `APP_PERSONAL_DATA`).
   */
  forget?: (userId: string) => Promise<unknown>;
  /**
   * Whether placing an order reserves its stock at once (default true: an app without the
   * shop's services). `runApp` sets it false and runs the services, which reserve from
   * `OrderPlaced`; orders are then answered `placed` and become `reserved` shortly after.
   */
  reserveOnPlace?: boolean;
  /** Projection notices (retries, parked events, stops). */
  onNotice?: (notice: SubscriptionNotice) => void;
  /** Clean-ups that failed but did not fail the command. */
  onWarning?: (message: string, error: unknown) => void;
}

/** The reference application: accounts, a tweet feed and a shop on one event store. */
export interface ReferenceApp {
  readonly store: EventStore;
  readonly accounts: Accounts;
  readonly feed: Feed;
  readonly shop: Shop;
  readonly queries: ReadModelQueries;
  readonly projections: readonly Projection[];
  /** Starts the read-model projections; each continues from its checkpoint. */
  start(): void;
  /** The running projections (for status and lag). */
  subscriptions(): readonly Subscription[];
  /** True once every read model includes `position`; false if that takes over `timeoutMs`. */
  waitForReadModels(position: number, timeoutMs?: number): Promise<boolean>;
  /** An app stream's aggregate state at a version (default: the current one). */
  stateAt(streamId: string, version?: number): Promise<AggregateStateAt | undefined>;
  /** Stops the projections (each stores its checkpoint). The store stays open. */
  stop(): Promise<void>;
}

/**
 * Wires the app's domain modules and read models onto an event store.
 *
 * @example
 * const sqlite = createSqliteEventStore({ path: './data/eventloom.db' });
 * const store = withCryptoShredding(sqlite, createCryptoShredder({
 *   personalData: APP_PERSONAL_DATA, keyStore: createSqliteKeyStore(sqlite.database), keyEncryptionKey,
 * }));
 * const app = createReferenceApp({
 *   store,
 *   readModels: createSqliteProjectionTarget(sqlite.database),
 *   privateDocuments: sqlite.documents.async,
 *   claimKeySecret: serverSecret,
 *   forget: (userId) => store.forget(userId),
 * });
 * app.start();
 * const { value: ada } = await app.accounts.register({ username: 'ada', email: 'ada@example.com', name: 'Ada', password: 'correct horse' });
 */
export function createReferenceApp(options: ReferenceAppOptions): ReferenceApp {
  const { store, readModels } = options;
  const hasher = options.hasher ?? createArgon2Hasher();
  const credentials = createCredentialStore(options.privateDocuments);
  let running: Subscription[] = [];

  return {
    store,
    accounts: createAccounts({
      store,
      credentials,
      hasher,
      admins: options.admins,
      claimKeySecret: options.claimKeySecret,
      ...(options.forget !== undefined ? { forget: options.forget } : {}),
      onWarning: options.onWarning,
    }),
    feed: createFeed({ store }),
    shop: createShop({ store, reserveOnPlace: options.reserveOnPlace ?? true }),
    queries: createReadModelQueries(readModels.documents),
    projections: APP_PROJECTIONS,
    start() {
      if (running.length > 0) return;
      running = APP_PROJECTIONS.map((projection) =>
        startProjection({ store, projection, target: readModels, onEvent: options.onNotice }),
      );
    },
    subscriptions: () => running,
    async waitForReadModels(position, timeoutMs = 5000) {
      if (running.length === 0) return false;
      try {
        await Promise.all(running.map((s) => s.waitFor(position, timeoutMs)));
        return true;
      } catch {
        return false;
      }
    },
    stateAt: (streamId, version) => aggregateStateAt(store, streamId, version),
    async stop() {
      const stopping = running;
      running = [];
      await Promise.all(stopping.map((s) => s.stop()));
    },
  };
}
