import type { Consumer, ConsumerGroupJoinPayload, MessagesStream } from '@platformatic/kafka';
import { withTimeout } from '../core/async.js';
import { loadKafka } from './kafkaClient.js';
import type { ConsumerConfig } from './kafkaConsumerOptions.js';
import type { InMessage } from './kafkaDeadLetters.js';
import type { OffsetCommitter } from './kafkaOffsetCommitter.js';
import type { PartitionQueue } from './kafkaPartitionQueue.js';

type Stream = MessagesStream<string, Buffer, string, string>;

export interface AssignPayload {
  generationId?: number;
  assignments?: { topic: string; partitions: number[] }[] | null;
}

/** What a session needs from the consumer that runs it. */
export interface SessionHost {
  config: ConsumerConfig;
  partitions: PartitionQueue;
  committer: OffsetCommitter;
  stopSignal: AbortSignal;
  /** Takes the assignment of a generation. */
  assign(payload: AssignPayload, memberId?: string): void;
  /** The coordinator answered (a heartbeat or a join): the membership lease is renewed. */
  heard(): void;
  /** A heartbeat went through: partitions with queued messages get their worker back. */
  resumeWorkers(): void;
  /** A message from the stream, for its partition's queue. */
  intake(m: InMessage): void;
  /** The session started consuming. */
  started(memberId: string | undefined): void;
}

/**
 * One Kafka consumer client in the group and its message stream; after a connection failure
 * the consumer starts a new session. Each new generation gets a fresh stream that starts at
 * the committed offsets: the old one's prefetched messages and in-flight fetches belong to the
 * previous assignment.
 */
export class ConsumerSession {
  readonly #host: SessionHost;
  client: Consumer<string, Buffer, string, string> | undefined;
  #current: Stream | undefined;
  #fail: (e: unknown) => void = () => undefined;
  #rebalancing = Promise.resolve();
  #refetching = false;
  #ended = false;

  constructor(host: SessionHost) {
    this.#host = host;
  }

  /** Ends the session with `error` (or a stop marker). */
  fail(error: unknown): void {
    this.#fail(error);
  }

  /** Consumes until the stream fails or the consumer stops; rejects with the failure. */
  async run(): Promise<void> {
    const { config, partitions, committer, stopSignal } = this.#host;
    const { connection, sessionTimeoutMs } = config;
    partitions.closingAll = false;
    const kafka = await loadKafka();
    const c = new kafka.Consumer<string, Buffer, string, string>({
      ...connection.base,
      clientId: connection.clientId,
      groupId: config.groupId,
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
    this.client = c;
    const failed = new Promise<never>((_, reject) => {
      this.#fail = reject;
    });
    failed.catch(() => undefined);
    c.on('error', (error: Error) => this.#fail(error));
    c.on('consumer:group:rebalance', () => {
      // Commit what is handled while the old generation still may, before partitions move.
      void committer.flush();
    });

    const consumeOptions = {
      topics: config.topics,
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
    const watch = (s: Stream): Stream => {
      // Errors surface through the iterator; this keeps a late one on a replaced stream quiet.
      s.on('error', () => undefined);
      return s;
    };
    this.#replaceStream = async () => {
      if (!this.#current || stopSignal.aborted) return;
      try {
        const next = watch(await c.consume(consumeOptions));
        const old = this.#current;
        this.#current = next;
        // The new stream starts at the committed offsets, before anything dropped; an intake
        // waiting for room because the old one offered only dropped messages moves on to it.
        partitions.forgetDrops();
        void old?.close().catch(() => undefined);
      } catch (error) {
        this.#fail(error);
      }
    };
    c.on('consumer:heartbeat:end', () => {
      this.#host.heard();
      this.#host.resumeWorkers();
    });
    c.on('consumer:group:join', (payload: ConsumerGroupJoinPayload) => {
      this.#host.heard();
      committer.joined(payload.generationId);
      this.#rebalancing = this.#rebalancing.then(async () => {
        this.#host.assign(payload, payload.memberId);
        await this.#replaceStream();
      });
    });

    this.#current = watch(await Promise.race([c.consume(consumeOptions), failed]));
    if (c.assignments)
      this.#host.assign({ generationId: c.generationId, assignments: c.assignments });
    this.#host.started(c.memberId ?? undefined);
    await Promise.race([this.#intakeLoop(), failed]);
  }

  /** Replaces the message stream with one starting at the committed offsets. */
  refetch(): void {
    if (this.#ended || this.#refetching || !this.#current || this.#host.stopSignal.aborted) return;
    this.#refetching = true;
    this.#rebalancing = this.#rebalancing.then(async () => {
      await this.#host.committer.flush();
      await this.#replaceStream();
      this.#refetching = false;
    });
  }

  /** A fresh stream from the committed offsets in place of the current one (set by `run`). */
  #replaceStream: () => Promise<void> = async () => undefined;

  async #intakeLoop(): Promise<void> {
    const { partitions, stopSignal } = this.#host;
    while (!stopSignal.aborted) {
      const s = this.#current;
      if (!s) return; // the session is being torn down
      try {
        for await (const m of s as AsyncIterable<InMessage>) {
          if (this.#current !== undefined && s !== this.#current) break; // replaced: leaving destroys it
          // Ending: leaving would destroy the stream, and a closed stream unsubscribes the
          // member, which stays subscribed until the messages in hand are committed; the
          // teardown paused the stream and closes it then.
          if (this.#current === undefined || stopSignal.aborted) continue;
          this.#host.intake(m);
          // Full, or every partition full or dropping so the stream has nothing to give until
          // a refetch: wait until one has room. While some partition could still take messages,
          // reading goes on: a fetch lists partition after partition, and the later ones' turn
          // comes only past the earlier ones' dropped messages.
          if (partitions.full()) {
            await partitions.waitForSpace();
            if (partitions.skippedRun >= this.#host.config.maxQueued) {
              partitions.skippedRun = 0;
              this.refetch();
            }
          }
        }
      } catch (error) {
        if (s === this.#current && !stopSignal.aborted) throw error;
      }
      if (s === this.#current && !stopSignal.aborted) {
        await this.#rebalancing;
        if (s === this.#current) throw new Error('the Kafka message stream ended unexpectedly');
      }
    }
  }

  /** Ends the session: in-flight handlers finish, what they handled is committed, the group is left. */
  async teardown(): Promise<void> {
    const { partitions, committer, config } = this.#host;
    const c = this.client;
    const s = this.#current;
    this.#current = undefined;
    s?.pause();
    this.#ended = true;
    partitions.skippedRun = 0;
    partitions.closingAll = true;
    partitions.releaseSpace();
    // No retries or backoffs while shutting down or reconnecting: the attempt in hand finishes.
    partitions.closeAll();
    // The stream stays open until the work in hand is committed: closing it unsubscribes the
    // member from its topics, and a rebalance meanwhile would hand its partitions away before
    // their finished messages are committed.
    await withTimeout(Promise.allSettled(partitions.workers()), config.shutdownTimeoutMs, () => []);
    await committer.flush();
    while (committer.committing) await committer.committing;
    committer.cancelTimer();
    await s?.close().catch(() => undefined);
    partitions.clear();
    this.client = undefined;
    this.#fail = () => undefined;
    // Forced: closes any stream left and leaves the group (errors only mean it is gone already).
    if (c) await new Promise<void>((resolve) => c.close(true, () => resolve()));
  }
}
