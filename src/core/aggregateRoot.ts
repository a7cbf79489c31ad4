import { checkExpectedVersion } from './appendRules.js';
import type {
  CommandHandlerSnapshotOptions,
  CommandRetryOptions,
  SnapshotErrorHandler,
} from './commandHandler.js';
import {
  retryPolicy,
  toAppend,
  validateHandlerOptions,
  validateWriteOptions,
} from './commandOptions.js';
import type { DomainEvent } from './decider.js';
import { NotFoundError, ValidationError } from './errors.js';
import { idempotentEventId } from './idempotentEventId.js';
import type { Logger } from './logger.js';
import { retryOnConflict } from './retryOnConflict.js';
import { createStreamLoader } from './streamLoading.js';
import type { EventMetadata, EventStore, ExpectedVersion, RecordedEvent } from './types.js';
import { describe, validateStreamId } from './validation.js';

/**
 * The classic, object-oriented way to model an aggregate: command methods check the rules
 * and `raise` events; `apply` is the only place that changes fields. Raised events collect
 * as `uncommittedEvents` until a repository appends them.
 *
 * Events carry facts, never secrets: a password change records a hash (or better, nothing
 * but the fact that it changed), never the password.
 *
 * @example
 * type UserEvent =
 *   | { type: 'UserRegistered'; data: { username: string; email: string; passwordHash: string } }
 *   | { type: 'PasswordChanged'; data: { passwordHash: string } };
 *
 * class User extends AggregateRoot<UserEvent> {
 *   registered = false;
 *   passwordHash = '';
 *   register(username: string, email: string, passwordHash: string): void {
 *     if (this.registered) throw new CommandRejectedError(`User ${this.id} is already registered`);
 *     this.raise({ type: 'UserRegistered', data: { username, email, passwordHash } });
 *   }
 *   protected override apply(event: UserEvent): void {
 *     if (event.type === 'UserRegistered') this.registered = true;
 *     this.passwordHash = event.data.passwordHash;
 *   }
 * }
 */
export abstract class AggregateRoot<Event extends DomainEvent> {
  readonly id: string;
  #version = 0;
  #uncommitted: Event[] = [];

  constructor(id: string) {
    this.id = id;
  }

  /**
   * Version of the last stored event this aggregate includes (0 for a new one): the
   * expected version of its next save. Raising events does not change it; committing does.
   */
  get version(): number {
    return this.#version;
  }

  /** Events raised since the aggregate was loaded or last committed, oldest first. */
  get uncommittedEvents(): readonly Event[] {
    return [...this.#uncommitted];
  }

  /** Changes the aggregate's fields for one event. Never throws for an event already stored. */
  protected abstract apply(event: Event): void;

  /** Applies a new event, then records it as uncommitted (nothing is recorded if `apply` throws). */
  protected raise(event: Event): void {
    this.apply(event);
    this.#uncommitted.push(event);
  }

  /**
   * Forgets the uncommitted events after they were appended.
   * @param nextExpectedVersion the version the append returned; default: `version` plus the
   * number of uncommitted events.
   */
  markCommitted(nextExpectedVersion?: number): void {
    const next = nextExpectedVersion ?? this.#version + this.#uncommitted.length;
    if (!Number.isSafeInteger(next) || next < this.#version) {
      throw new ValidationError(
        'nextExpectedVersion',
        `must be an integer >= the aggregate's version ${this.#version}; got ${describe(next)}`,
      );
    }
    this.#version = next;
    this.#uncommitted = [];
  }

  /**
   * Replays stored events (no new uncommitted events). Recorded events set the version to
   * their own `version`; plain `{ type, data }` events count up from `startVersion`.
   *
   * @param startVersion the version the aggregate already includes, e.g. the version of the
   * snapshot it was restored from. Default: its current version.
   */
  loadFromHistory(events: Iterable<Event>, startVersion: number = this.#version): this {
    if (this.#uncommitted.length > 0) {
      throw new ValidationError(
        'aggregate',
        `${this.constructor.name} '${this.id}' has ${this.#uncommitted.length} uncommitted events; load history before raising new events`,
      );
    }
    this.#version = startVersion;
    for (const event of events) {
      const recorded = (event as { version?: unknown }).version;
      const version = typeof recorded === 'number' ? recorded : this.#version + 1;
      if (version <= this.#version) {
        throw new ValidationError(
          'events',
          `event '${event.type}' at version ${version} is not after the aggregate's version ${this.#version}; was the same history loaded twice?`,
        );
      }
      this.apply(event);
      this.#version = version;
    }
    return this;
  }

  /**
   * Replays `events` into a fresh aggregate and returns it.
   *
   * @example
   * const user = AggregateRoot.rehydrate(new User('42'), await store.readStream('user-42'));
   */
  static rehydrate<A extends AggregateRoot<DomainEvent>>(
    aggregate: A,
    events: Iterable<AggregateEvent<A> | RecordedEvent>,
  ): A {
    return aggregate.loadFromHistory(events as Iterable<DomainEvent>);
  }
}

/** The event type of an aggregate class. */
export type AggregateEvent<A> = A extends AggregateRoot<infer E> ? E : never;

export interface AggregateSnapshotOptions<A, S = unknown> extends CommandHandlerSnapshotOptions {
  /** The aggregate's state as plain JSON-compatible data. */
  toSnapshot(aggregate: A): S;
  /** A new aggregate holding `state` (its version is set by the repository). */
  fromSnapshot(id: string, state: S): A;
  /** Snapshot failures never fail a load or save, but are reported here. Default: a warning on `logger`. */
  onSnapshotError?: SnapshotErrorHandler;
}

export interface AggregateRepositoryOptions<A extends AggregateRoot<DomainEvent>, S = unknown> {
  store: EventStore;
  /** The stream of an aggregate id, e.g. `(id) => \`user-${id}\``. */
  streamId: (id: string) => string;
  /** A new, empty aggregate (version 0). */
  create: (id: string) => A;
  snapshots?: AggregateSnapshotOptions<A, S>;
  /** Retries of `update` after a concurrency conflict. */
  retry?: CommandRetryOptions;
  /** Where warnings go (snapshot failures without `onSnapshotError`). Default: nowhere. */
  logger?: Logger;
}

export interface SaveOptions {
  /**
   * Default: the version the aggregate was loaded at (`'no_stream'` for a new one), so a
   * concurrent change makes the save fail with `ConcurrencyError`.
   */
  expectedVersion?: ExpectedVersion;
  /** Merged into every event's metadata (the event's own metadata wins). */
  metadata?: EventMetadata;
  /**
   * Derives the event ids from stream id + key and stores the key in `metadata.idempotencyKey`:
   * re-saving the same events at the same place writes nothing. `update` also recognizes a
   * key it has seen and does not run the change again.
   */
  idempotencyKey?: string;
}

export interface UpdateOptions extends SaveOptions {
  /** Start a new aggregate when its stream does not exist (default: throw `NotFoundError`). */
  createIfMissing?: boolean;
}

export interface SaveResult {
  /** The stream's version after the save. */
  nextExpectedVersion: number;
  /** Global position of the last event the aggregate includes (0 when unknown or empty). */
  lastPosition: number;
  /** Number of events appended (0 when there was nothing to save). */
  appended: number;
}

export interface UpdateResult<A> extends SaveResult {
  aggregate: A;
  /** True when an earlier update with the same idempotency key was found: nothing ran or was appended. */
  idempotentReplay: boolean;
}

export interface AggregateRepository<A> {
  /** The aggregate with every stored event applied; `NotFoundError` (`STREAM_NOT_FOUND`) when its stream has none. */
  load(id: string): Promise<A>;
  /** Like `load`, but a missing stream gives a new aggregate at version 0. */
  loadOrCreate(id: string): Promise<A>;
  /** Appends the uncommitted events, expecting the stream to be at the aggregate's version. */
  save(aggregate: A, options?: SaveOptions): Promise<SaveResult>;
  /**
   * Load, run `change`, save — and on a concurrency conflict start over with fresh state,
   * with backoff. A caller-given `expectedVersion` is checked but never retried.
   */
  update(
    id: string,
    change: (aggregate: A) => void | Promise<void>,
    options?: UpdateOptions,
  ): Promise<UpdateResult<A>>;
}

interface LoadedAggregate<A> {
  aggregate: A;
  lastPosition: number;
  fromSnapshot: boolean;
  /** The idempotency key asked about was found among the events read. */
  seenKey: boolean;
}

/**
 * Loads and saves `AggregateRoot`s on an event store, with optimistic concurrency,
 * optional snapshots and idempotency keys.
 *
 * @example
 * const users = createAggregateRepository({
 *   store,
 *   streamId: (id) => `user-${id}`,
 *   create: (id) => new User(id),
 * });
 * await users.update('42', (user) => user.changePassword(newHash), { idempotencyKey: requestId });
 */
export function createAggregateRepository<A extends AggregateRoot<DomainEvent>, S = unknown>(
  options: AggregateRepositoryOptions<A, S>,
): AggregateRepository<A> {
  validateHandlerOptions(options, 'repository');
  const { store, create, snapshots } = options;
  const retry = retryPolicy(options.retry);
  const streams = createStreamLoader<S>({
    store,
    snapshots,
    unaffected: 'aggregate',
    logger: options.logger,
  });
  // The position of the last event each aggregate includes, without adding a field users see.
  const positions = new WeakMap<A, number>();

  const streamIdOf = (id: string): string => {
    if (typeof id !== 'string' || id.length === 0) {
      throw new ValidationError('id', `must be a non-empty string; got ${describe(id)}`);
    }
    const streamId = options.streamId(id);
    validateStreamId(streamId, `streamId('${id}')`);
    return streamId;
  };

  /** The aggregate, or for a stream without visible events its stored version (0 when new). */
  async function loadAggregate(
    id: string,
    { useSnapshot, key }: { useSnapshot: boolean; key?: string | undefined },
  ): Promise<LoadedAggregate<A> | { missing: true; streamVersion: number }> {
    const restore =
      useSnapshot && snapshots !== undefined
        ? (state: S, version: number) =>
            snapshots.fromSnapshot(id, state).loadFromHistory([], version)
        : undefined;
    const { snapshot, events, version } = await streams.load(streamIdOf(id), restore);
    if (snapshot === undefined && events.length === 0) {
      return { missing: true, streamVersion: version };
    }
    const aggregate = snapshot !== undefined ? snapshot.restored : create(id);
    aggregate.loadFromHistory(events);
    const lastPosition = events.at(-1)?.position ?? snapshot?.position ?? 0;
    positions.set(aggregate, lastPosition);
    const seenKey = key !== undefined && wroteKey(streamIdOf(id), key, events);
    return { aggregate, lastPosition, fromSnapshot: snapshot !== undefined, seenKey };
  }

  const notFound = (id: string): NotFoundError => {
    const streamId = streamIdOf(id);
    return new NotFoundError(
      `No aggregate '${id}': stream '${streamId}' has no events. Use loadOrCreate() (or update() with createIfMissing) to start it`,
      'STREAM_NOT_FOUND',
      { details: { id, streamId } },
    );
  };

  const fresh = (id: string): A => {
    const aggregate = create(id);
    if (aggregate.version !== 0 || aggregate.id !== id) {
      throw new ValidationError(
        'options.create',
        `must return a new aggregate with id '${id}' at version 0; got id '${aggregate.id}' at version ${aggregate.version}`,
      );
    }
    return aggregate;
  };

  // A replay answers the aggregate as it is now: re-running the change is what must not happen.
  const asReplay = (loaded: LoadedAggregate<A>): UpdateResult<A> => ({
    aggregate: loaded.aggregate,
    nextExpectedVersion: loaded.aggregate.version,
    lastPosition: loaded.lastPosition,
    appended: 0,
    idempotentReplay: true,
  });

  async function save(aggregate: A, saveOptions: SaveOptions = {}): Promise<SaveResult> {
    validateWriteOptions(saveOptions);
    const streamId = streamIdOf(aggregate.id);
    const pending = aggregate.uncommittedEvents;
    if (pending.length === 0) {
      return {
        nextExpectedVersion: aggregate.version,
        lastPosition: positions.get(aggregate) ?? 0,
        appended: 0,
      };
    }
    const previousVersion = aggregate.version;
    const { events, expectedVersion } = toAppend(streamId, pending, saveOptions, {
      version: previousVersion,
      path: 'uncommittedEvents',
    });
    const result = await store.appendToStream(streamId, events, { expectedVersion });
    aggregate.markCommitted(result.nextExpectedVersion);
    positions.set(aggregate, result.lastPosition);
    if (snapshots !== undefined) {
      await streams.saveSnapshot(streamId, previousVersion, result.nextExpectedVersion, () =>
        snapshots.toSnapshot(aggregate),
      );
    }
    return { ...result, appended: events.length };
  }

  return {
    async load(id) {
      const loaded = await loadAggregate(id, { useSnapshot: true });
      if ('missing' in loaded) throw notFound(id);
      return loaded.aggregate;
    },

    async loadOrCreate(id) {
      const loaded = await loadAggregate(id, { useSnapshot: true });
      return 'missing' in loaded ? fresh(id) : loaded.aggregate;
    },

    save,

    async update(id, change, updateOptions = {}) {
      validateWriteOptions(updateOptions);
      const key = updateOptions.idempotencyKey;
      const callerExpected = updateOptions.expectedVersion;
      return retryOnConflict(retry, updateOptions, async (useSnapshot) => {
        const loaded = await loadAggregate(id, { useSnapshot, key });
        const found = 'missing' in loaded ? undefined : loaded;
        return {
          replay: found?.seenKey === true ? asReplay(found) : undefined,
          fromSnapshot: found?.fromSnapshot === true,
          decide: async () => {
            // Not on load: the reload that looks for a replay after a failure must rethrow
            // that failure, and a missing stream outranks a wrong expectedVersion.
            if (found === undefined && updateOptions.createIfMissing !== true) throw notFound(id);
            const aggregate = found?.aggregate ?? fresh(id);
            if (callerExpected !== undefined) {
              // A soft-deleted stream has no aggregate but keeps its version, which the
              // store checks an expected version against.
              checkExpectedVersion(streamIdOf(id), callerExpected, {
                version: 'missing' in loaded ? loaded.streamVersion : aggregate.version,
                exists: found !== undefined,
              });
            }
            await change(aggregate);
            return async () => ({
              ...(await save(aggregate, updateOptions)),
              aggregate,
              idempotentReplay: false,
            });
          },
        };
      });
    },
  };
}

/**
 * Whether `events` hold a save made with idempotency key `key`: the key in the metadata and
 * the id derived from it (a direct append may carry the same metadata value).
 */
function wroteKey(streamId: string, key: string, events: readonly RecordedEvent[]): boolean {
  const first = idempotentEventId(streamId, key, 0);
  return events.some((e) => e.metadata?.idempotencyKey === key && e.id === first);
}
