import type { Admin, Producer } from '@platformatic/kafka';
import { backoffDelay, errorMessage, sleep } from '../core/async.js';
import { EventloomError, isEventloomError, isStoreClosedError } from '../core/errors.js';
import { storedFormOf } from '../core/cryptoShredding.js';
import type {
  CheckpointStore,
  EventStore,
  RecordedEvent,
  Subscription,
  SubscriptionStart,
} from '../core/types.js';
import type { Logger } from '../core/logger.js';
import type { Registry } from '../node/metricsRegistry.js';
import { type KafkaConnection, loadKafka } from './kafkaClient.js';
import { asError, isKafkaError, type KafkaError, translateKafkaError } from './kafkaErrors.js';
import {
  fromKafkaMessage,
  isValidTopicName,
  type KafkaEventMessage,
  messageBytes,
  toKafkaMessage,
} from './kafkaMessage.js';
import { publisherNotices } from './kafkaNotices.js';
import { resolvePublisherOptions } from './kafkaPublisherOptions.js';
import { createTopicRegistry, type TopicInfo, type TopicSettings } from './kafkaTopics.js';

/** Compression of produced record batches (all built into `@platformatic/kafka`). */
export type KafkaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface KafkaPublisherSettings {
  /** The store to follow: the publisher is a durable subscription on it (the outbox). */
  store: EventStore;
  /** Durable subscription name; its checkpoint is the last position Kafka acknowledged. Default `'kafka-publisher'`. */
  name?: string;
  /** Where a publisher without a checkpoint starts. Default `'start'` (publish the whole log). */
  from?: SubscriptionStart;
  /** Topic of an event. Default `eventloom.<category>` ({@link defaultTopicFor}). */
  topicFor?: (event: RecordedEvent) => string;
  /**
   * Create missing topics (with these settings), or `false` to require them to exist (a
   * missing topic then stops publishing with an error naming it, retried until it exists).
   * Default `{}`: create with the broker's default partitions and replication factor.
   */
  createTopics?: TopicSettings | false;
  /** Most events per produce request. Default 2000. */
  batchSize?: number;
  /** Most bytes per produce request (kept under each topic's `max.message.bytes`). Default 1 000 000. */
  maxBatchBytes?: number;
  /** Default `'none'`, which every Kafka client can read; `'lz4'` cuts broker load for big backlogs. */
  compression?: KafkaCompression;
  /** Backoff between attempts while Kafka fails (retried forever, reported as notices). */
  retry?: { initialDelayMs?: number; maxDelayMs?: number };
  /**
   * How often the publisher looks for new events besides the store's own wake-ups (appends
   * by other processes; appends in this process wake it at once). Default 100 ms.
   */
  pollIntervalMs?: number;
  /** On stop, how long to keep publishing what was already read. Default 5000 ms. */
  stopTimeoutMs?: number;
  /** Everything observable: retries with the error, parked events, created topics, batches. */
  onEvent?: (notice: KafkaPublisherNotice) => void;
  /** Where the notices are logged (batches at debug, retries and parked events at warn). Default: nowhere. */
  logger?: Logger;
  /** The process's Prometheus registry: published, retried and parked events are counted there. */
  metrics?: Registry;
}

/**
 * Options of {@link startKafkaPublisher}: the settings plus where Kafka is (`brokers` or
 * full `client` settings).
 */
export type KafkaPublisherOptions = KafkaPublisherSettings & KafkaConnection;

export type KafkaPublisherNotice =
  | { kind: 'topic-created'; publisher: string; topic: string; partitions: number }
  | { kind: 'published'; publisher: string; count: number; position: number; ms: number }
  | { kind: 'caught-up'; publisher: string; position: number }
  | {
      kind: 'retry';
      publisher: string;
      attempt: number;
      delayMs: number;
      error: KafkaError;
    }
  | { kind: 'parked'; publisher: string; event: RecordedEvent; reason: string }
  | { kind: 'read-failed'; publisher: string; attempt: number; delayMs: number; error: unknown }
  | { kind: 'checkpoint-failed'; publisher: string; position: number; error: unknown }
  | { kind: 'stopped'; publisher: string; position: number; error?: unknown };

export interface KafkaPublisherStatus {
  name: string;
  state: 'starting' | 'catching-up' | 'live' | 'retrying' | 'stopping' | 'stopped' | 'failed';
  /** Last global position Kafka acknowledged (or that was parked); 0 before any. */
  position: number;
  /** The store's head when last looked at. */
  headPosition: number;
  /** `headPosition - position`: events appended but not yet on Kafka. */
  lag: number;
  /** Last position stored as the durable checkpoint. */
  checkpoint: number;
  /** Events read from the store, waiting for Kafka. */
  buffered: number;
  /** Events Kafka acknowledged since start. */
  published: number;
  /** Events parked (see `store.checkpoints.listParked(name)`) since start. */
  parked: number;
  /** Failed produce attempts since start. */
  retries: number;
  lastError?: string;
  lastPublishedAt?: Date;
}

export interface KafkaPublisher {
  readonly name: string;
  status(): KafkaPublisherStatus;
  /** Events appended but not yet acknowledged by Kafka, measured now. */
  lag(): Promise<number>;
  /** Resolves once every event up to `position` is on Kafka (or parked). */
  waitFor(position: number, timeoutMs?: number): Promise<void>;
  /** Publishes what was already read (up to `stopTimeoutMs`), stores the checkpoint, closes the clients. */
  stop(): Promise<void>;
  /** Settles when the publisher stops; rejects if it stopped on an error (e.g. the store closed). */
  readonly done: Promise<void>;
}

interface Entry {
  position: number;
  /**
   * Kept only when no message could be built; otherwise the message value holds the event.
   * (Thousands of entries wait here: retaining less keeps garbage collection cheap.)
   */
  event: RecordedEvent | undefined;
  message: KafkaEventMessage | undefined;
  bytes: number;
  /** Why this event cannot be published: it is parked when it reaches the head. */
  park: string | undefined;
}

/** A FIFO with O(1) shift, since the buffer holds thousands of entries. */
class Queue<T> {
  #items: T[] = [];
  #first = 0;
  get size(): number {
    return this.#items.length - this.#first;
  }
  push(item: T): void {
    this.#items.push(item);
  }
  at(i: number): T | undefined {
    return this.#items[this.#first + i];
  }
  drop(n: number): void {
    this.#first += n;
    if (this.#first > 4096 && this.#first * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#first);
      this.#first = 0;
    }
  }
}

/** Room kept free in a produce request for the record batch and request headers. */
const BATCH_OVERHEAD = 4096;

/**
 * Publishes every event of the store to Kafka, at least once, in order per stream: topic
 * `eventloom.<category>` (or `topicFor`), key = stream id, value = the event as JSON, headers
 * `event-id`, `event-type`, `stream-version`, `position` (+ `correlation-id`, `causation-id`
 * from metadata). It follows the store through a durable subscription and produces in
 * batches with an idempotent producer and `acks=all`; the checkpoint moves only past events
 * Kafka acknowledged, so a restart — even after a crash — continues where it stopped. An
 * unreachable broker is retried with backoff and reported; an event too large for its topic
 * is parked (`store.checkpoints.listParked(name)`) and publishing goes on.
 *
 * @example
 * const publisher = startKafkaPublisher({ store, brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' });
 * publisher.status(); // { state: 'live', position: 1042, lag: 0, … }
 * await publisher.stop();
 */
export function startKafkaPublisher(options: KafkaPublisherOptions): KafkaPublisher {
  const config = resolvePublisherOptions(options);
  const { name, from, topicFor, batchSize, maxBatchBytes, compression } = config;
  const { stopTimeoutMs, backoff, createTopics, connection } = config;
  // Personal fields leave the process sealed, so a forget also forgets what sits in topics.
  const store = storedFormOf(config.store);
  const { brokers } = connection;
  const checkpoints = store.checkpoints;
  const maxBuffered = batchSize * 2;

  const emit = publisherNotices(config);

  const status: KafkaPublisherStatus = {
    name,
    state: 'starting',
    position: 0,
    headPosition: 0,
    lag: 0,
    checkpoint: 0,
    buffered: 0,
    published: 0,
    parked: 0,
    retries: 0,
  };
  const queue = new Queue<Entry>();
  const stopController = new AbortController();
  let stopDeadline = Infinity;
  let fatal: Error | undefined;
  let live = false;

  // Wake-ups between the subscription handler (fills the queue) and the flusher (drains it).
  let wakeFlusher: (() => void) | undefined;
  const signalFlusher = (): void => {
    const wake = wakeFlusher;
    wakeFlusher = undefined;
    wake?.();
  };
  const flusherSignal = (): Promise<void> =>
    new Promise((resolve) => {
      wakeFlusher = resolve;
      if (stopController.signal.aborted) resolve();
    });
  let spaceWaiters: (() => void)[] = [];
  const releaseSpace = (): void => {
    const waiters = spaceWaiters;
    spaceWaiters = [];
    for (const w of waiters) w();
  };

  const positionWaiters = new Set<{
    position: number;
    resolve: () => void;
    reject: (e: Error) => void;
  }>();
  const settlePositionWaiters = (error?: Error): void => {
    for (const w of positionWaiters) {
      if (error) w.reject(error);
      else if (status.position >= w.position) w.resolve();
      else continue;
      positionWaiters.delete(w);
    }
  };

  // ---- Kafka clients -------------------------------------------------------------------
  let producer: Producer<string, string, string, string> | undefined;
  let admin: Admin | undefined;
  const getAdmin = async (): Promise<Admin> => {
    const kafka = await loadKafka();
    admin ??= new kafka.Admin({ ...connection.base, clientId: `${connection.clientId}-admin` });
    return admin;
  };
  const getProducer = async (): Promise<Producer<string, string, string, string>> => {
    if (producer) return producer;
    const kafka = await loadKafka();
    producer = new kafka.Producer({
      ...connection.base,
      clientId: connection.clientId,
      idempotent: true,
      acks: kafka.ProduceAcks.ALL,
      compression,
      // Java-compatible murmur2: a stream lands on the same partition as with Java or kafkajs.
      partitioner: kafka.compatibilityPartitioner,
      serializers: kafka.stringSerializers,
    });
    return producer;
  };
  /** After a failed send the idempotent producer's sequence numbers may be off: start fresh. */
  const resetProducer = async (): Promise<void> => {
    const old = producer;
    producer = undefined;
    await old?.close().catch(() => undefined);
  };
  const topics = createTopicRegistry({
    admin: getAdmin,
    brokers,
    create: createTopics,
    onCreated: (info) =>
      emit({
        kind: 'topic-created',
        publisher: name,
        topic: info.name,
        partitions: info.partitions,
      }),
  });

  // ---- checkpoint ----------------------------------------------------------------------
  let saving: Promise<void> | undefined;
  let saveWanted = false;
  const saveLoop = async (): Promise<void> => {
    let failures = 0;
    while (saveWanted) {
      saveWanted = false;
      const position = status.position;
      if (position <= status.checkpoint) continue;
      try {
        await checkpoints.save(name, position);
        status.checkpoint = position;
        failures = 0;
      } catch (error) {
        emit({ kind: 'checkpoint-failed', publisher: name, position, error });
        if (isStoreClosedError(error)) return;
        saveWanted = true;
        await sleep(backoffDelay(++failures, backoff), stopController.signal);
        if (stopController.signal.aborted) return;
      }
    }
  };
  /** Saves the latest acknowledged position without holding up the next send. */
  const scheduleSave = (): void => {
    saveWanted = true;
    saving ??= saveLoop().finally(() => (saving = undefined));
  };

  const advance = (position: number, count: number): void => {
    queue.drop(count);
    status.buffered = queue.size;
    status.position = position;
    status.lag = Math.max(0, status.headPosition - position);
    settlePositionWaiters();
    scheduleSave();
    if (queue.size < maxBuffered) releaseSpace();
  };

  let headCheckedAt = 0;
  const refreshHead = (): void => {
    const now = Date.now();
    if (now - headCheckedAt < 500) return;
    headCheckedAt = now;
    store.headPosition().then(
      (head) => {
        status.headPosition = Math.max(status.headPosition, head);
        status.lag = Math.max(0, status.headPosition - status.position);
      },
      () => undefined,
    );
  };

  // ---- intake: the subscription handler buffers, the flusher sends ------------------------
  let lastValidTopic: string | undefined;
  const enqueue = async (event: RecordedEvent): Promise<void> => {
    let park: string | undefined;
    let message: KafkaEventMessage | undefined;
    try {
      const topic = topicFor(event);
      if (topic !== lastValidTopic && !isValidTopicName(topic)) {
        park = `topicFor returned ${JSON.stringify(topic)}, which is not a Kafka topic name (1-249 characters of A-Z a-z 0-9 . _ -)`;
      } else {
        lastValidTopic = topic;
        message = toKafkaMessage(event, topic);
      }
    } catch (error) {
      park = `could not build the Kafka message: ${errorMessage(error)}`;
    }
    queue.push({
      position: event.position,
      event: message ? undefined : event,
      message,
      bytes: message ? messageBytes(message) : 0,
      park,
    });
    status.buffered = queue.size;
    if (event.position > status.headPosition) status.headPosition = event.position;
    signalFlusher();
    if (queue.size >= maxBuffered && !stopController.signal.aborted) {
      await new Promise<void>((resolve) => spaceWaiters.push(resolve));
    }
  };

  const parkHead = async (entry: Entry, reason: string): Promise<void> => {
    const event = entry.event ?? fromKafkaMessage((entry.message as KafkaEventMessage).value);
    await checkpoints.park({
      subscription: name,
      event,
      reason,
      attempts: 1,
      parkedAt: new Date(),
    });
    status.parked++;
    emit({ kind: 'parked', publisher: name, event, reason });
    advance(entry.position, 1);
  };

  /** The next produce request: a prefix of the queue, cut by count, bytes and topic limits. */
  const nextBatch = async (limit: number): Promise<Entry[]> => {
    const batch: Entry[] = [];
    const infos = new Map<string, TopicInfo>();
    let bytes = 0;
    let budget = maxBatchBytes;
    for (let i = 0; i < queue.size && batch.length < limit; i++) {
      const entry = queue.at(i) as Entry;
      if (entry.park !== undefined || entry.message === undefined) break;
      const topic = entry.message.topic;
      let info = infos.get(topic);
      if (!info) {
        info = topics.known(topic) ?? (await topics.ensure(topic));
        infos.set(topic, info);
        budget = Math.min(budget, info.maxMessageBytes - BATCH_OVERHEAD);
      }
      // Uncompressed size is what the broker checks unless compressed; then let it decide.
      if (compression === 'none' && entry.bytes > info.maxMessageBytes - 512) {
        if (batch.length === 0) {
          entry.park = `event is ${entry.bytes} bytes as a Kafka message; topic '${topic}' accepts at most ${info.maxMessageBytes} (max.message.bytes). Raise the topic's max.message.bytes or store large payloads elsewhere, then republish the parked event`;
        }
        break;
      }
      if (batch.length > 0 && bytes + entry.bytes > budget) break;
      batch.push(entry);
      bytes += entry.bytes;
    }
    return batch;
  };

  const flushLoop = async (): Promise<void> => {
    let failures = 0;
    let limit = batchSize;
    for (;;) {
      if (stopController.signal.aborted && (queue.size === 0 || Date.now() > stopDeadline)) return;
      const head = queue.at(0);
      if (!head) {
        if (live && status.state !== 'retrying') status.state = 'live';
        refreshHead();
        await flusherSignal();
        continue;
      }
      let batch: Entry[] = [];
      try {
        if (head.park !== undefined) {
          try {
            await parkHead(head, head.park);
          } catch (error) {
            // The store failed, not Kafka: keep its error (and its message) for the retry.
            throw isEventloomError(error)
              ? error
              : new EventloomError(
                  'STORE_UNAVAILABLE',
                  `parking the event at position ${head.position} failed: ${errorMessage(error)}`,
                  { cause: error },
                );
          }
          continue;
        }
        batch = await nextBatch(limit);
        if (batch.length === 0) continue; // the head was marked for parking
        const started = performance.now();
        const p = await getProducer();
        await p.send({ messages: batch.map((e) => e.message as KafkaEventMessage) });
        const last = batch[batch.length - 1] as Entry;
        status.published += batch.length;
        status.lastPublishedAt = new Date();
        advance(last.position, batch.length);
        emit({
          kind: 'published',
          publisher: name,
          count: batch.length,
          position: last.position,
          ms: Math.round((performance.now() - started) * 10) / 10,
        });
        if (failures > 0) {
          failures = 0;
          delete status.lastError;
        }
        if (status.state === 'retrying' || status.state === 'starting') {
          status.state = live ? 'live' : 'catching-up';
        }
        limit = batchSize;
        refreshHead();
      } catch (error) {
        if (isStoreClosedError(error)) throw error;
        const topic = batch[0]?.message?.topic;
        if (isEventloomError(error) && !isKafkaError(error)) {
          failures++;
          status.retries++;
          status.lastError = error.message;
          const delayMs = backoffDelay(failures, backoff);
          emit({ kind: 'checkpoint-failed', publisher: name, position: head.position, error });
          if (stopController.signal.aborted) return;
          await sleep(delayMs, stopController.signal);
          continue;
        }
        const err = translateKafkaError(error, {
          brokers,
          action:
            batch.length > 0
              ? `publishing ${batch.length} event(s) from position ${batch[0]?.position} to '${topic}'`
              : 'preparing to publish',
          ...(topic === undefined ? {} : { topic }),
          fallback: 'PRODUCE_FAILED',
        });
        await resetProducer();
        // A topic deleted while publishing is still in the cache: check (and create) it anew.
        if (err.reason === 'TOPIC_MISSING' && topic !== undefined) topics.forget(topic);
        // Retrying cannot install a missing client package or change an option the broker
        // refused: stop loudly.
        if (err.reason === 'CLIENT_MISSING' || err.reason === 'OPTION_REJECTED') throw err;
        if (err.reason === 'MESSAGE_TOO_LARGE') {
          // Kafka refused part of the request; halve it until the culprit is alone, then park it.
          if (batch.length === 1) (batch[0] as Entry).park = err.message;
          else limit = Math.max(1, Math.ceil(batch.length / 2));
          continue;
        }
        failures++;
        status.retries++;
        status.lastError = err.message;
        if (status.state !== 'stopping') status.state = 'retrying';
        // Events keep arriving while Kafka is away: keep the head (and so the lag) current.
        refreshHead();
        const delayMs = backoffDelay(failures, backoff);
        emit({ kind: 'retry', publisher: name, attempt: failures, delayMs, error: err });
        if (stopController.signal.aborted) return;
        await sleep(delayMs, stopController.signal);
      }
    }
  };

  // ---- lifecycle -------------------------------------------------------------------------
  let subscription: Subscription | undefined;
  const stopped = new Promise<void>((resolve) =>
    stopController.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  const requestStop = (): void => {
    if (stopController.signal.aborted) return;
    stopDeadline = Date.now() + stopTimeoutMs;
    if (status.state !== 'failed') status.state = 'stopping';
    stopController.abort();
    releaseSpace();
    signalFlusher();
  };

  const start = async (): Promise<void> => {
    const checkpoint = await checkpoints.load(name);
    if (checkpoint === undefined && from !== 'start' && !(typeof from === 'number' && from <= 1)) {
      // Store the starting point, so a publisher stopped before its first event still starts there.
      const startAt = from === 'end' ? await store.headPosition() : from - 1;
      await checkpoints.save(name, startAt);
      status.position = status.checkpoint = startAt;
    } else if (checkpoint !== undefined) {
      status.position = status.checkpoint = checkpoint;
    }
    status.headPosition = Math.max(status.position, await store.headPosition());
    status.lag = status.headPosition - status.position;
    status.state = 'catching-up';
    const subscriptionCheckpoints: CheckpointStore = {
      load: (n) => checkpoints.load(n),
      // The publisher stores acknowledged positions itself; the subscription's "handled" only means buffered.
      save: async () => undefined,
      reset: (n) => checkpoints.reset(n),
      park: (entry) => checkpoints.park(entry),
      listParked: (s) => checkpoints.listParked(s),
      unpark: (s, id) => checkpoints.unpark(s, id),
    };
    subscription = store.subscribe({
      name,
      from: 'start',
      batchSize,
      checkpoints: subscriptionCheckpoints,
      onPoison: 'stop',
      pollIntervalMs: config.pollIntervalMs,
      handler: enqueue,
      onEvent: (n) => {
        if (n.kind === 'caught-up') {
          live = true;
          if (n.position > status.headPosition) status.headPosition = n.position;
          emit({ kind: 'caught-up', publisher: name, position: n.position });
          signalFlusher();
        } else if (n.kind === 'read-failed') {
          emit({ ...n, publisher: name });
        }
      },
    });
    subscription.done.catch((error: unknown) => {
      fatal ??= asError(error);
      requestStop();
    });
  };

  const run = async (): Promise<void> => {
    try {
      await start();
      const flusher = flushLoop();
      flusher.catch(() => undefined);
      await Promise.race([stopped, flusher]);
      requestStop();
      await subscription?.stop();
      await flusher;
    } catch (error) {
      fatal ??= asError(error);
      requestStop();
      await subscription?.stop();
    } finally {
      while (saving) await saving;
      if (status.position > status.checkpoint && fatal === undefined) {
        try {
          await checkpoints.save(name, status.position);
          status.checkpoint = status.position;
        } catch (error) {
          fatal ??= asError(error);
        }
      }
      await producer?.close().catch(() => undefined);
      await admin?.close().catch(() => undefined);
      status.buffered = 0;
    }
    if (fatal !== undefined) throw fatal;
  };

  const done = run().then(
    () => {
      status.state = 'stopped';
      emit({ kind: 'stopped', publisher: name, position: status.position });
      settlePositionWaiters(
        new EventloomError('SUBSCRIPTION_STOPPED', `Kafka publisher '${name}' stopped`),
      );
    },
    (error: unknown) => {
      status.state = 'failed';
      status.lastError = errorMessage(error);
      emit({ kind: 'stopped', publisher: name, position: status.position, error });
      settlePositionWaiters(
        new EventloomError(
          'SUBSCRIPTION_STOPPED',
          `Kafka publisher '${name}' failed: ${errorMessage(error)}`,
          { cause: error },
        ),
      );
      throw error;
    },
  );
  done.catch(() => undefined);

  return {
    name,
    done,
    // Derived when read, so it cannot go stale while sends fail and nothing advances.
    status: () => ({ ...status, lag: Math.max(0, status.headPosition - status.position) }),
    async lag() {
      const head = await store.headPosition();
      status.headPosition = Math.max(status.headPosition, head);
      status.lag = Math.max(0, status.headPosition - status.position);
      return status.lag;
    },
    waitFor(position, timeoutMs = 30_000) {
      if (status.position >= position) return Promise.resolve();
      if (status.state === 'stopped' || status.state === 'failed') {
        return Promise.reject(
          new EventloomError(
            'SUBSCRIPTION_STOPPED',
            `Kafka publisher '${name}' is ${status.state}`,
          ),
        );
      }
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          positionWaiters.delete(waiter);
          reject(
            new EventloomError(
              'SUBSCRIPTION_STOPPED',
              `Kafka publisher '${name}' did not reach position ${position} within ${timeoutMs} ms (at ${status.position}${status.lastError ? `; last error: ${status.lastError}` : ''})`,
            ),
          );
        }, timeoutMs);
        const waiter = {
          position,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
          reject: (e: Error) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        positionWaiters.add(waiter);
      });
    },
    async stop() {
      requestStop();
      await done.catch(() => undefined);
    },
  };
}
