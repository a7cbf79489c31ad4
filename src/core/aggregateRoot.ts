import { checkExpectedVersion } from './appendRules.js';
import { backoffDelay, errorMessage, sleep } from './async.js';
import {
  idempotentEventId,
  type CommandRetryOptions,
  type SnapshotErrorHandler,
} from './commandHandler.js';
import type { DomainEvent } from './decider.js';
import {
  isConcurrencyError,
  isIdempotencyConflictError,
  NotFoundError,
  ValidationError,
} from './errors.js';
import type {
  EventData,
  EventMetadata,
  EventStore,
  ExpectedVersion,
  RecordedEvent,
  Snapshot,
  SnapshotStore,
} from './types.js';
import { describe, validateExpectedVersion, validateStreamId } from './validation.js';

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

export interface AggregateSnapshotOptions<A, S = unknown> {
  store: SnapshotStore;
  /** Take a snapshot each time the stream's version crosses a multiple of this number. */
  every: number;
  /** Version of the snapshot's shape. Snapshots of another schema version are ignored. Default 1. */
  schemaVersion?: number;
  /** The aggregate's state as plain JSON-compatible data. */
  toSnapshot(aggregate: A): S;
  /** A new aggregate holding `state` (its version is set by the repository). */
  fromSnapshot(id: string, state: S): A;
  /** Snapshot failures never fail a load or save, but are reported here. Default: `console.warn`. */
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

const DEFAULTS = { maxAttempts: 5, initialDelayMs: 10, maxDelayMs: 1000, schemaVersion: 1 };

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
  const { store, create } = options;
  const maxAttempts = options.retry?.maxAttempts ?? DEFAULTS.maxAttempts;
  const backoff = {
    initialDelayMs: options.retry?.initialDelayMs ?? DEFAULTS.initialDelayMs,
    maxDelayMs: options.retry?.maxDelayMs ?? DEFAULTS.maxDelayMs,
  };
  checkInteger(maxAttempts, 'options.retry.maxAttempts', 1);
  checkInteger(backoff.initialDelayMs, 'options.retry.initialDelayMs', 0);
  checkInteger(backoff.maxDelayMs, 'options.retry.maxDelayMs', 0);
  const snapshots = options.snapshots;
  const schemaVersion = snapshots?.schemaVersion ?? DEFAULTS.schemaVersion;
  if (snapshots !== undefined) {
    checkInteger(snapshots.every, 'options.snapshots.every', 1);
    checkInteger(schemaVersion, 'options.snapshots.schemaVersion', 1);
  }
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

  const report: SnapshotErrorHandler = (error, context) => {
    try {
      if (snapshots?.onSnapshotError) snapshots.onSnapshotError(error, context);
      else
        console.warn(
          `eventloom: snapshot ${context.operation} failed for stream '${context.streamId}' (the aggregate itself is unaffected): ${errorMessage(error)}`,
        );
    } catch {
      // A failing reporter must not fail a load or save that otherwise worked.
    }
  };

  async function loadSnapshot(streamId: string): Promise<Snapshot<S> | undefined> {
    if (snapshots === undefined) return undefined;
    try {
      const snapshot = await snapshots.store.load<S>(streamId);
      if (snapshot === undefined || snapshot.schemaVersion !== schemaVersion) return undefined;
      if (
        snapshot.streamId !== streamId ||
        !Number.isSafeInteger(snapshot.version) ||
        snapshot.version < 1
      ) {
        throw new ValidationError(
          'snapshot',
          `the snapshot loaded for stream '${streamId}' is for stream '${snapshot.streamId}' at version ${String(snapshot.version)}; ignoring it`,
        );
      }
      return snapshot;
    } catch (error) {
      report(error, { streamId, operation: 'load' });
      return undefined;
    }
  }

  async function loadAggregate(
    id: string,
    { useSnapshot, key }: { useSnapshot: boolean; key?: string | undefined },
  ): Promise<LoadedAggregate<A> | undefined> {
    const streamId = streamIdOf(id);
    const snapshot = useSnapshot ? await loadSnapshot(streamId) : undefined;
    let aggregate: A | undefined;
    let events: RecordedEvent[] | undefined;
    let lastPosition = 0;
    if (snapshot !== undefined && snapshots !== undefined) {
      // Reading from the snapshot's own version proves it still matches the stream (see
      // createCommandHandler): a deleted or reset stream no longer has that event.
      const tail = await store.readStream(streamId, { from: snapshot.version });
      const anchor = tail[0];
      if (anchor !== undefined && anchor.version === snapshot.version) {
        try {
          aggregate = snapshots
            .fromSnapshot(id, snapshot.state)
            .loadFromHistory([], anchor.version);
          lastPosition = anchor.position;
          events = tail.slice(1);
        } catch (error) {
          report(error, { streamId, operation: 'load', version: snapshot.version });
        }
      } else {
        report(
          new ValidationError(
            'snapshot',
            `stream '${streamId}' has no event at the snapshot's version ${snapshot.version} (was it deleted or reset?); ignoring the snapshot — delete it to stop this`,
          ),
          { streamId, operation: 'load', version: snapshot.version },
        );
      }
    }
    const fromSnapshot = aggregate !== undefined;
    if (aggregate === undefined || events === undefined) {
      events = await store.readStream(streamId, { from: 1 });
      if (events.length === 0) return undefined;
      aggregate = create(id);
    }
    aggregate.loadFromHistory(events);
    const last = events[events.length - 1];
    if (last !== undefined) lastPosition = last.position;
    positions.set(aggregate, lastPosition);
    const seenKey = key !== undefined && events.some((e) => e.metadata?.idempotencyKey === key);
    return { aggregate, lastPosition, fromSnapshot, seenKey };
  }

  const notFound = (id: string): NotFoundError => {
    const streamId = streamIdOf(id);
    return new NotFoundError(
      `No aggregate '${id}': stream '${streamId}' has no events. Use loadOrCreate() (or update() with createIfMissing) to start it`,
      'STREAM_NOT_FOUND',
      { details: { id, streamId } },
    );
  };

  const fresh = (id: string): LoadedAggregate<A> => {
    const aggregate = create(id);
    if (aggregate.version !== 0 || aggregate.id !== id) {
      throw new ValidationError(
        'options.create',
        `must return a new aggregate with id '${id}' at version 0; got id '${aggregate.id}' at version ${aggregate.version}`,
      );
    }
    return { aggregate, lastPosition: 0, fromSnapshot: false, seenKey: false };
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
    validateSaveOptions(saveOptions);
    const streamId = streamIdOf(aggregate.id);
    const pending = aggregate.uncommittedEvents;
    if (pending.length === 0) {
      return {
        nextExpectedVersion: aggregate.version,
        lastPosition: positions.get(aggregate) ?? 0,
        appended: 0,
      };
    }
    const key = saveOptions.idempotencyKey;
    const events = pending.map((event, i): EventData => ({
      id:
        key !== undefined
          ? idempotentEventId(streamId, key, i)
          : (ownId(event) ?? crypto.randomUUID()),
      type: event.type,
      data: event.data,
      metadata: {
        ...saveOptions.metadata,
        ...ownMetadata(event, i),
        ...(key !== undefined ? { idempotencyKey: key } : {}),
      },
    }));
    const previousVersion = aggregate.version;
    // A deleted stream reads as empty but keeps its version: 'no_stream' lets it restart.
    const expectedVersion =
      saveOptions.expectedVersion ?? (previousVersion === 0 ? 'no_stream' : previousVersion);
    const result = await store.appendToStream(streamId, events, { expectedVersion });
    aggregate.markCommitted(result.nextExpectedVersion);
    positions.set(aggregate, result.lastPosition);
    if (
      snapshots !== undefined &&
      Math.floor(previousVersion / snapshots.every) <
        Math.floor(result.nextExpectedVersion / snapshots.every)
    ) {
      try {
        await snapshots.store.save({
          streamId,
          version: result.nextExpectedVersion,
          state: snapshots.toSnapshot(aggregate),
          schemaVersion,
          takenAt: new Date(),
        });
      } catch (error) {
        report(error, { streamId, operation: 'save', version: result.nextExpectedVersion });
      }
    }
    return { ...result, appended: events.length };
  }

  return {
    async load(id) {
      const loaded = await loadAggregate(id, { useSnapshot: true });
      if (loaded === undefined) throw notFound(id);
      return loaded.aggregate;
    },

    async loadOrCreate(id) {
      return ((await loadAggregate(id, { useSnapshot: true })) ?? fresh(id)).aggregate;
    },

    save,

    async update(id, change, updateOptions = {}) {
      validateSaveOptions(updateOptions);
      const key = updateOptions.idempotencyKey;
      const callerExpected = updateOptions.expectedVersion;
      let conflicted = false;
      for (let attempt = 1; ; attempt++) {
        // After a conflict a keyed update reads the whole stream: the winner may be a
        // duplicate of this very update, with its events behind a newer snapshot.
        const useSnapshot = !(conflicted && key !== undefined);
        const found = await loadAggregate(id, { useSnapshot, key });
        if (found === undefined && updateOptions.createIfMissing !== true) throw notFound(id);
        const loaded = found ?? fresh(id);
        const { aggregate } = loaded;
        if (loaded.seenKey) return asReplay(loaded);

        // Before surfacing a failure, make sure it is not just this update having run before
        // (its events hidden behind the snapshot, or appended by a racing duplicate).
        const replayOrThrow = async (error: unknown, reload: boolean): Promise<UpdateResult<A>> => {
          if (key !== undefined && reload) {
            const full = await loadAggregate(id, { useSnapshot: false, key });
            if (full?.seenKey) return asReplay(full);
          }
          throw error;
        };

        try {
          if (callerExpected !== undefined) {
            checkExpectedVersion(streamIdOf(id), callerExpected, {
              version: aggregate.version,
              exists: aggregate.version > 0,
            });
          }
          await change(aggregate);
        } catch (error) {
          return await replayOrThrow(error, loaded.fromSnapshot);
        }

        try {
          const saved = await save(aggregate, updateOptions);
          return { ...saved, aggregate, idempotentReplay: false };
        } catch (error) {
          const retryable =
            isConcurrencyError(error) && callerExpected === undefined && attempt < maxAttempts;
          if (!retryable) {
            const raced = isConcurrencyError(error) || isIdempotencyConflictError(error);
            return await replayOrThrow(error, raced);
          }
          conflicted = true;
          await sleep(backoffDelay(attempt, backoff));
        }
      }
    },
  };
}

function ownId(event: DomainEvent): string | undefined {
  const id = (event as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

function ownMetadata(event: DomainEvent, index: number): EventMetadata | undefined {
  const metadata = (event as { metadata?: unknown }).metadata;
  if (metadata === undefined) return undefined;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new ValidationError(
      `uncommittedEvents[${index}].metadata`,
      `must be a plain object; got ${describe(metadata)}`,
    );
  }
  return metadata as EventMetadata;
}

function checkInteger(value: unknown, path: string, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ValidationError(path, `must be an integer >= ${min}; got ${describe(value)}`);
  }
}

function validateSaveOptions(options: SaveOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('options', `must be an object; got ${describe(options)}`);
  }
  if (options.expectedVersion !== undefined) validateExpectedVersion(options.expectedVersion);
  const key = options.idempotencyKey;
  if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 256)) {
    throw new ValidationError(
      'options.idempotencyKey',
      `must be a non-empty string of at most 256 characters; got ${describe(key)}`,
    );
  }
  const metadata = options.metadata;
  if (
    metadata !== undefined &&
    (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
  ) {
    throw new ValidationError(
      'options.metadata',
      `must be a plain object; got ${describe(metadata)}`,
    );
  }
}
