import type { Attributes } from '@opentelemetry/api';
import { checkExpectedVersion } from './appendRules.js';
import {
  retryPolicy,
  toAppend,
  validateHandlerOptions,
  validateWriteOptions,
  type CommandRetryOptions,
} from './commandOptions.js';
import type { DecideResult, Decider, DomainEvent } from './decider.js';
import type { Logger } from './logger.js';
import { retryOnConflict } from './retryOnConflict.js';
import { inSpan } from './tracing.js';
import { createStreamLoader, type SnapshotErrorHandler } from './streamLoading.js';
import type {
  EventMetadata,
  EventStore,
  ExpectedVersion,
  RecordedEvent,
  SnapshotStore,
} from './types.js';
import { validateStreamId } from './validation.js';

export type { CommandRetryOptions } from './commandOptions.js';
import { idempotentEventId } from './idempotentEventId.js';
export { idempotentEventId };
export type { SnapshotErrorContext, SnapshotErrorHandler } from './streamLoading.js';

export interface CommandHandlerSnapshotOptions {
  store: SnapshotStore;
  /** Take a snapshot each time the stream's version crosses a multiple of this number. */
  every: number;
  /** Version of the state's shape. Snapshots of another schema version are ignored. Default 1. */
  schemaVersion?: number;
  /**
   * Snapshot failures never fail a command (the events are the truth; the next load reads
   * the whole stream), but they are reported here. Default: a warning on `logger`.
   */
  onSnapshotError?: SnapshotErrorHandler;
}

export interface CommandHandlerOptions<State, Command, Event extends DomainEvent> {
  store: EventStore;
  decider: Decider<State, Command, Event>;
  /** Retries after a concurrency conflict (re-load, re-decide, re-append). */
  retry?: CommandRetryOptions;
  /** Load from and store snapshots of the folded state, for long streams. */
  snapshots?: CommandHandlerSnapshotOptions;
  /** Where warnings go (snapshot failures without `onSnapshotError`). Default: nowhere. */
  logger?: Logger;
}

export interface HandleOptions {
  /**
   * Append only if the stream is exactly here. Default: the version just loaded, with
   * automatic retries on conflict. When you pass it, a mismatch throws `ConcurrencyError`
   * without retrying: you asked for that exact version (e.g. from an `If-Match` header), so
   * re-deciding on newer state would silently break your precondition. `'no_stream'`
   * without an idempotency key decides on the initial state without reading the stream
   * (for streams named by a fresh id); a stream that exists then fails the append.
   */
  expectedVersion?: ExpectedVersion;
  /**
   * Makes the command safe to send again (client retries, redelivered messages). The key is
   * stored in each event's `metadata.idempotencyKey` and the events get ids derived from
   * stream id + key (see `idempotentEventId`), so a duplicate appends nothing: one that finds
   * the original's events answers the original result with `idempotentReplay: true`; one
   * racing the original at the same instant is absorbed by the store's idempotent
   * re-append and answers like the original (same ids and versions, `idempotentReplay:
   * false`). A command that decided no events leaves no trace, so its key is not remembered.
   * Without a key, event ids are random (or the ones `decide` set).
   */
  idempotencyKey?: string;
  /** Merged into every event's metadata (the event's own metadata wins). */
  metadata?: EventMetadata;
}

/** An event as the command handler appended it. */
export type AppendedEvent<Event extends DomainEvent> = Event & {
  id: string;
  streamId: string;
  metadata: EventMetadata;
  version: number;
};

export interface CommandResult<State, Event extends DomainEvent> {
  /** The state after the command (for a replay: right after the original append). */
  state: State;
  /** The events appended by this command (for a replay: by the original command). */
  events: AppendedEvent<Event>[];
  /** The stream's version after the command: pass it as `expectedVersion` next time. */
  nextExpectedVersion: number;
  /**
   * Global position of the last event `state` includes (0 for an empty stream): wait for a
   * projection to reach it to read your own writes.
   */
  lastPosition: number;
  /** True when an earlier command with the same idempotency key was found and nothing was appended. */
  idempotentReplay: boolean;
}

/**
 * Handles one command: load the stream's state, decide, append — retrying on conflict.
 */
export type CommandHandler<State, Command, Event extends DomainEvent> = (
  streamId: string,
  command: Command,
  options?: HandleOptions,
) => Promise<CommandResult<State, Event>>;

interface Loaded<State, Event extends DomainEvent> {
  state: State;
  /**
   * The stream's version: that of the last event `state` includes, or for a stream without
   * visible events its stored version (kept by a soft delete; 0 for a new stream).
   */
  version: number;
  /** The stream has visible events (the load found a snapshot or events). */
  exists: boolean;
  lastPosition: number;
  /** The load started from a snapshot, so older events were not read. */
  fromSnapshot: boolean;
  replay: CommandResult<State, Event> | undefined;
}

/**
 * Runs commands against a decider with optimistic concurrency: load (from a snapshot when
 * one fits, then the tail of the stream), fold with `evolve`, `decide`, and append with the
 * loaded version as the expected version. When another writer got there first the command
 * is re-loaded and re-decided, with backoff, up to `retry.maxAttempts` times; then the
 * `ConcurrencyError` is rethrown.
 *
 * @example
 * const handle = createCommandHandler({ store, decider: cartDecider });
 * const { nextExpectedVersion, events } = await handle(
 *   'cart-42',
 *   { type: 'AddItem', sku: 'book-1', quantity: 2 },
 *   { idempotencyKey: request.headers['idempotency-key'], metadata: { userId } },
 * );
 */
export function createCommandHandler<State, Command, Event extends DomainEvent>(
  options: CommandHandlerOptions<State, Command, Event>,
): CommandHandler<State, Command, Event> {
  validateHandlerOptions(options, 'decider');
  const { store, decider } = options;
  const retry = retryPolicy(options.retry);
  const streams = createStreamLoader<State>({
    store,
    snapshots: options.snapshots,
    unaffected: 'command',
    logger: options.logger,
  });

  async function load(
    streamId: string,
    key: string | undefined,
    useSnapshot: boolean,
  ): Promise<Loaded<State, Event>> {
    const {
      snapshot,
      events,
      version: streamVersion,
    } = await streams.load(streamId, useSnapshot ? (state: State) => state : undefined);
    let state = snapshot !== undefined ? snapshot.restored : decider.initialState();
    let version = snapshot?.version ?? 0;
    let lastPosition = snapshot?.position ?? 0;

    const matched: RecordedEvent[] = [];
    let stateAtMatch = state;
    for (const event of events) {
      state = decider.evolve(state, event as unknown as Event);
      version = event.version;
      lastPosition = event.position;
      // The derived id proves the library wrote the key: a direct append may carry the
      // same metadata value without being an earlier run of this command.
      if (
        key !== undefined &&
        event.metadata?.idempotencyKey === key &&
        event.id === idempotentEventId(streamId, key, matched.length)
      ) {
        matched.push(event);
        stateAtMatch = state;
      }
    }
    const last = matched[matched.length - 1];
    const replay =
      last === undefined
        ? undefined
        : {
            state: stateAtMatch,
            events: matched as unknown as AppendedEvent<Event>[],
            nextExpectedVersion: last.version,
            lastPosition: last.position,
            idempotentReplay: true,
          };
    return {
      state,
      version: Math.max(version, streamVersion),
      exists: snapshot !== undefined || events.length > 0,
      lastPosition,
      fromSnapshot: snapshot !== undefined,
      replay,
    };
  }

  const newStream = (): Loaded<State, Event> => ({
    state: decider.initialState(),
    version: 0,
    exists: false,
    lastPosition: 0,
    fromSnapshot: false,
    replay: undefined,
  });

  async function append(
    streamId: string,
    loaded: Loaded<State, Event>,
    decided: Event[],
    handleOptions: HandleOptions,
  ): Promise<CommandResult<State, Event>> {
    if (decided.length === 0) {
      return {
        state: loaded.state,
        events: [],
        nextExpectedVersion: loaded.version,
        lastPosition: loaded.lastPosition,
        idempotentReplay: false,
      };
    }
    const { events, expectedVersion } = toAppend(streamId, decided, handleOptions, {
      version: loaded.version,
      path: 'decided events',
    });
    const result = await store.appendToStream(streamId, events, { expectedVersion });

    const firstVersion = result.nextExpectedVersion - events.length + 1;
    const appended = events.map(
      (event, i) =>
        ({
          id: event.id as string,
          streamId,
          type: event.type,
          data: event.data,
          metadata: event.metadata as EventMetadata,
          version: firstVersion + i,
        }) as AppendedEvent<Event>,
    );
    let state = loaded.state;
    for (const event of appended) state = decider.evolve(state, event);

    await streams.saveSnapshot(streamId, loaded.version, result.nextExpectedVersion, () => state);
    return {
      state,
      events: appended,
      nextExpectedVersion: result.nextExpectedVersion,
      lastPosition: result.lastPosition,
      idempotentReplay: false,
    };
  }

  return async function handle(streamId, command, handleOptions = {}) {
    validateStreamId(streamId);
    validateWriteOptions(handleOptions);
    const callerExpected = handleOptions.expectedVersion;
    return inSpan(
      'handle command',
      { attributes: () => commandAttributes(streamId, command, handleOptions) },
      () => handleWithRetries(streamId, command, handleOptions, callerExpected),
    );
  };

  function handleWithRetries(
    streamId: string,
    command: Command,
    handleOptions: HandleOptions,
    callerExpected: ExpectedVersion | undefined,
  ): Promise<CommandResult<State, Event>> {
    // A caller that expects no stream (a fresh id) gets the initial state without a read: the
    // store refuses the append if the stream exists after all, and that precondition is never
    // retried. With an idempotency key the stream is read, to find an earlier run's events.
    const fresh = callerExpected === 'no_stream' && handleOptions.idempotencyKey === undefined;
    return retryOnConflict(retry, handleOptions, async (useSnapshot) => {
      const loaded = fresh
        ? newStream()
        : await load(streamId, handleOptions.idempotencyKey, useSnapshot);
      return {
        replay: loaded.replay,
        fromSnapshot: loaded.fromSnapshot,
        decide: async () => {
          if (callerExpected !== undefined) {
            checkExpectedVersion(streamId, callerExpected, {
              version: loaded.version,
              exists: loaded.exists,
            });
          }
          const decided = toArray(await decider.decide(command, loaded.state));
          return () => append(streamId, loaded, decided, handleOptions);
        },
      };
    });
  }
}

/** Span attributes of a command: its stream, its `type` when it has one, its key. */
function commandAttributes(streamId: string, command: unknown, options: HandleOptions): Attributes {
  const type = (command as { type?: unknown } | null)?.type;
  return {
    'eventloom.stream.id': streamId,
    ...(typeof type === 'string' ? { 'eventloom.command.type': type } : {}),
    ...(options.idempotencyKey !== undefined
      ? { 'eventloom.command.idempotency_key': options.idempotencyKey }
      : {}),
  };
}

function toArray<Event>(result: DecideResult<Event>): Event[] {
  return Array.isArray(result) ? [...(result as readonly Event[])] : [result as Event];
}
