import { backoffDelay, deferred, errorMessage, sleep } from '../core/async.js';
import { EventloomError } from '../core/errors.js';
import { lazyAdmin } from './kafkaClient.js';
import { resolveConsumerOptions } from './kafkaConsumerOptions.js';
import { type AssignPayload, ConsumerSession } from './kafkaConsumerSession.js';
import type {
  KafkaConsumer,
  KafkaConsumerOptions,
  KafkaConsumerStatus,
  TopicPartition,
} from './kafkaConsumerTypes.js';
import { DeadLetterWriter, type InMessage } from './kafkaDeadLetters.js';
import { translateKafkaError } from './kafkaErrors.js';
import { handleMessage, type MessageHandling, type Outcome } from './kafkaMessageHandling.js';
import { OffsetCommitter } from './kafkaOffsetCommitter.js';
import { partitionKey, PartitionQueue, type PartitionState } from './kafkaPartitionQueue.js';
import { consumerNotices } from './kafkaNotices.js';

/**
 * Consumes Eventloom events from Kafka in a consumer group. Each partition is handled in
 * order (so each stream's events are); partitions run side by side. A failing handler is
 * retried with backoff; after `retry.maxAttempts` the message goes to the dead-letter topic
 * (`<topic>.dlq`) with the reason in its headers, and the partition moves on. Offsets are
 * committed only after the handler succeeded or the dead-letter write was acknowledged, so
 * a crash or a rebalance redelivers, never loses — pair it with {@link createProcessedEvents}
 * to apply each event once.
 *
 * @example
 * const consumer = startKafkaConsumer<UserEvent>({
 *   brokers: '127.0.0.1:9092', groupId: 'user-directory', topics: ['eventloom.user'],
 *   handler: async (event) => { if (event.type === 'UserCreated') … },
 * });
 * await consumer.stop();
 */
export function startKafkaConsumer<
  E extends { type: string; data: unknown } = { type: string; data: unknown },
>(options: KafkaConsumerOptions<E>): KafkaConsumer {
  const config = resolveConsumerOptions(options);
  const { groupId, deadLetterTopicFor, connection, maxQueued, sessionTimeoutMs } = config;
  const topicList = config.topics;
  const { brokers } = connection;

  const emit = consumerNotices(config);
  const status: KafkaConsumerStatus = {
    groupId,
    state: 'starting',
    assignments: [],
    handled: 0,
    retries: 0,
    deadLettered: 0,
    commits: 0,
    queued: 0,
  };
  const stopController = new AbortController();
  let fatal: Error | undefined;

  const ready = deferred();

  const admin = lazyAdmin(connection);
  const deadLetters = new DeadLetterWriter({
    groupId,
    connection,
    admin,
    createTopics: config.createTopics,
    backoff: config.backoff,
  });

  const partitions = new PartitionQueue(maxQueued);
  /** The current session: one Kafka consumer client (a new one after a connection failure). */
  let session: ConsumerSession | undefined;
  const queuedNow = (): number => (status.queued = partitions.queued());

  // Membership lease: a member that heard nothing from the coordinator for a session timeout
  // (frozen, or cut off) has probably been replaced. It starts no new message and commits
  // nothing until a heartbeat or a join says otherwise.
  let lastHeard = Date.now();
  const memberActive = (): boolean => Date.now() - lastHeard < sessionTimeoutMs;

  const committer = new OffsetCommitter({
    intervalMs: config.commitIntervalMs,
    partitions,
    client: () => session?.client,
    generation: () => status.generation,
    mayCommit: memberActive,
    stopping: () => stopController.signal.aborted,
    onCommitted: (offsets) => {
      status.commits++;
      emit({
        kind: 'committed',
        groupId,
        offsets: offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
      });
    },
    onFailed: (error) => {
      const err = translateKafkaError(error, {
        brokers,
        action: `committing offsets for group '${groupId}'`,
        fallback: 'COMMIT_FAILED',
      });
      status.lastError = err.message;
      emit({ kind: 'commit-failed', groupId, error: err });
    },
  });

  const retried = (m: InMessage, attempt: number, delayMs: number, error: unknown): void =>
    emit({
      kind: 'retry',
      groupId,
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      attempt,
      delayMs,
      error,
    });

  const handling: MessageHandling = {
    config,
    onRetry: (m, attempt, delayMs, error) => {
      status.retries++;
      retried(m, attempt, delayMs, error);
    },
    onMalformedTraceparent: (m) =>
      emit({
        kind: 'malformed-traceparent',
        groupId,
        topic: m.topic,
        partition: m.partition,
        offset: m.offset,
      }),
    deadLetter: async (m, reason, attempts, signal): Promise<Outcome> => {
      if (!deadLetterTopicFor) {
        fatal ??= new EventloomError(
          'HANDLER_FAILED',
          `Kafka consumer '${groupId}' stopped: message ${m.topic}/${m.partition}@${m.offset} failed ${attempts} time(s) and deadLetterTopic is false: ${reason}`,
          { details: { topic: m.topic, partition: m.partition, offset: String(m.offset) } },
        );
        requestStop();
        return 'aborted';
      }
      const topic = deadLetterTopicFor(m.topic);
      const written = await deadLetters.write(
        m,
        topic,
        { reason, attempts, signal },
        (e, n, ms) => {
          status.lastError = e.message;
          retried(m, n, ms, e);
        },
      );
      if (!written) return 'aborted';
      status.deadLettered++;
      emit({
        kind: 'dead-lettered',
        groupId,
        topic: m.topic,
        partition: m.partition,
        offset: m.offset,
        deadLetterTopic: topic,
        reason,
        attempts,
      });
      return 'dead-lettered';
    },
  };

  /** Hands a message finished by a revoked worker to this member's current owner of its partition. */
  const carryOver = (key: string, offset: bigint): void => {
    const successor = partitions.get(key);
    if (!successor || successor.revoked) return; // someone else's now: it is redelivered there
    if (successor.carried === undefined || offset > successor.carried) successor.carried = offset;
    committer.schedule();
  };
  const drain = async (st: PartitionState): Promise<void> => {
    if (st.previous) await st.previous;
    while (st.queue.length > 0 && !st.closing && memberActive()) {
      const m = st.queue[0] as InMessage;
      const outcome = await handleMessage(handling, m, st.abort.signal);
      if (outcome === 'aborted') break;
      st.queue.shift();
      if (outcome === 'handled') status.handled++;
      if (st.droppedFrom !== undefined && st.queue.length <= partitions.share() / 2) {
        session?.refetch();
      }
      if (!st.revoked) {
        st.handled = m.offset;
        committer.schedule();
      } else {
        carryOver(st.key, m.offset);
      }
      if (queuedNow() < maxQueued) partitions.releaseSpace();
    }
    if (st.closing) st.queue = [];
    queuedNow();
    partitions.releaseSpace();
  };
  const startWorker = (st: PartitionState): void => {
    if (st.running) return;
    st.running = drain(st)
      .catch((error: unknown) => session?.fail(error))
      .finally(() => {
        st.running = undefined;
        // Messages may have arrived while the last one finished.
        if (st.queue.length > 0 && !st.closing && memberActive()) startWorker(st);
      });
  };

  const assign = (payload: AssignPayload, memberId?: string): void => {
    const wanted = new Map<string, TopicPartition>();
    for (const a of payload.assignments ?? []) {
      for (const p of a.partitions) {
        wanted.set(partitionKey(a.topic, p), { topic: a.topic, partition: p });
      }
    }
    const generation = payload.generationId ?? 0;
    // A new generation starts every partition afresh from the group's committed offsets: the
    // partition may have been someone else's in between (a member frozen past its session
    // timeout never sees the generations it missed), so what is queued or handled here is stale.
    partitions.assign(wanted, status.generation !== undefined && generation !== status.generation);
    const changed =
      generation !== status.generation ||
      wanted.size !== status.assignments.length ||
      status.assignments.some((tp) => !wanted.has(partitionKey(tp.topic, tp.partition)));
    status.assignments = [...wanted.values()];
    status.generation = generation;
    if (status.state === 'starting' || status.state === 'restarting') status.state = 'running';
    if (changed) emit({ kind: 'assigned', groupId, generation, partitions: status.assignments });
    if (memberId !== undefined) status.memberId = memberId;
    queuedNow();
    partitions.releaseSpace();
    ready.resolve();
  };

  const host = {
    config,
    partitions,
    committer,
    stopSignal: stopController.signal,
    assign,
    heard: () => (lastHeard = Date.now()),
    resumeWorkers: () => {
      for (const st of partitions.values()) {
        if (st.queue.length > 0 && !st.closing) startWorker(st);
      }
    },
    intake: (m: InMessage) => {
      const st = partitions.offer(m);
      queuedNow();
      if (st) startWorker(st);
    },
    started: (memberId: string | undefined) => {
      status.memberId = memberId;
      status.state = 'running';
      delete status.lastError;
    },
  };

  const teardown = async (): Promise<void> => {
    await session?.teardown();
    session = undefined;
    status.assignments = [];
    queuedNow();
  };

  const requestStop = (): void => {
    if (stopController.signal.aborted) return;
    status.state = 'stopping';
    partitions.closingAll = true;
    // No new retries or dead-letter attempts; the attempt in flight finishes.
    partitions.closeAll();
    stopController.abort();
    partitions.releaseSpace();
    session?.fail(STOP);
  };

  const run = async (): Promise<void> => {
    let failures = 0;
    while (!stopController.signal.aborted) {
      try {
        session = new ConsumerSession(host);
        await session.run();
      } catch (error) {
        if (error === STOP || stopController.signal.aborted) break;
        const err = translateKafkaError(error, {
          brokers,
          action: `consuming ${topicList.join(', ')} in group '${groupId}'`,
          topic: topicList[0],
          fallback: 'CONSUME_FAILED',
        });
        status.lastError = err.message;
        // Trying again unchanged cannot help (a missing client package, an option the broker
        // refuses): stop loudly with the reason instead of retrying forever.
        if (!err.retryable) {
          fatal ??= err;
          break;
        }
        status.state = 'restarting';
        await teardown();
        const delayMs = backoffDelay(++failures, config.backoff);
        emit({ kind: 'error', groupId, error: err, delayMs });
        await sleep(delayMs, stopController.signal);
        continue;
      }
      failures = 0;
    }
    await teardown();
    await deadLetters.close();
    await admin.close();
    if (fatal !== undefined) throw fatal;
  };

  const done = run().then(
    () => {
      status.state = 'stopped';
      ready.reject(
        new EventloomError('SUBSCRIPTION_STOPPED', `Kafka consumer '${groupId}' stopped`),
      );
      emit({ kind: 'stopped', groupId });
    },
    (error: unknown) => {
      status.state = 'failed';
      status.lastError = errorMessage(error);
      ready.reject(error);
      emit({ kind: 'stopped', groupId, error });
      throw error;
    },
  );
  done.catch(() => undefined);

  return {
    groupId,
    ready: ready.promise,
    done,
    status: () => ({ ...status, assignments: [...status.assignments] }),
    async stop() {
      requestStop();
      await done.catch(() => undefined);
    },
  };
}

/** Ends a session on purpose (not an error). */
const STOP = Symbol('stop');
