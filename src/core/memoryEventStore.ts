import { checkExpectedVersion, resolveReappend, type StoredEventRef } from './appendRules.js';
import { withStoreTracing } from './storeTracing.js';
import { Notifier } from './async.js';
import { newEventId } from './eventId.js';
import { StoreClosedError, ValidationError } from './errors.js';
import {
  applyPersonalDataOption,
  type CryptoShreddingEventStore,
  type PersonalDataOption,
} from './cryptoShredding.js';
import { createMemoryKeyStore } from './memoryKeyStore.js';
import { createMemoryDocuments, type MemoryDocuments } from './memoryDocumentStore.js';
import type { InlineProjection } from './readModel.js';
import { createMemoryCheckpointStore } from './memoryCheckpointStore.js';
import { createSubscriptionHost } from './subscription.js';
import type {
  AppendOptions,
  AppendResult,
  CheckpointStore,
  DeleteStreamOptions,
  EventData,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamInfo,
  Subscription,
  SubscribeOptions,
} from './types.js';
import {
  LIMITS,
  normalizeEvents,
  validateExpectedVersion,
  validateReadAllOptions,
  validateReadStreamOptions,
  validateStreamId,
  validateWriteOptions,
} from './validation.js';

export interface MemoryEventStoreOptions {
  /** Largest number of events one append may carry. Default 10 000. */
  maxBatchSize?: number;
  checkpoints?: CheckpointStore;
  /** Projections applied atomically with each append (a throwing handler aborts the append). */
  inlineProjections?: readonly InlineProjection[];
  /** Where inline projections write. Default: a new in-memory document store (`store.documents`). */
  documents?: MemoryDocuments;
  /**
   * Crypto-shredding: declared personal fields are sealed before they are stored (WebCrypto
   * and a memory key store unless given); every read, subscription and inline projection
   * sees plaintext. The store then has `forget(subject)`.
   */
  personalData?: PersonalDataOption;
}

export interface MemoryEventStore extends EventStore {
  /** The read-model documents inline projections write to. */
  readonly documents: MemoryDocuments;
}

interface StreamState {
  version: number;
  /** Versions up to and including this one are soft-deleted. */
  deletedUpTo: number;
  events: RecordedEvent[];
}

/**
 * An event store in memory with the full contract (gap-free global order, concurrency
 * checks, idempotent re-appends, subscriptions). For tests, examples and prototypes.
 *
 * @example
 * const store = createMemoryEventStore();
 * await store.appendToStream('cart-1', [{ type: 'ItemAdded', data: { sku: 'A' } }]);
 */
export function createMemoryEventStore(
  options: MemoryEventStoreOptions & { personalData: PersonalDataOption },
): MemoryEventStore & CryptoShreddingEventStore;
export function createMemoryEventStore(options?: MemoryEventStoreOptions): MemoryEventStore;
export function createMemoryEventStore(
  options: MemoryEventStoreOptions = {},
): MemoryEventStore | (MemoryEventStore & CryptoShreddingEventStore) {
  const log: RecordedEvent[] = [];
  const streams = new Map<string, StreamState>();
  const byId = new Map<string, RecordedEvent>();
  const notifier = new Notifier();
  const checkpoints = options.checkpoints ?? createMemoryCheckpointStore();
  // Arrow functions: \`store\` is defined below and only called once a subscription runs.
  const host = createSubscriptionHost({
    readAll: (o) => store.readAll(o),
    headPosition: () => store.headPosition(),
    headPositionNow: () => log.length,
    checkpoints,
    notifier,
  });
  const documents = options.documents ?? createMemoryDocuments();
  const inline = options.inlineProjections ?? [];
  let closed = false;

  const ensureOpen = (): void => {
    if (closed) throw new StoreClosedError('memory event store');
  };
  const infoOf = (streamId: string, s: StreamState | undefined): StreamInfo => ({
    streamId,
    version: s?.version ?? 0,
    exists: s !== undefined && s.version > s.deletedUpTo,
    deleted: s !== undefined && s.deletedUpTo > 0 && s.version === s.deletedUpTo,
  });
  // Stored events are frozen copies: readers cannot mutate the log through them.
  const copy = (e: RecordedEvent): RecordedEvent => ({
    ...e,
    data: structuredClone(e.data),
    metadata: structuredClone(e.metadata),
    recordedAt: new Date(e.recordedAt),
  });

  const append = (
    streamId: string,
    events: readonly EventData[],
    opts: AppendOptions = {},
    plain?: readonly EventData[],
  ): Promise<AppendResult> =>
    Promise.resolve().then(() => {
      ensureOpen();
      validateStreamId(streamId);
      validateWriteOptions(opts);
      const expected = opts.expectedVersion ?? 'any';
      validateExpectedVersion(expected);
      const batch = normalizeEvents(
        events,
        newEventId,
        options.maxBatchSize ?? LIMITS.maxBatchSize,
      );
      const state = streams.get(streamId);
      const info = infoOf(streamId, state);
      const stored: StoredEventRef[] = [];
      for (const e of batch) {
        const hit = byId.get(e.id);
        if (hit) stored.push({ ...hit, data: JSON.stringify(hit.data) });
      }
      const reappend = resolveReappend(streamId, expected, batch, stored, {
        version: info.version,
        deletedUpTo: state?.deletedUpTo ?? 0,
      });
      if (reappend) return reappend;
      checkExpectedVersion(streamId, expected, info);

      const now = new Date();
      const base = log.length;
      const recorded = batch.map((e, i): RecordedEvent => ({
        id: e.id,
        streamId,
        type: e.type,
        data: JSON.parse(e.data) as unknown,
        metadata: JSON.parse(e.metadata) as Record<string, unknown>,
        version: info.version + i + 1,
        position: base + i + 1,
        recordedAt: now,
      }));
      if (inline.length > 0) {
        const staged = documents.stage();
        for (const projection of inline) {
          for (const [i, event] of recorded.entries()) {
            if (projection.eventTypes && !projection.eventTypes.includes(event.type)) continue;
            const seen = plain?.[i];
            const out = projection.handle(
              seen === undefined
                ? copy(event)
                : { ...copy(event), data: JSON.parse(JSON.stringify(seen.data)) as unknown },
              staged,
            ) as unknown;
            if (out !== undefined && typeof (out as { then?: unknown }).then === 'function') {
              throw new ValidationError(
                `inlineProjections.${projection.name}.handle`,
                'returned a promise; inline projections must be synchronous (use startProjection for async work)',
              );
            }
          }
        }
        staged.commit();
      }
      const s = state ?? { version: 0, deletedUpTo: 0, events: [] };
      for (const e of recorded) {
        log.push(e);
        s.events.push(e);
        byId.set(e.id, e);
      }
      s.version += recorded.length;
      streams.set(streamId, s);
      notifier.notify();
      const last = recorded[recorded.length - 1] as RecordedEvent;
      return { nextExpectedVersion: last.version, lastPosition: last.position };
    });

  const store: MemoryEventStore = {
    checkpoints,
    documents,

    appendToStream: (streamId, events, opts) => append(streamId, events, opts),

    readStream(streamId: string, opts: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
      return Promise.resolve().then(() => {
        ensureOpen();
        validateStreamId(streamId);
        validateReadStreamOptions(opts);
        const s = streams.get(streamId);
        if (!s) return [];
        const visible = s.events.filter((e) => e.version > s.deletedUpTo);
        const max = opts.maxCount ?? Infinity;
        if (opts.direction === 'backwards') {
          const from = opts.from ?? Infinity;
          return visible
            .filter((e) => e.version <= from)
            .reverse()
            .slice(0, max)
            .map(copy);
        }
        const from = opts.from ?? 1;
        return visible
          .filter((e) => e.version >= from)
          .slice(0, max)
          .map(copy);
      });
    },

    readAll(opts: ReadAllOptions = {}): Promise<RecordedEvent[]> {
      return Promise.resolve().then(() => {
        ensureOpen();
        validateReadAllOptions(opts);
        const start = Math.max(0, (opts.from ?? 0) - 1);
        const end = opts.maxCount === undefined ? log.length : start + opts.maxCount;
        return log.slice(start, end).map(copy);
      });
    },

    streamInfo(streamId: string): Promise<StreamInfo> {
      return Promise.resolve().then(() => {
        ensureOpen();
        validateStreamId(streamId);
        return infoOf(streamId, streams.get(streamId));
      });
    },

    deleteStream(streamId: string, opts: DeleteStreamOptions = {}): Promise<void> {
      return Promise.resolve().then(() => {
        ensureOpen();
        validateStreamId(streamId);
        validateWriteOptions(opts);
        const expected = opts.expectedVersion ?? 'any';
        validateExpectedVersion(expected);
        const s = streams.get(streamId);
        checkExpectedVersion(streamId, expected, infoOf(streamId, s));
        if (s) s.deletedUpTo = s.version;
      });
    },

    headPosition: () =>
      Promise.resolve().then(() => {
        ensureOpen();
        return log.length;
      }),

    subscribe(subOptions: SubscribeOptions): Subscription {
      ensureOpen();
      return host.subscribe(subOptions);
    },

    async close(): Promise<void> {
      if (closed) return;
      await host.stopAll();
      closed = true;
    },
  };
  return withStoreTracing(
    applyPersonalDataOption(
      store,
      options.personalData,
      { keyStore: createMemoryKeyStore },
      append,
    ),
    'memory',
  );
}
