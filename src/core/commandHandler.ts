import { checkExpectedVersion } from './appendRules.js';
import { backoffDelay, errorMessage, sleep } from './async.js';
import type { DecideResult, Decider, DomainEvent } from './decider.js';
import { isConcurrencyError, isIdempotencyConflictError, ValidationError } from './errors.js';
import type {
  AppendResult,
  EventData,
  EventMetadata,
  EventStore,
  ExpectedVersion,
  RecordedEvent,
  Snapshot,
  SnapshotStore,
} from './types.js';
import { describe, validateExpectedVersion, validateStreamId } from './validation.js';

/** Retries of a command whose append lost a race against a concurrent writer. */
export interface CommandRetryOptions {
  /** Attempts in total (the first one included) before the `ConcurrencyError` is rethrown. Default 5. */
  maxAttempts?: number;
  /** First backoff delay in ms (jittered, doubling per attempt). Default 10. */
  initialDelayMs?: number;
  /** Backoff ceiling in ms. Default 1000. */
  maxDelayMs?: number;
}

/** Where and why a snapshot could not be used or stored. */
export interface SnapshotErrorContext {
  streamId: string;
  operation: 'load' | 'save';
  /** The stream version of the snapshot concerned, when known. */
  version?: number;
}

/** Called when a snapshot cannot be loaded, does not match its stream, or cannot be saved. */
export type SnapshotErrorHandler = (error: unknown, context: SnapshotErrorContext) => void;

export interface CommandHandlerSnapshotOptions {
  store: SnapshotStore;
  /** Take a snapshot each time the stream's version crosses a multiple of this number. */
  every: number;
  /** Version of the state's shape. Snapshots of another schema version are ignored. Default 1. */
  schemaVersion?: number;
  /**
   * Snapshot failures never fail a command (the events are the truth; the next load reads
   * the whole stream), but they are reported here. Default: `console.warn`.
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
}

export interface HandleOptions {
  /**
   * Append only if the stream is exactly here. Default: the version just loaded, with
   * automatic retries on conflict. When you pass it, a mismatch throws `ConcurrencyError`
   * without retrying: you asked for that exact version (e.g. from an `If-Match` header), so
   * re-deciding on newer state would silently break your precondition.
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

const DEFAULTS = { maxAttempts: 5, initialDelayMs: 10, maxDelayMs: 1000, schemaVersion: 1 };

interface Loaded<State, Event extends DomainEvent> {
  state: State;
  /** Version of the last event `state` includes; 0 when the stream has no visible events. */
  version: number;
  lastPosition: number;
  /** Set when the load started from a snapshot, so older events were not read. */
  snapshotVersion: number | undefined;
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
  const { store, decider } = options;
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
  const reportSnapshotError: SnapshotErrorHandler = (error, context) => {
    try {
      if (snapshots?.onSnapshotError) snapshots.onSnapshotError(error, context);
      else
        console.warn(
          `eventloom: snapshot ${context.operation} failed for stream '${context.streamId}' (the command itself is unaffected): ${errorMessage(error)}`,
        );
    } catch {
      // A failing reporter must not turn a successful command into a failed one.
    }
  };

  async function loadSnapshot(streamId: string): Promise<Snapshot<State> | undefined> {
    if (snapshots === undefined) return undefined;
    let snapshot: Snapshot<State> | undefined;
    try {
      snapshot = await snapshots.store.load<State>(streamId);
    } catch (error) {
      reportSnapshotError(error, { streamId, operation: 'load' });
      return undefined;
    }
    // Another schema version is the expected outcome of changing the state's shape, not a fault.
    if (snapshot === undefined || snapshot.schemaVersion !== schemaVersion) return undefined;
    if (
      snapshot.streamId !== streamId ||
      !Number.isSafeInteger(snapshot.version) ||
      snapshot.version < 1
    ) {
      reportSnapshotError(
        new ValidationError(
          'snapshot',
          `the snapshot loaded for stream '${streamId}' is for stream '${snapshot.streamId}' at version ${String(snapshot.version)}; ignoring it`,
        ),
        { streamId, operation: 'load' },
      );
      return undefined;
    }
    return snapshot;
  }

  async function load(
    streamId: string,
    key: string | undefined,
    useSnapshot: boolean,
  ): Promise<Loaded<State, Event>> {
    let state = decider.initialState();
    let version = 0;
    let lastPosition = 0;
    let snapshotVersion: number | undefined;
    let events: RecordedEvent[] | undefined;

    const snapshot = useSnapshot ? await loadSnapshot(streamId) : undefined;
    if (snapshot !== undefined) {
      // Reading from the snapshot's own version (not the one after it) proves the snapshot
      // still matches the stream: after a delete or a reset that event is gone, and folding
      // new events onto the old state would silently resurrect deleted history.
      const tail = await store.readStream(streamId, { from: snapshot.version });
      const anchor = tail[0];
      if (anchor !== undefined && anchor.version === snapshot.version) {
        state = snapshot.state;
        version = anchor.version;
        lastPosition = anchor.position;
        snapshotVersion = snapshot.version;
        events = tail.slice(1);
      } else {
        reportSnapshotError(
          new ValidationError(
            'snapshot',
            `stream '${streamId}' has no event at the snapshot's version ${snapshot.version} (was it deleted or reset?); ignoring the snapshot and reading the whole stream — delete the snapshot to stop this`,
          ),
          { streamId, operation: 'load', version: snapshot.version },
        );
      }
    }
    events ??= await store.readStream(streamId, { from: 1 });

    const matched: RecordedEvent[] = [];
    let stateAtMatch = state;
    for (const event of events) {
      state = decider.evolve(state, event as unknown as Event);
      version = event.version;
      lastPosition = event.position;
      if (key !== undefined && event.metadata?.idempotencyKey === key) {
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
    return { state, version, lastPosition, snapshotVersion, replay };
  }

  async function saveSnapshot(streamId: string, version: number, state: State): Promise<void> {
    if (snapshots === undefined) return;
    try {
      await snapshots.store.save({ streamId, version, state, schemaVersion, takenAt: new Date() });
    } catch (error) {
      reportSnapshotError(error, { streamId, operation: 'save', version });
    }
  }

  return async function handle(streamId, command, handleOptions = {}) {
    validateStreamId(streamId);
    validateHandleOptions(handleOptions);
    const key = handleOptions.idempotencyKey;
    const callerExpected = handleOptions.expectedVersion;
    let conflicted = false;

    for (let attempt = 1; ; attempt++) {
      // After a conflict a keyed command reads the whole stream: the writer that won may be a
      // duplicate of this very command whose events already sit behind a newer snapshot.
      const loaded = await load(streamId, key, !(conflicted && key !== undefined));
      if (loaded.replay !== undefined) return loaded.replay;

      // Before surfacing a failure, make sure it is not just this command having run before
      // (its events hidden behind the snapshot, or appended by a racing duplicate).
      const replayOrThrow = async (
        error: unknown,
        reload: boolean,
      ): Promise<CommandResult<State, Event>> => {
        if (key !== undefined && reload) {
          const full = await load(streamId, key, false);
          if (full.replay !== undefined) return full.replay;
        }
        throw error;
      };

      let decided: Event[];
      try {
        if (callerExpected !== undefined) {
          checkExpectedVersion(streamId, callerExpected, {
            version: loaded.version,
            exists: loaded.version > 0,
          });
        }
        decided = toArray(await decider.decide(command, loaded.state));
      } catch (error) {
        return await replayOrThrow(error, loaded.snapshotVersion !== undefined);
      }

      if (decided.length === 0) {
        return {
          state: loaded.state,
          events: [],
          nextExpectedVersion: loaded.version,
          lastPosition: loaded.lastPosition,
          idempotentReplay: false,
        };
      }

      const toAppend = decided.map((event, i): EventData => ({
        id:
          key !== undefined
            ? idempotentEventId(streamId, key, i)
            : (ownId(event) ?? crypto.randomUUID()),
        type: event.type,
        data: event.data,
        metadata: {
          ...handleOptions.metadata,
          ...ownMetadata(event, i),
          ...(key !== undefined ? { idempotencyKey: key } : {}),
        },
      }));
      // A deleted stream reads as empty but keeps its version, so "empty" must be expressed
      // as 'no_stream' rather than 0 for a restart to go through.
      const expectedVersion: ExpectedVersion =
        callerExpected ?? (loaded.version === 0 ? 'no_stream' : loaded.version);

      let result: AppendResult;
      try {
        result = await store.appendToStream(streamId, toAppend, { expectedVersion });
      } catch (error) {
        const retryable =
          isConcurrencyError(error) && callerExpected === undefined && attempt < maxAttempts;
        if (!retryable) {
          const raced = isConcurrencyError(error) || isIdempotencyConflictError(error);
          return await replayOrThrow(error, raced);
        }
        conflicted = true;
        await sleep(backoffDelay(attempt, backoff));
        continue;
      }

      const firstVersion = result.nextExpectedVersion - toAppend.length + 1;
      const appended = toAppend.map(
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

      if (
        snapshots !== undefined &&
        Math.floor(loaded.version / snapshots.every) <
          Math.floor(result.nextExpectedVersion / snapshots.every)
      ) {
        await saveSnapshot(streamId, result.nextExpectedVersion, state);
      }
      return {
        state,
        events: appended,
        nextExpectedVersion: result.nextExpectedVersion,
        lastPosition: result.lastPosition,
        idempotentReplay: false,
      };
    }
  };
}

function toArray<Event>(result: DecideResult<Event>): Event[] {
  return Array.isArray(result) ? [...(result as readonly Event[])] : [result as Event];
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
      `decided events[${index}].metadata`,
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

const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

function validateHandleOptions(options: HandleOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('options', `must be an object; got ${describe(options)}`);
  }
  if (options.expectedVersion !== undefined) validateExpectedVersion(options.expectedVersion);
  const key = options.idempotencyKey;
  if (
    key !== undefined &&
    (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)
  ) {
    throw new ValidationError(
      'options.idempotencyKey',
      `must be a non-empty string of at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters; got ${describe(key)}`,
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

/** Namespace of Eventloom's name-based event ids (a random v4 UUID, fixed forever). */
const EVENT_ID_NAMESPACE = '97a97fde-8c8b-4c6d-ab82-893426298894';

/**
 * The id of the `index`-th event appended to `streamId` by the command with `idempotencyKey`:
 * a name-based UUID (RFC 9562 version 5) of `streamId + "\0" + key + "\0" + index`, so any
 * process — or any language with a UUIDv5 function — derives the same id, and the store's
 * idempotent re-append turns a duplicate into a no-op.
 *
 * @example
 * idempotentEventId('cart-42', 'req-7f3a', 0); // → '…-5…-…' (the same every time)
 */
export function idempotentEventId(streamId: string, idempotencyKey: string, index: number): string {
  return uuidV5(`${streamId}\u0000${idempotencyKey}\u0000${index}`, EVENT_ID_NAMESPACE);
}

function uuidV5(name: string, namespace: string): string {
  const ns = namespace.replace(/-/g, '');
  const nameBytes = new TextEncoder().encode(name);
  const input = new Uint8Array(16 + nameBytes.length);
  for (let i = 0; i < 16; i++) input[i] = parseInt(ns.slice(i * 2, i * 2 + 2), 16);
  input.set(nameBytes, 16);
  const hash = sha1(input);
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = Array.from(hash.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// SHA-1 (FIPS 180-4) in plain TypeScript because the core may not import node:crypto and
// WebCrypto's digest is async. Its collision weakness does not matter here: a forged
// collision can only make the forger's own append fail with an idempotency conflict.
function sha1(message: Uint8Array): Uint8Array {
  const paddedLength = Math.ceil((message.length + 9) / 64) * 64;
  const bytes = new Uint8Array(paddedLength);
  bytes.set(message);
  bytes[message.length] = 0x80;
  const view = new DataView(bytes.buffer);
  const bitLength = message.length * 8;
  view.setUint32(paddedLength - 8, Math.floor(bitLength / 0x1_0000_0000));
  view.setUint32(paddedLength - 4, bitLength >>> 0);

  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const w = new Uint32Array(80);
  const wAt = (i: number): number => w[i] as number;
  for (let offset = 0; offset < paddedLength; offset += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(offset + i * 4);
    for (let i = 16; i < 80; i++) {
      const x = wAt(i - 3) ^ wAt(i - 8) ^ wAt(i - 14) ^ wAt(i - 16);
      w[i] = (x << 1) | (x >>> 31);
    }
    let [a, b, c, d, e] = h as [number, number, number, number, number];
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + wAt(i)) >>> 0;
      e = d;
      d = c;
      c = ((b << 30) | (b >>> 2)) >>> 0;
      b = a;
      a = t;
    }
    h[0] = ((h[0] as number) + a) >>> 0;
    h[1] = ((h[1] as number) + b) >>> 0;
    h[2] = ((h[2] as number) + c) >>> 0;
    h[3] = ((h[3] as number) + d) >>> 0;
    h[4] = ((h[4] as number) + e) >>> 0;
  }
  const out = new Uint8Array(20);
  const outView = new DataView(out.buffer);
  h.forEach((word, i) => outView.setUint32(i * 4, word));
  return out;
}
