/**
 * Metadata attached to an event: correlation/causation ids, user, schema version, … Two keys
 * are reserved for the library (see `RESERVED_METADATA_KEYS`): `schemaVersion` must be an
 * integer >= 1 (checked at append; upcasting reads it) and `idempotencyKey` is written by the
 * command handler and repository from their `idempotencyKey` option (a string; they refuse
 * it in the metadata you pass them). `traceparent` / `tracestate` are filled from the active
 * OpenTelemetry span at append when you do not set them (see `RESERVED_METADATA_KEYS`).
 */
export type EventMetadata = Record<string, unknown>;

/**
 * An event to append. `id` defaults to a random UUID; give one yourself to make the append
 * idempotent (re-appending the same ids at the same place writes nothing).
 *
 * @example
 * const e: EventData<'UserRegistered', { username: string }> =
 *   { type: 'UserRegistered', data: { username: 'ada' } };
 */
export interface EventData<TType extends string = string, TData = unknown> {
  type: TType;
  data: TData;
  id?: string;
  metadata?: EventMetadata;
}

/** An event as the store recorded it. */
export interface RecordedEvent<TType extends string = string, TData = unknown> {
  id: string;
  streamId: string;
  type: TType;
  data: TData;
  metadata: EventMetadata;
  /** 1 for the first event of a stream. */
  version: number;
  /** Global order: strictly increasing, never reused. */
  position: number;
  recordedAt: Date;
}

/** Narrows a union of event shapes to the recorded form, keeping the type/data pairing. */
export type Recorded<E extends { type: string; data: unknown }> = E extends unknown
  ? RecordedEvent<E['type'], E['data']>
  : never;

/**
 * What the stream must look like for an append to go through.
 * - a number: the stream's current version (0 = no events yet)
 * - `'any'`: no check
 * - `'no_stream'`: the stream must not exist (or be deleted)
 * - `'stream_exists'`: the stream must exist and not be deleted
 */
export type ExpectedVersion = number | 'any' | 'no_stream' | 'stream_exists';

export interface AppendOptions {
  /** Default `'any'`. */
  expectedVersion?: ExpectedVersion;
}

export interface AppendResult {
  /** The stream's version after the append: pass it as `expectedVersion` next time. */
  nextExpectedVersion: number;
  /** Global position of the last event of this append. */
  lastPosition: number;
}

export type ReadDirection = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  /** First version to read (inclusive). Default: 1 forwards, the last version backwards. */
  from?: number;
  /** Default `'forwards'`. */
  direction?: ReadDirection;
  /** Default: no limit. */
  maxCount?: number;
}

export interface ReadAllOptions {
  /** First global position to read (inclusive). Default 0. */
  from?: number;
  /** Default: no limit. */
  maxCount?: number;
}

export interface StreamInfo {
  streamId: string;
  /** Current version: the version of the last event ever appended (0 when none). */
  version: number;
  /** The stream has events that are not deleted. */
  exists: boolean;
  deleted: boolean;
}

export interface DeleteStreamOptions {
  /** Default `'any'`. */
  expectedVersion?: ExpectedVersion;
}

/** Where a new subscription without a checkpoint starts. */
export type SubscriptionStart = 'start' | 'end' | number;

export interface SubscriptionHandlerContext {
  /** Name of the subscription. */
  subscription: string;
  /** 1 on first delivery of this event in this process, then 2, 3, … on retries. */
  attempt: number;
}

export type SubscriptionHandler = (
  event: RecordedEvent,
  context: SubscriptionHandlerContext,
) => void | Promise<void>;

export interface RetryPolicy {
  /** Attempts per event before the poison policy applies. Default 5. */
  maxAttempts?: number;
  /** First backoff delay in ms. Default 50. */
  initialDelayMs?: number;
  /** Backoff ceiling in ms. Default 5000. */
  maxDelayMs?: number;
}

/**
 * What to do with an event whose handler failed `maxAttempts` times:
 * `'park'` records it with the reason (see `CheckpointStore.listParked`) and moves on;
 * `'stop'` stops the subscription with the error (it resumes at that event next time).
 */
export type PoisonPolicy = 'park' | 'stop';

export interface SubscribeOptions {
  /** Durable name: the checkpoint is stored under it. */
  name: string;
  /** Used only when no checkpoint exists yet. Default `'start'`. */
  from?: SubscriptionStart;
  handler: SubscriptionHandler;
  /**
   * For handlers that only hand events on (the Kafka publisher's buffer): takes the events of
   * one read in a single call, in log order, instead of `handler` once per event. The
   * subscription waits for a returned promise; a throw or rejection stops it (no retries, no
   * parking). `handler` still takes the events when a per-event span is to be made (a tracing
   * SDK is registered, or an event carries a `traceparent`).
   */
  handleBatch?: (events: readonly RecordedEvent[]) => Promise<void> | undefined;
  /**
   * For handlers that send events on as JSON (the Kafka publisher): a store that keeps events
   * as JSON text (SQLite) hands on that text with each event, for `storedJsonOf(event)` to copy
   * instead of serialising the event again. Events are parsed as usual either way. Decorators
   * that change events (crypto-shredding, upcasting) do not pass it on.
   */
  storedJson?: boolean;
  /** Only deliver events of these types (others still advance the checkpoint). */
  eventTypes?: readonly string[];
  /** Events read per batch while catching up. Default 500. */
  batchSize?: number;
  retry?: RetryPolicy;
  /** Default `'park'`. */
  onPoison?: PoisonPolicy;
  /** Checkpoint durably at most this often in ms while events flow (always at batch end when idle, and on stop). Default 200. */
  checkpointIntervalMs?: number;
  /** Poll interval when no in-process signal arrives (other processes may append). Default 100. */
  pollIntervalMs?: number;
  /** Keep the checkpoint somewhere else than the store's checkpoint store (e.g. with a read model). */
  checkpoints?: CheckpointStore;
  /** When `waitFor` resolves: once the event was handled (default) or once its checkpoint is stored. */
  settleOn?: 'handled' | 'checkpointed';
  /** Called for every observable thing the subscription does (retries, parking, errors). */
  onEvent?: (e: SubscriptionNotice) => void;
}

export type SubscriptionNotice =
  | { kind: 'caught-up'; subscription: string; position: number }
  | {
      kind: 'retry';
      subscription: string;
      event: RecordedEvent;
      attempt: number;
      delayMs: number;
      error: unknown;
    }
  | { kind: 'parked'; subscription: string; event: RecordedEvent; reason: string }
  | { kind: 'read-failed'; subscription: string; attempt: number; delayMs: number; error: unknown }
  | {
      /** Storing the checkpoint (for a projection: committing the read model) failed; it is retried. */
      kind: 'checkpoint-failed';
      subscription: string;
      position: number;
      attempt: number;
      delayMs: number;
      error: unknown;
    }
  | {
      /**
       * The event's metadata `traceparent` is not W3C trace context: the event was handled
       * as usual, in a new trace.
       */
      kind: 'malformed-traceparent';
      subscription: string;
      eventId: string;
      position: number;
    }
  | { kind: 'stopped'; subscription: string; position: number; error?: unknown };

export interface SubscriptionStatus {
  name: string;
  state: 'starting' | 'catching-up' | 'live' | 'stopped' | 'failed';
  /** Global position of the last event handled (0 before any). */
  position: number;
  processed: number;
  parked: number;
  error?: string;
}

export interface Subscription {
  readonly name: string;
  status(): SubscriptionStatus;
  /** Resolves when the subscription has handled every event up to `position`. */
  waitFor(position: number, timeoutMs?: number): Promise<void>;
  /** Finishes the event in hand, stores the checkpoint and stops. */
  stop(): Promise<void>;
  /** Settles when the subscription stops: rejects if it stopped on an error. */
  readonly done: Promise<void>;
  /**
   * Resolves once the subscription knows where it starts (its checkpoint is loaded, `'end'`
   * is resolved): every event appended after that is delivered. Rejects if it stops first.
   *
   * @example
   * const sub = store.subscribe({ name: 'audit', from: 'end', handler });
   * await sub.started;
   * await store.appendToStream('user-1', [event]); // delivered to `audit`
   */
  readonly started: Promise<void>;
}

export interface ParkedEvent {
  subscription: string;
  event: RecordedEvent;
  reason: string;
  attempts: number;
  parkedAt: Date;
}

/** Durable per-name positions, and the place where poison events are parked. */
export interface CheckpointStore {
  load(name: string): Promise<number | undefined>;
  save(name: string, position: number): Promise<void>;
  reset(name: string): Promise<void>;
  park(entry: ParkedEvent): Promise<void>;
  listParked(subscription?: string): Promise<ParkedEvent[]>;
  /** Removes a parked entry (after it was replayed or given up). */
  unpark(subscription: string, eventId: string): Promise<void>;
}

/**
 * The event store port. Implementations: memory (`eventloom`), SQLite (`eventloom/sqlite`),
 * MongoDB (`eventloom/mongodb`).
 *
 * @example
 * const { nextExpectedVersion } = await store.appendToStream(
 *   'user-42', [{ type: 'UserRegistered', data: { username: 'ada' } }],
 *   { expectedVersion: 'no_stream' });
 */
export interface EventStore {
  appendToStream(
    streamId: string,
    events: readonly EventData[],
    options?: AppendOptions,
  ): Promise<AppendResult>;
  /** Events of one stream; `[]` when the stream does not exist or was deleted. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** Events of every stream in global order, gap-safe: never returns a position while a lower one may still commit. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  streamInfo(streamId: string): Promise<StreamInfo>;
  /** Soft delete: the stream reads as empty; its events stay in the global log. */
  deleteStream(streamId: string, options?: DeleteStreamOptions): Promise<void>;
  /** The highest position readable now (0 when empty). */
  headPosition(): Promise<number>;
  subscribe(options: SubscribeOptions): Subscription;
  readonly checkpoints: CheckpointStore;
  close(): Promise<void>;
}

/** A stream's folded state at a version, so long streams load fast. */
export interface Snapshot<S = unknown> {
  streamId: string;
  /** Stream version the state includes. */
  version: number;
  state: S;
  /** Bump it when the state's shape changes: snapshots of another schema version are ignored. */
  schemaVersion: number;
  takenAt: Date;
}

export interface SnapshotStore {
  load<S = unknown>(streamId: string): Promise<Snapshot<S> | undefined>;
  save(snapshot: Snapshot): Promise<void>;
  delete(streamId: string): Promise<void>;
}
