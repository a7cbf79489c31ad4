import type {
  Admin,
  CommitOptionsPartition,
  Consumer,
  ConsumerGroupJoinPayload,
  Message,
  MessagesStream,
  Producer,
} from '@platformatic/kafka';
import { backoffDelay, errorMessage, sleep } from '../core/async.js';
import { EventloomError, ValidationError } from '../core/errors.js';
import type { Recorded, RecordedEvent } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import type { Registry } from '../node/metricsRegistry.js';
import { type KafkaConnection, loadKafka } from './kafkaClient.js';
import { type KafkaError, translateKafkaError } from './kafkaErrors.js';
import { fromKafkaMessage, isValidTopicName } from './kafkaMessage.js';
import { resolveConsumerOptions } from './kafkaConsumerOptions.js';
import { consumerNotices } from './kafkaNotices.js';
import { createTopicRegistry, type TopicSettings } from './kafkaTopics.js';

/** Header names of a dead-letter message (the original headers are kept beside them). */
export const DEAD_LETTER_HEADERS = {
  originalTopic: 'dlq-original-topic',
  originalPartition: 'dlq-original-partition',
  originalOffset: 'dlq-original-offset',
  error: 'dlq-error',
  attempts: 'dlq-attempts',
  groupId: 'dlq-group-id',
  failedAt: 'dlq-failed-at',
} as const;

export interface KafkaHandlerContext {
  topic: string;
  partition: number;
  offset: bigint;
  /** The message key: the stream id for events from the publisher. */
  key: string | undefined;
  headers: Readonly<Record<string, string>>;
  /** 1 on the first try of this message in this process, then 2, 3, … */
  attempt: number;
  groupId: string;
  /** Aborted when the partition is revoked or the consumer stops: a long handler may give up early. */
  signal: AbortSignal;
}

/** A consumer handler: gets the event parsed back from the message, typed by `E`. */
export type KafkaEventHandler<
  E extends { type: string; data: unknown } = { type: string; data: unknown },
> = (event: Recorded<E>, context: KafkaHandlerContext) => void | Promise<void>;

export interface KafkaConsumerRetry {
  /** Tries per message before it goes to the dead-letter topic. Default 5. */
  maxAttempts?: number;
  /** Default 100 ms. */
  initialDelayMs?: number;
  /** Default 5000 ms. */
  maxDelayMs?: number;
}

export interface KafkaConsumerSettings<E extends { type: string; data: unknown }> {
  /** Consumer group: each group gets every event once (at least), members share partitions. */
  groupId: string;
  topics: readonly string[];
  handler: KafkaEventHandler<E>;
  /** Only these event types reach the handler; others are committed without it. */
  eventTypes?: readonly E['type'][];
  retry?: KafkaConsumerRetry;
  /**
   * Where a message goes after `retry.maxAttempts` failures (or at once when it is not an
   * Eventloom event): a topic, a function of the source topic, or `false` to stop the
   * consumer instead. Default `<topic>.dlq`.
   */
  deadLetterTopic?: string | ((topic: string) => string) | false;
  /** How missing dead-letter topics are created, or `false` to require them. Default `{}` (broker defaults). */
  createTopics?: TopicSettings | false;
  /** Where a group without committed offsets starts. Default `'earliest'`. */
  from?: 'earliest' | 'latest';
  /** Static membership: a restarted member with the same id takes its partitions back without a rebalance. */
  groupInstanceId?: string;
  /** Default 10 000 ms (the broker allows 6 000–300 000 by default). */
  sessionTimeoutMs?: number;
  /** Default 1000 ms. */
  heartbeatIntervalMs?: number;
  /** Default 30 000 ms, or `sessionTimeoutMs` when that is longer; at least `sessionTimeoutMs`. */
  rebalanceTimeoutMs?: number;
  /** Offsets of handled messages are committed at most this often. Default 100 ms. */
  commitIntervalMs?: number;
  /** Messages fetched ahead per consumer. Default 1000. */
  maxQueued?: number;
  /** On stop, how long to wait for handlers in flight. Default 30 000 ms. */
  shutdownTimeoutMs?: number;
  onEvent?: (notice: KafkaConsumerNotice) => void;
  /** Where the notices are logged (commits at debug, retries and dead letters at warn). Default: nowhere. */
  logger?: Logger;
  /** The process's Prometheus registry: retries, dead letters and errors are counted there. */
  metrics?: Registry;
}

/** Options of {@link startKafkaConsumer}: the settings plus `brokers` or `client`. */
export type KafkaConsumerOptions<
  E extends { type: string; data: unknown } = { type: string; data: unknown },
> = KafkaConsumerSettings<E> & KafkaConnection;

export interface TopicPartition {
  topic: string;
  partition: number;
}

export type KafkaConsumerNotice =
  | { kind: 'assigned'; groupId: string; generation: number; partitions: TopicPartition[] }
  | {
      kind: 'retry';
      groupId: string;
      topic: string;
      partition: number;
      offset: bigint;
      attempt: number;
      delayMs: number;
      error: unknown;
    }
  | {
      kind: 'dead-lettered';
      groupId: string;
      topic: string;
      partition: number;
      offset: bigint;
      deadLetterTopic: string;
      reason: string;
      attempts: number;
    }
  | { kind: 'committed'; groupId: string; offsets: (TopicPartition & { offset: bigint })[] }
  | { kind: 'commit-failed'; groupId: string; error: KafkaError }
  | { kind: 'error'; groupId: string; error: KafkaError; delayMs: number }
  | { kind: 'stopped'; groupId: string; error?: unknown };

export interface KafkaConsumerStatus {
  groupId: string;
  state: 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'failed';
  memberId?: string;
  generation?: number;
  assignments: TopicPartition[];
  /** Messages whose handler succeeded (or that were filtered out) since start. */
  handled: number;
  retries: number;
  deadLettered: number;
  commits: number;
  /** Messages fetched and waiting for their partition's handler. */
  queued: number;
  lastError?: string;
}

export interface KafkaConsumer {
  readonly groupId: string;
  status(): KafkaConsumerStatus;
  /** Resolves when the consumer first got its partitions. */
  readonly ready: Promise<void>;
  /** Finishes the handlers in flight, commits, leaves the group and closes the clients. */
  stop(): Promise<void>;
  /** Settles when the consumer stops; rejects if it stopped on an error. */
  readonly done: Promise<void>;
}

type InMessage = Message<string, Buffer, string, string>;

interface PartitionState {
  key: string;
  topic: string;
  partition: number;
  queue: InMessage[];
  /** Messages below this offset were queued already: a refetch after a rebalance skips them. */
  nextOffset: bigint | undefined;
  /** Offset of the last message handled or dead-lettered. */
  handled: bigint | undefined;
  /** Last committed offset (the next one to read). */
  committed: bigint | undefined;
  /** Finish the message in hand, start no other (stop, rebalance, reconnect). */
  closing: boolean;
  /** The partition belongs to someone else now: what is handled here is not committed. */
  revoked: boolean;
  /**
   * Offset of the first message dropped from the current stream because the partition's share
   * of the queue was full: fetch it again later. Until then the stream's later messages of the
   * partition are dropped too, even once there is room: taking one would step over the gap, and
   * the refetch would skip the dropped ones as already queued — lost, then committed past.
   */
  droppedFrom: bigint | undefined;
  abort: AbortController;
  running: Promise<void> | undefined;
  /** The worker of a revoked predecessor of this partition, still finishing its message. */
  previous: Promise<void> | undefined;
  /**
   * Offset of a message the predecessor finished after the generation changed: committed for
   * this owner once the group's committed offset shows nobody got past it in between.
   */
  carried: bigint | undefined;
}

type Outcome = 'handled' | 'dead-lettered' | 'aborted';

const MAX_ERROR_HEADER = 4000;

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
  const { groupId, handler, maxAttempts, backoff, deadLetterTopicFor, connection } = config;
  const { commitIntervalMs, maxQueued, shutdownTimeoutMs, sessionTimeoutMs } = config;
  const topicList = config.topics;
  const types = config.eventTypes;
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

  let resolveReady!: () => void;
  let rejectReady!: (e: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => undefined);

  // ---- dead-letter producer (shared by sessions) -----------------------------------------
  let dlqProducer: Producer<string | undefined, Buffer, string, string> | undefined;
  let admin: Admin | undefined;
  const getAdmin = async (): Promise<Admin> => {
    const kafka = await loadKafka();
    admin ??= new kafka.Admin({ ...connection.base, clientId: `${connection.clientId}-admin` });
    return admin;
  };
  const getDlqProducer = async (): Promise<
    Producer<string | undefined, Buffer, string, string>
  > => {
    if (dlqProducer) return dlqProducer;
    const kafka = await loadKafka();
    dlqProducer = new kafka.Producer<string | undefined, Buffer, string, string>({
      ...connection.base,
      clientId: `${connection.clientId}-dlq`,
      idempotent: true,
      acks: kafka.ProduceAcks.ALL,
      partitioner: kafka.compatibilityPartitioner,
      serializers: {
        key: (k?: string) => (k === undefined ? undefined : Buffer.from(k)),
        value: (v?: Buffer) => v,
        headerKey: kafka.stringSerializer,
        headerValue: kafka.stringSerializer,
      },
    });
    return dlqProducer;
  };
  const dlqTopics = createTopicRegistry({
    admin: getAdmin,
    brokers,
    create: config.createTopics,
  });

  // ---- one session = one Kafka consumer (a new one after a connection failure) ----------
  const partitions = new Map<string, PartitionState>();
  const previousWorkers = new Map<string, Promise<void>>();
  let consumer: Consumer<string, Buffer, string, string> | undefined;
  let current: MessagesStream<string, Buffer, string, string> | undefined;
  let sessionError: ((e: unknown) => void) | undefined;
  let spaceWaiters: (() => void)[] = [];
  const releaseSpace = (): void => {
    const waiters = spaceWaiters;
    spaceWaiters = [];
    for (const w of waiters) w();
  };
  /** Each partition's fair part of `maxQueued`, so one partition cannot fill the queue. */
  const share = (): number => Math.max(1, Math.floor(maxQueued / Math.max(1, partitions.size)));
  /** Messages dropped in a row because their partition's share was full. */
  let skippedRun = 0;
  /** Replaces the message stream with one starting at the committed offsets (set per session). */
  let refetch: (() => void) | undefined;
  /** The session is ending: partitions assigned now only finish and commit, they take no messages. */
  let closingAll = false;
  const queuedNow = (): number => {
    let n = 0;
    for (const st of partitions.values()) n += st.queue.length;
    status.queued = n;
    return n;
  };

  // Membership lease: a member that heard nothing from the coordinator for a session timeout
  // (frozen, or cut off) has probably been replaced. It starts no new message and commits
  // nothing until a heartbeat or a join says otherwise.
  let lastHeard = Date.now();
  const memberActive = (): boolean => Date.now() - lastHeard < sessionTimeoutMs;

  // Commits: coalesced, one request in flight.
  let commitTimer: NodeJS.Timeout | undefined;
  let committing: Promise<void> | undefined;
  let commitAgain = false;
  /** Highest offset this process committed per partition, across generations. */
  const committedHigh = new Map<string, bigint>();
  /** The commit request on the wire and the generation it was made for. */
  let inflightCommit: { generation: number; offsets: CommitOptionsPartition[] } | undefined;
  /**
   * Work finished under an earlier generation counts for a partition this member owns again
   * only if the group's committed offset is not past it: between the two generations the
   * partition may have been someone else's, and a commit must never go backwards. As the
   * current owner nobody else can commit to it meanwhile (the broker checks the generation).
   */
  const adoptCarried = async (c: Consumer<string, Buffer, string, string>): Promise<void> => {
    const carried = [...partitions.values()].filter(
      (st) => !st.revoked && st.carried !== undefined,
    );
    if (carried.length === 0) return;
    const byTopic = new Map<string, number[]>();
    for (const st of carried)
      byTopic.set(st.topic, [...(byTopic.get(st.topic) ?? []), st.partition]);
    const committed = await c.listCommittedOffsets({
      topics: [...byTopic].map(([topic, list]) => ({ topic, partitions: list })),
    });
    for (const st of carried) {
      const offset = st.carried as bigint;
      st.carried = undefined;
      if (st.revoked || c.generationId !== status.generation) continue;
      const at = committed.get(st.topic)?.[st.partition] ?? -1n;
      if (at <= offset && (st.handled === undefined || st.handled < offset)) st.handled = offset;
    }
  };
  const pendingOffsets = (): CommitOptionsPartition[] => {
    const out: CommitOptionsPartition[] = [];
    for (const st of partitions.values()) {
      if (st.revoked || st.handled === undefined) continue;
      const next = st.handled + 1n;
      const high = committedHigh.get(st.key);
      if (
        (st.committed === undefined || next > st.committed) &&
        (high === undefined || next > high)
      ) {
        out.push({ topic: st.topic, partition: st.partition, offset: next, leaderEpoch: -1 });
      }
    }
    return out;
  };
  const commitOnce = async (): Promise<void> => {
    const c = consumer;
    if (!c) return;
    // Only the owner in the current generation commits; the client may be rejoining.
    if (!memberActive() || c.generationId !== status.generation) {
      if (!stopController.signal.aborted) scheduleCommit();
      return;
    }
    try {
      await adoptCarried(c);
      const offsets = pendingOffsets();
      if (offsets.length === 0) return;
      const request = { offsets };
      inflightCommit = { generation: status.generation, offsets };
      await c.commit(request);
      // The join handler empties the request when the generation changed under it.
      if (offsets.length === 0) return;
      for (const o of offsets) {
        const key = `${o.topic}:${o.partition}`;
        const st = partitions.get(key);
        if (st && (st.committed === undefined || o.offset > st.committed)) st.committed = o.offset;
        const high = committedHigh.get(key);
        if (high === undefined || o.offset > high) committedHigh.set(key, o.offset);
      }
      status.commits++;
      emit({
        kind: 'committed',
        groupId,
        offsets: offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
      });
    } catch (error) {
      const err = translateKafkaError(error, {
        brokers,
        action: `committing offsets for group '${groupId}'`,
        fallback: 'COMMIT_FAILED',
      });
      status.lastError = err.message;
      emit({ kind: 'commit-failed', groupId, error: err });
      // The offsets stay pending and go with the next commit.
      if (!stopController.signal.aborted) scheduleCommit(Math.max(commitIntervalMs, 500));
    } finally {
      inflightCommit = undefined;
    }
  };
  const flushCommits = (): Promise<void> => {
    if (commitTimer) {
      clearTimeout(commitTimer);
      commitTimer = undefined;
    }
    if (committing) {
      commitAgain = true;
      return committing;
    }
    committing = (async () => {
      do {
        commitAgain = false;
        await commitOnce();
      } while (commitAgain);
    })().finally(() => (committing = undefined));
    return committing;
  };
  function scheduleCommit(delay = commitIntervalMs): void {
    if (commitTimer) return;
    commitTimer = setTimeout(() => {
      commitTimer = undefined;
      void flushCommits();
    }, delay);
  }

  const context = (st: PartitionState, m: InMessage, attempt: number): KafkaHandlerContext => ({
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    key: m.key,
    headers: Object.fromEntries(m.headers),
    attempt,
    groupId,
    signal: st.abort.signal,
  });

  const deadLetter = async (
    st: PartitionState,
    m: InMessage,
    reason: string,
    attempts: number,
  ): Promise<Outcome> => {
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
    for (let failures = 0; ;) {
      try {
        if (!isValidTopicName(topic)) {
          throw new ValidationError(
            'options.deadLetterTopic',
            `${JSON.stringify(topic)} is not a Kafka topic name`,
          );
        }
        await dlqTopics.ensure(topic);
        const producer = await getDlqProducer();
        await producer.send({
          messages: [
            {
              topic,
              key: m.key,
              value: m.value,
              headers: {
                ...Object.fromEntries(m.headers),
                [DEAD_LETTER_HEADERS.originalTopic]: m.topic,
                [DEAD_LETTER_HEADERS.originalPartition]: String(m.partition),
                [DEAD_LETTER_HEADERS.originalOffset]: String(m.offset),
                [DEAD_LETTER_HEADERS.error]: reason.slice(0, MAX_ERROR_HEADER),
                [DEAD_LETTER_HEADERS.attempts]: String(attempts),
                [DEAD_LETTER_HEADERS.groupId]: groupId,
                [DEAD_LETTER_HEADERS.failedAt]: new Date().toISOString(),
              },
            },
          ],
        });
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
      } catch (error) {
        const old = dlqProducer;
        dlqProducer = undefined;
        await old?.close().catch(() => undefined);
        const err = translateKafkaError(error, {
          brokers,
          action: `writing ${m.topic}/${m.partition}@${m.offset} to dead-letter topic '${topic}'`,
          topic,
          fallback: 'PRODUCE_FAILED',
        });
        status.lastError = err.message;
        const delayMs = backoffDelay(++failures, backoff);
        emit({
          kind: 'retry',
          groupId,
          topic: m.topic,
          partition: m.partition,
          offset: m.offset,
          attempt: failures,
          delayMs,
          error: err,
        });
        if (st.abort.signal.aborted) return 'aborted';
        await sleep(delayMs, st.abort.signal);
        if (st.abort.signal.aborted) return 'aborted';
      }
    }
  };

  const processMessage = async (st: PartitionState, m: InMessage): Promise<Outcome> => {
    let event: RecordedEvent;
    try {
      event = fromKafkaMessage(m.value);
    } catch (error) {
      // Retrying cannot make a foreign message parse.
      return deadLetter(st, m, `not an Eventloom event: ${errorMessage(error)}`, 0);
    }
    if (types !== undefined && !types.has(event.type)) return 'handled';
    for (let attempt = 1; ; attempt++) {
      try {
        await handler(event, context(st, m, attempt));
        return 'handled';
      } catch (error) {
        if (st.abort.signal.aborted) return 'aborted';
        if (attempt >= maxAttempts) return deadLetter(st, m, errorMessage(error), attempt);
        const delayMs = backoffDelay(attempt, backoff);
        status.retries++;
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
        await sleep(delayMs, st.abort.signal);
        if (st.abort.signal.aborted) return 'aborted';
      }
    }
  };

  /** Hands a message finished by a revoked worker to this member's current owner of its partition. */
  const carryOver = (key: string, offset: bigint): void => {
    const successor = partitions.get(key);
    if (!successor || successor.revoked) return; // someone else's now: it is redelivered there
    if (successor.carried === undefined || offset > successor.carried) successor.carried = offset;
    scheduleCommit();
  };
  const drain = async (st: PartitionState): Promise<void> => {
    if (st.previous) await st.previous;
    while (st.queue.length > 0 && !st.closing && memberActive()) {
      const m = st.queue[0] as InMessage;
      const outcome = await processMessage(st, m);
      if (outcome === 'aborted') break;
      st.queue.shift();
      if (outcome === 'handled') status.handled++;
      if (st.droppedFrom !== undefined && st.queue.length <= share() / 2) refetch?.();
      if (!st.revoked) {
        st.handled = m.offset;
        scheduleCommit();
      } else {
        carryOver(st.key, m.offset);
      }
      if (queuedNow() < maxQueued) releaseSpace();
    }
    if (st.closing) st.queue = [];
    queuedNow();
    releaseSpace();
  };
  const startWorker = (st: PartitionState): void => {
    if (st.running) return;
    st.running = drain(st)
      .catch((error: unknown) => sessionError?.(error))
      .finally(() => {
        st.running = undefined;
        // Messages may have arrived while the last one finished.
        if (st.queue.length > 0 && !st.closing && memberActive()) startWorker(st);
      });
  };

  /** Whether the stream's next message of some partition would be queued rather than dropped. */
  const anyCanTake = (): boolean => {
    for (const st of partitions.values()) {
      if (!st.closing && st.droppedFrom === undefined && st.queue.length < share()) return true;
    }
    return false;
  };

  const intake = (m: InMessage): void => {
    const st = partitions.get(`${m.topic}:${m.partition}`);
    if (!st || st.closing) return; // not ours (any more), or shutting down
    if (st.nextOffset !== undefined && m.offset < st.nextOffset) return; // refetched after a rebalance
    if (st.droppedFrom !== undefined || st.queue.length >= share()) {
      // Queuing it would crowd out the other partitions' messages behind it in the stream;
      // nextOffset stays, so it is fetched again once this partition has room.
      st.droppedFrom ??= m.offset;
      skippedRun++;
      return;
    }
    skippedRun = 0;
    st.nextOffset = m.offset + 1n;
    st.queue.push(m);
    status.queued++;
    startWorker(st);
  };

  const assign = (payload: {
    generationId?: number;
    assignments?: { topic: string; partitions: number[] }[] | null;
  }): void => {
    const wanted = new Map<string, TopicPartition>();
    for (const a of payload.assignments ?? []) {
      for (const p of a.partitions) wanted.set(`${a.topic}:${p}`, { topic: a.topic, partition: p });
    }
    const generation = payload.generationId ?? 0;
    // A new generation starts every partition afresh from the group's committed offsets: the
    // partition may have been someone else's in between (a member frozen past its session
    // timeout never sees the generations it missed), so what is queued or handled here is stale.
    const newGeneration = status.generation !== undefined && generation !== status.generation;
    for (const [key, st] of partitions) {
      if (wanted.has(key) && !newGeneration) continue;
      st.closing = true;
      st.revoked = true;
      st.abort.abort();
      partitions.delete(key);
      if (st.running) previousWorkers.set(key, st.running);
    }
    for (const [key, tp] of wanted) {
      if (partitions.has(key)) continue;
      const previous = previousWorkers.get(key);
      previousWorkers.delete(key);
      partitions.set(key, {
        key,
        ...tp,
        queue: [],
        nextOffset: undefined,
        handled: undefined,
        committed: undefined,
        closing: closingAll,
        revoked: false,
        droppedFrom: undefined,
        abort: new AbortController(),
        running: undefined,
        previous,
        carried: undefined,
      });
    }
    const changed =
      generation !== status.generation ||
      wanted.size !== status.assignments.length ||
      status.assignments.some((tp) => !wanted.has(`${tp.topic}:${tp.partition}`));
    status.assignments = [...wanted.values()];
    status.generation = generation;
    if (status.state === 'starting' || status.state === 'restarting') status.state = 'running';
    if (changed) emit({ kind: 'assigned', groupId, generation, partitions: status.assignments });
    queuedNow();
    releaseSpace();
    resolveReady();
  };

  const session = async (): Promise<void> => {
    closingAll = false;
    const kafka = await loadKafka();
    const c = new kafka.Consumer<string, Buffer, string, string>({
      ...connection.base,
      clientId: connection.clientId,
      groupId,
      ...(config.groupInstanceId === undefined ? {} : { groupInstanceId: config.groupInstanceId }),
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      rebalanceTimeout: config.rebalanceTimeoutMs,
      autocommit: false,
      deserializers: {
        key: kafka.stringDeserializer,
        value: (v?: Buffer) => v,
        headerKey: kafka.stringDeserializer,
        headerValue: kafka.stringDeserializer,
      },
    });
    consumer = c;
    const failed = new Promise<never>((_, reject) => {
      sessionError = reject;
    });
    failed.catch(() => undefined);
    c.on('error', (error: Error) => sessionError?.(error));
    c.on('consumer:group:rebalance', () => {
      // Commit what is handled while the old generation still may, before partitions move.
      void flushCommits();
    });

    const consumeOptions = {
      topics: topicList,
      mode: kafka.MessagesStreamModes.COMMITTED,
      fallbackMode:
        config.from === 'latest'
          ? kafka.MessagesStreamFallbackModes.LATEST
          : kafka.MessagesStreamFallbackModes.EARLIEST,
      autocommit: false,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      rebalanceTimeout: config.rebalanceTimeoutMs,
      maxWaitTime: 1000,
    };
    const watch = (
      s: MessagesStream<string, Buffer, string, string>,
    ): MessagesStream<string, Buffer, string, string> => {
      // Errors surface through the iterator; this keeps a late one on a replaced stream quiet.
      s.on('error', () => undefined);
      return s;
    };

    // Each new generation gets a fresh stream that starts at the committed offsets: the old
    // one's prefetched messages and in-flight fetches belong to the previous assignment.
    let rebalancing = Promise.resolve();
    /** A fresh stream from the committed offsets in place of the current one. */
    const replaceStream = async (): Promise<void> => {
      if (!current || stopController.signal.aborted) return;
      try {
        const next = watch(await c.consume(consumeOptions));
        const old = current;
        current = next;
        // The new stream starts at the committed offsets, before anything dropped; an intake
        // waiting for room because the old one offered only dropped messages moves on to it.
        for (const st of partitions.values()) st.droppedFrom = undefined;
        skippedRun = 0;
        releaseSpace();
        void old?.close().catch(() => undefined);
      } catch (error) {
        sessionError?.(error);
      }
    };
    let refetching = false;
    refetch = () => {
      if (refetching || !current || stopController.signal.aborted) return;
      refetching = true;
      rebalancing = rebalancing.then(async () => {
        await flushCommits();
        await replaceStream();
        refetching = false;
      });
    };
    c.on('consumer:heartbeat:end', () => {
      lastHeard = Date.now();
      for (const st of partitions.values()) {
        if (st.queue.length > 0 && !st.closing) startWorker(st);
      }
    });
    c.on('consumer:group:join', (payload: ConsumerGroupJoinPayload) => {
      lastHeard = Date.now();
      // The client rejoins inside a failed commit and then resends the same request under the
      // new generation: offsets of a partition that may have moved on since. Empty it here
      // (this runs before the resend); the new generation commits its own progress.
      if (inflightCommit && inflightCommit.generation !== payload.generationId) {
        inflightCommit.offsets.length = 0;
      }
      rebalancing = rebalancing.then(async () => {
        assign(payload);
        status.memberId = payload.memberId;
        await replaceStream();
      });
    });

    current = watch(await Promise.race([c.consume(consumeOptions), failed]));
    if (c.assignments) assign({ generationId: c.generationId, assignments: c.assignments });
    status.memberId = c.memberId ?? undefined;
    status.state = 'running';
    delete status.lastError;

    const intakeLoop = async (): Promise<void> => {
      while (!stopController.signal.aborted) {
        const s = current;
        if (!s) return; // the session is being torn down
        try {
          for await (const m of s as AsyncIterable<InMessage>) {
            if (current !== undefined && s !== current) break; // replaced: leaving destroys it
            // Ending: leaving would destroy the stream, and a closed stream unsubscribes the
            // member, which stays subscribed until the messages in hand are committed; the
            // teardown paused the stream and closes it then.
            if (current === undefined || stopController.signal.aborted) continue;
            intake(m);
            // Full, or every partition full or dropping so the stream has nothing to give until
            // a refetch: wait until one has room. While some partition could still take messages,
            // reading goes on: a fetch lists partition after partition, and the later ones' turn
            // comes only past the earlier ones' dropped messages.
            if (queuedNow() >= maxQueued || (skippedRun >= maxQueued && !anyCanTake())) {
              await new Promise<void>((resolve) => spaceWaiters.push(resolve));
              if (skippedRun >= maxQueued) {
                skippedRun = 0;
                refetch?.();
              }
            }
          }
        } catch (error) {
          if (s === current && !stopController.signal.aborted) throw error;
        }
        if (s === current && !stopController.signal.aborted) {
          await rebalancing;
          if (s === current) throw new Error('the Kafka message stream ended unexpectedly');
        }
      }
    };
    await Promise.race([intakeLoop(), failed]);
  };

  /** Ends a session: in-flight handlers finish, what they handled is committed, the group is left. */
  const teardown = async (): Promise<void> => {
    const c = consumer;
    const s = current;
    current = undefined;
    s?.pause();
    refetch = undefined;
    skippedRun = 0;
    closingAll = true;
    releaseSpace();
    for (const st of partitions.values()) {
      st.closing = true;
      // No retries or backoffs while shutting down or reconnecting: the attempt in hand finishes.
      st.abort.abort();
    }
    // The stream stays open until the work in hand is committed: closing it unsubscribes the
    // member from its topics, and a rebalance meanwhile would hand its partitions away before
    // their finished messages are committed.
    const workers = [...partitions.values()]
      .map((st) => st.running)
      .concat([...previousWorkers.values()])
      .filter((w): w is Promise<void> => w !== undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(workers),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, shutdownTimeoutMs))),
    ]);
    clearTimeout(timer);
    await flushCommits();
    while (committing) await committing;
    if (commitTimer) clearTimeout(commitTimer);
    commitTimer = undefined;
    await s?.close().catch(() => undefined);
    for (const st of partitions.values()) {
      st.revoked = true;
      st.abort.abort();
    }
    partitions.clear();
    previousWorkers.clear();
    status.assignments = [];
    queuedNow();
    consumer = undefined;
    sessionError = undefined;
    // Forced: closes any stream left and leaves the group (errors only mean it is gone already).
    if (c) await new Promise<void>((resolve) => c.close(true, () => resolve()));
  };

  const requestStop = (): void => {
    if (stopController.signal.aborted) return;
    status.state = 'stopping';
    closingAll = true;
    // No new retries or dead-letter attempts; the attempt in flight finishes.
    for (const st of partitions.values()) {
      st.closing = true;
      st.abort.abort();
    }
    stopController.abort();
    releaseSpace();
    sessionError?.(STOP);
  };

  const run = async (): Promise<void> => {
    let failures = 0;
    while (!stopController.signal.aborted) {
      try {
        await session();
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
        const delayMs = backoffDelay(++failures, backoff);
        emit({ kind: 'error', groupId, error: err, delayMs });
        await sleep(delayMs, stopController.signal);
        continue;
      }
      failures = 0;
    }
    await teardown();
    await dlqProducer?.close().catch(() => undefined);
    await admin?.close().catch(() => undefined);
    if (fatal !== undefined) throw fatal;
  };

  const done = run().then(
    () => {
      status.state = 'stopped';
      rejectReady(
        new EventloomError('SUBSCRIPTION_STOPPED', `Kafka consumer '${groupId}' stopped`),
      );
      emit({ kind: 'stopped', groupId });
    },
    (error: unknown) => {
      status.state = 'failed';
      status.lastError = errorMessage(error);
      rejectReady(error);
      emit({ kind: 'stopped', groupId, error });
      throw error;
    },
  );
  done.catch(() => undefined);

  return {
    groupId,
    ready,
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
