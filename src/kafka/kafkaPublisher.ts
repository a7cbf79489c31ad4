import { backoffDelay, errorMessage, PositionWaiters, sleep, WaitList } from '../core/async.js';
import { EventloomError, isEventloomError, isStoreClosedError } from '../core/errors.js';
import { storedFormOf } from '../core/cryptoShredding.js';
import type { RecordedEvent, Subscription } from '../core/types.js';
import { CheckpointSaver } from './kafkaCheckpointSaver.js';
import { lazyAdmin } from './kafkaClient.js';
import { asError, isKafkaError } from './kafkaErrors.js';
import { createRecordSender } from './kafkaProducerThread.js';
import type { KafkaRecord } from './kafkaMessage.js';
import { type Entry, entryEvent, PublishBuffer } from './kafkaPublishBuffer.js';
import { resolvePublisherOptions } from './kafkaPublisherOptions.js';
import type {
  KafkaPublisher,
  KafkaPublisherOptions,
  KafkaPublisherStatus,
} from './kafkaPublisherTypes.js';
import { followStore } from './kafkaStoreFollower.js';
import { sendFailure } from './kafkaSendFailure.js';
import { createTopicRegistry } from './kafkaTopics.js';
import { tracedSend } from './kafkaTracing.js';
import { publisherNotices } from './kafkaNotices.js';

/**
 * Publishes every event of the store to Kafka, at least once, in order per stream: topic
 * `eventloom.<category>` (or `topicFor`), key = stream id, value = the event as JSON, headers
 * `event-id`, `event-type`, `stream-version`, `position` (+ `correlation-id`, `causation-id`
 * from metadata). It follows the store through a durable subscription and produces in
 * batches with an idempotent producer and `acks=all`, run by default in a producer thread
 * (see `producerThread`) that holds the next request ready behind the one on the wire;
 * the checkpoint moves only past events Kafka acknowledged, so a restart — even after a
 * crash — continues where it stopped. An unreachable broker is retried with backoff and
 * reported; an event too large for its topic is parked (`store.checkpoints.listParked(name)`)
 * and publishing goes on.
 *
 * @example
 * const publisher = startKafkaPublisher({ store, brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' });
 * publisher.status(); // { state: 'live', position: 1042, lag: 0, … }
 * await publisher.stop();
 */
export function startKafkaPublisher(options: KafkaPublisherOptions): KafkaPublisher {
  return startPublisherWith(options, createRecordSender);
}

/**
 * {@link startKafkaPublisher} with the sender made by `makeSender`: the tests put senders
 * that fail on purpose under the publisher's loop.
 */
export function startPublisherWith(
  options: KafkaPublisherOptions,
  makeSender: typeof createRecordSender,
): KafkaPublisher {
  const config = resolvePublisherOptions(options);
  const { name, batchSize, compression, stopTimeoutMs, backoff, connection } = config;
  // Personal fields leave the process sealed, so a forget also forgets what sits in topics.
  const store = storedFormOf(config.store);
  const { brokers } = connection;
  const checkpoints = store.checkpoints;
  const maxBuffered = batchSize * 2;
  /** Longest wait for a full batch while catching up. */
  const LINGER_MS = 20;

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
  const buffer = new PublishBuffer(config);
  const stopController = new AbortController();
  let stopDeadline = Infinity;
  let fatal: Error | undefined;
  let live = false;

  // Wake-ups between the subscription handler (fills the buffer) and the flusher (drains it).
  const flusherWake = new WaitList();
  const space = new WaitList();
  const positionWaiters = new PositionWaiters();

  const producer = makeSender(connection, compression, config.producerThread, (error) =>
    emit({ kind: 'producer-thread-failed', publisher: name, error }),
  );
  const admin = lazyAdmin(connection);
  const topics = createTopicRegistry({
    admin: () => admin.get(),
    brokers,
    create: config.createTopics,
    onCreated: (info) =>
      emit({
        kind: 'topic-created',
        publisher: name,
        topic: info.name,
        partitions: info.partitions,
      }),
  });

  const saver = new CheckpointSaver({
    checkpoints,
    name,
    backoff,
    signal: stopController.signal,
    position: () => status.position,
    saved: () => status.checkpoint,
    onSaved: (position) => (status.checkpoint = position),
    onFailed: (position, error) =>
      emit({ kind: 'checkpoint-failed', publisher: name, position, error }),
  });

  const advance = (position: number, count: number): void => {
    buffer.drop(count);
    status.buffered = buffer.size;
    status.position = position;
    status.lag = Math.max(0, status.headPosition - position);
    positionWaiters.reached(status.position);
    saver.schedule();
    if (buffer.size < maxBuffered) space.releaseAll();
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

  // The subscription handler buffers, the flusher sends. Synchronous while there is room:
  // the subscription then skips a promise and a microtask per event (or per read, batched).
  let lastTopic: string | undefined;
  const bufferEvent = (event: RecordedEvent): void => {
    const topic = buffer.add(event).message?.topic;
    if (topic !== undefined && topic !== lastTopic) {
      lastTopic = topic;
      // Look a new topic up (or create it) while the rest of its batch is still being read;
      // the flusher awaits the same lookup, and reports and retries a failure itself.
      if (topics.known(topic) === undefined) topics.ensure(topic).catch(() => undefined);
    }
  };
  const buffered = (position: number): Promise<void> | undefined => {
    status.buffered = buffer.size;
    if (position > status.headPosition) status.headPosition = position;
    if (flusherWake.size > 0) flusherWake.releaseAll();
    if (buffer.size >= maxBuffered && !stopController.signal.aborted) return space.wait();
    return undefined;
  };
  const enqueue = (event: RecordedEvent): Promise<void> | undefined => {
    bufferEvent(event);
    return buffered(event.position);
  };
  const enqueueAll = (events: readonly RecordedEvent[]): Promise<void> | undefined => {
    for (const event of events) bufferEvent(event);
    return buffered((events[events.length - 1] as RecordedEvent).position);
  };

  const parkHead = async (entry: Entry, reason: string): Promise<void> => {
    const event = entryEvent(entry);
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

  const moreOrTimeout = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      void flusherWake.wait().then(() => {
        clearTimeout(timer);
        resolve();
      });
    });

  /** A produce request sent and not answered yet; `answer` is its error, or undefined. */
  interface Request {
    batch: Entry[];
    started: number;
    answer: Promise<unknown>;
  }
  const sent = (batch: Entry[]): Request => {
    const messages = batch.map((e) => e.message as KafkaRecord);
    let sending: Promise<void>;
    try {
      sending = tracedSend(messages, (traced) => producer.send(traced));
    } catch (error) {
      sending = Promise.reject(asError(error));
    }
    return {
      batch,
      started: performance.now(),
      answer: sending.then(
        () => undefined,
        (error: unknown) => error ?? new Error('the produce request failed'),
      ),
    };
  };
  const WOKEN = Symbol('woken');

  const published = (request: Request): void => {
    const { batch } = request;
    const last = batch[batch.length - 1] as Entry;
    status.published += batch.length;
    status.lastPublishedAt = new Date();
    advance(last.position, batch.length);
    emit({
      kind: 'published',
      publisher: name,
      count: batch.length,
      position: last.position,
      ms: Math.round((performance.now() - request.started) * 10) / 10,
    });
    if (status.state === 'retrying' || status.state === 'starting') {
      status.state = live ? 'live' : 'catching-up';
    }
    refreshHead();
  };

  const flushLoop = async (): Promise<void> => {
    let failures = 0;
    let limit = batchSize;
    let lingerFrom: number | undefined;
    // Requests sent and not answered, oldest first. Their entries lead the buffer, in order:
    // a request goes out behind others only when the sender keeps them in order and sends
    // none behind one that failed (producer.pipeline > 1).
    const inFlight: Request[] = [];
    let inFlightEvents = 0;
    // Set when the next batch could not be made while requests were in flight: retried (and
    // its failure handled) once they are answered.
    let holdUntilAnswered = false;
    const failed = async (error: unknown, batch: Entry[], position: number): Promise<void> => {
      if (isStoreClosedError(error)) throw error;
      if (isEventloomError(error) && !isKafkaError(error)) {
        failures++;
        status.retries++;
        status.lastError = error.message;
        emit({ kind: 'checkpoint-failed', publisher: name, position, error });
        if (!stopController.signal.aborted) {
          await sleep(backoffDelay(failures, backoff), stopController.signal);
        }
        return;
      }
      const failure = sendFailure(error, batch, brokers);
      const err = failure.error;
      await producer.close();
      if (failure.forget !== undefined) topics.forget(failure.forget);
      if (failure.kind === 'stop') throw err;
      if (failure.kind === 'smaller') {
        // Kafka refused part of the request; halve it until the culprit is alone, then park it.
        if (batch.length === 1) (batch[0] as Entry).park = err.message;
        else limit = Math.max(1, Math.ceil(batch.length / 2));
        return;
      }
      failures++;
      status.retries++;
      status.lastError = err.message;
      if (status.state !== 'stopping') status.state = 'retrying';
      // Events keep arriving while Kafka is away: keep the head (and so the lag) current.
      refreshHead();
      const delayMs = backoffDelay(failures, backoff);
      emit({ kind: 'retry', publisher: name, attempt: failures, delayMs, error: err });
      if (!stopController.signal.aborted) await sleep(delayMs, stopController.signal);
    };
    for (;;) {
      if (stopController.signal.aborted && (buffer.size === 0 || Date.now() > stopDeadline)) return;
      const next = buffer.at(inFlightEvents);
      if (next === undefined && inFlight.length === 0) {
        lingerFrom = undefined;
        if (live && status.state !== 'retrying') status.state = 'live';
        refreshHead();
        if (!stopController.signal.aborted) await flusherWake.wait();
        continue;
      }
      if (
        next !== undefined &&
        next.park === undefined &&
        inFlight.length < producer.pipeline &&
        !holdUntilAnswered
      ) {
        // Catching up, the reader refills the buffer while a request is on the wire; sending
        // whatever came meanwhile (a page of a few hundred events) would pay a round trip for
        // a fraction of a batch, and the requests would stay that small. Wait for a full
        // batch, the end of the catch-up or a stop: at most LINGER_MS when nothing is in
        // flight (the reader may be retrying), else until the request in flight is answered.
        const short =
          !live && buffer.size - inFlightEvents < limit && !stopController.signal.aborted;
        if (short && inFlight.length === 0) {
          lingerFrom ??= Date.now();
          const left = lingerFrom + LINGER_MS - Date.now();
          if (left > 0) {
            await moreOrTimeout(left);
            continue;
          }
        }
        if (!short || inFlight.length === 0) {
          lingerFrom = undefined;
          let batch: Entry[] = [];
          try {
            batch = await buffer.nextBatch(limit, topics, inFlightEvents);
          } catch (error) {
            if (inFlight.length === 0) {
              await failed(error, [], next.position);
              continue;
            }
            holdUntilAnswered = true;
          }
          if (batch.length > 0) {
            inFlight.push(sent(batch));
            inFlightEvents += batch.length;
            continue;
          }
          // Else its first entry is now marked for parking.
        }
      }
      if (inFlight.length === 0) {
        const head = buffer.at(0) as Entry;
        if (head.park === undefined) continue;
        try {
          await parkHead(head, head.park);
        } catch (error) {
          // The store failed, not Kafka: keep its error (and its message) for the retry.
          await failed(
            isEventloomError(error)
              ? error
              : new EventloomError(
                  'STORE_UNAVAILABLE',
                  `parking the event at position ${head.position} failed: ${errorMessage(error)}`,
                  { cause: error },
                ),
            [],
            head.position,
          );
        }
        continue;
      }
      // Wait for the oldest request's answer, or for a full batch to send behind it.
      const oldest = inFlight[0] as Request;
      const answer =
        inFlight.length < producer.pipeline && !holdUntilAnswered && !stopController.signal.aborted
          ? await Promise.race([oldest.answer, flusherWake.wait().then(() => WOKEN)])
          : await oldest.answer;
      if (answer === WOKEN) continue;
      holdUntilAnswered = false;
      inFlight.shift();
      inFlightEvents -= oldest.batch.length;
      if (answer === undefined) {
        published(oldest);
        if (failures > 0) {
          failures = 0;
          delete status.lastError;
        }
        limit = batchSize;
        continue;
      }
      // The sender sent none of the requests behind a failed one: wait for their answers,
      // then start again from the failed one.
      await Promise.all(inFlight.map((r) => r.answer));
      inFlight.length = 0;
      inFlightEvents = 0;
      await failed(answer, oldest.batch, oldest.batch[0]?.position ?? 0);
    }
  };

  let subscription: Subscription | undefined;
  const stopped = new Promise<void>((resolve) =>
    stopController.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  const requestStop = (): void => {
    if (stopController.signal.aborted) return;
    stopDeadline = Date.now() + stopTimeoutMs;
    if (status.state !== 'failed') status.state = 'stopping';
    stopController.abort();
    space.releaseAll();
    flusherWake.releaseAll();
  };

  const run = async (): Promise<void> => {
    producer.warm().catch(() => undefined);
    try {
      subscription = await followStore({
        config,
        store,
        status,
        handler: enqueue,
        handleBatch: enqueueAll,
        onCaughtUp: (position) => {
          live = true;
          if (position > status.headPosition) status.headPosition = position;
          emit({ kind: 'caught-up', publisher: name, position });
          flusherWake.releaseAll();
        },
        onNotice: emit,
      });
      subscription.done.catch((error: unknown) => {
        fatal ??= asError(error);
        requestStop();
      });
      const flusher = flushLoop();
      flusher.catch(() => undefined);
      await Promise.race([stopped, flusher]);
      requestStop();
      await subscription.stop();
      await flusher;
    } catch (error) {
      fatal ??= asError(error);
      requestStop();
      await subscription?.stop();
    } finally {
      await saver.idle();
      if (status.position > status.checkpoint && fatal === undefined) {
        try {
          await checkpoints.save(name, status.position);
          status.checkpoint = status.position;
        } catch (error) {
          fatal ??= asError(error);
        }
      }
      await producer.dispose();
      await admin.close();
      status.buffered = 0;
    }
    if (fatal !== undefined) throw fatal;
  };

  const done = run().then(
    () => {
      status.state = 'stopped';
      emit({ kind: 'stopped', publisher: name, position: status.position });
      positionWaiters.failAll(
        new EventloomError('SUBSCRIPTION_STOPPED', `Kafka publisher '${name}' stopped`),
      );
    },
    (error: unknown) => {
      status.state = 'failed';
      status.lastError = errorMessage(error);
      emit({ kind: 'stopped', publisher: name, position: status.position, error });
      positionWaiters.failAll(
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
      return positionWaiters.wait(
        position,
        timeoutMs,
        () =>
          new EventloomError(
            'SUBSCRIPTION_STOPPED',
            `Kafka publisher '${name}' did not reach position ${position} within ${timeoutMs} ms (at ${status.position}${status.lastError ? `; last error: ${status.lastError}` : ''})`,
          ),
      );
    },
    async stop() {
      requestStop();
      await done.catch(() => undefined);
    },
  };
}
