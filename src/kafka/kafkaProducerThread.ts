import { Buffer } from 'node:buffer';
import { Worker } from 'node:worker_threads';
import { errorMessage } from '../core/async.js';
import { loadKafka, type ResolvedConnection } from './kafkaClient.js';
import { EventProducer } from './kafkaEventProducer.js';
import { KAFKA_EVENT_HEADERS, type KafkaRecord } from './kafkaMessage.js';
import type { KafkaCompression } from './kafkaPublisherTypes.js';

/** How the publisher sends its produce requests through one idempotent producer. */
export interface RecordSender {
  /**
   * How many requests may be given to `send` before the first is answered. Above 1, the
   * sender keeps them in order, one on the wire at a time, and after a failed request sends
   * none until `close()`: those given meanwhile fail without being sent.
   */
  readonly pipeline: number;
  /** One produce request (`acks=all`); rejects with the client's error. */
  send(records: readonly KafkaRecord[]): Promise<void>;
  /** Connects and gets the producer id ahead of the first send. */
  warm(): Promise<void>;
  /** Closes the producer after a failed send; the next send starts a fresh one, and is sent. */
  close(): Promise<void>;
  /** Closes the producer for good (the publisher stopped). */
  dispose(): Promise<void>;
}

/**
 * The publisher's sender: from the producer thread when `thread` is true and the connection
 * settings can be handed to a thread (a SASL callback, say, cannot), else from this thread.
 */
export function createRecordSender(
  connection: ResolvedConnection,
  compression: KafkaCompression,
  thread: boolean,
  onThreadFailed: (error: unknown) => void = () => undefined,
): RecordSender {
  const inThread = (): RecordSender => new EventProducer(connection, compression);
  if (!thread) return inThread();
  const config = { ...connection.base, clientId: connection.clientId, compression };
  try {
    structuredClone(config);
  } catch {
    return inThread();
  }
  return new ThreadedSender(config, inThread, onThreadFailed);
}

/**
 * Header names sent as one byte each. The thread's list (kafkaProducerThread.worker.mjs) has
 * the same names in the same order.
 */
const KNOWN_HEADERS: readonly string[] = [
  KAFKA_EVENT_HEADERS.eventId,
  KAFKA_EVENT_HEADERS.eventType,
  KAFKA_EVENT_HEADERS.streamVersion,
  KAFKA_EVENT_HEADERS.position,
  KAFKA_EVENT_HEADERS.correlationId,
  KAFKA_EVENT_HEADERS.causationId,
  KAFKA_EVENT_HEADERS.traceparent,
  KAFKA_EVENT_HEADERS.tracestate,
];
const HEADER_INDEX = new Map(KNOWN_HEADERS.map((name, i) => [name, i]));
const OTHER_HEADER = 0xff;
const SAME_TOPIC = 0xffff;

/**
 * A produce request's messages as one buffer, for the producer thread to take over without a
 * copy (transferred, not cloned: cloning thousands of small objects per request cost more
 * than the thread saved). Per message: topic (u16 length, or SAME_TOPIC for the previous
 * one), key and value (u32 length + bytes), header count (u8), then per header the name's
 * index in KNOWN_HEADERS (or OTHER_HEADER + u16 length + bytes) and the value (u32 + bytes).
 */
export function encodeRecords(records: readonly KafkaRecord[]): ArrayBuffer {
  // An upper bound: a UTF-16 code unit takes at most 3 bytes in UTF-8.
  let size = 4;
  for (const r of records) {
    size += 11 + 3 * (r.topic.length + r.key.length) + r.value.length;
    if (r.headers.size > 255)
      throw new Error(`a message has ${r.headers.size} headers (255 at most)`);
    for (const [name, value] of r.headers) size += 9 + 3 * (name.length + value.length);
  }
  // Unpooled: its ArrayBuffer is its own, so handing it over takes nothing from other Buffers.
  const bytes = Buffer.allocUnsafeSlow(size);
  bytes.writeUInt32LE(records.length, 0);
  let at = 4;
  let topic: string | undefined;
  for (const r of records) {
    if (r.topic === topic) {
      bytes.writeUInt16LE(SAME_TOPIC, at);
      at += 2;
    } else {
      topic = r.topic;
      const n = bytes.write(topic, at + 2, 'utf8');
      bytes.writeUInt16LE(n, at);
      at += 2 + n;
    }
    const keyLength = bytes.write(r.key, at + 4, 'utf8');
    bytes.writeUInt32LE(keyLength, at);
    at += 4 + keyLength;
    bytes.writeUInt32LE(r.value.length, at);
    r.value.copy(bytes, at + 4);
    at += 4 + r.value.length;
    bytes[at++] = r.headers.size;
    for (const [name, value] of r.headers) {
      const index = HEADER_INDEX.get(name);
      if (index !== undefined) {
        bytes[at++] = index;
      } else {
        bytes[at] = OTHER_HEADER;
        const n = bytes.write(name, at + 3, 'utf8');
        bytes.writeUInt16LE(n, at + 1);
        at += 3 + n;
      }
      const n = bytes.write(value, at + 4, 'utf8');
      bytes.writeUInt32LE(n, at);
      at += 4 + n;
    }
  }
  return bytes.buffer;
}

type Request =
  | { op: 'open'; producer: number; config: Record<string, unknown> }
  | { op: 'warm' | 'close' | 'forget'; producer: number }
  | { op: 'send'; producer: number; buffer: ArrayBuffer };

interface Reply {
  id: number;
  /** The client's error as plain data (see plainError in the worker). */
  error?: { message: string };
  /** Not sent: a request before it failed. */
  skipped?: true;
}

/** The client's error as the thread sent it, shaped as the client's own errors are. */
class ProducerThreadError extends Error {
  constructor(plain: Record<string, unknown>) {
    super(typeof plain.message === 'string' ? plain.message : 'the producer thread failed');
    Object.assign(this, plain);
    this.name = 'ProducerThreadError';
  }
}

/**
 * The thread that runs the publishers' producers, started on first use and shared by every
 * publisher of the process. Kept while the process runs, so a restarted publisher finds its
 * code already compiled; it holds the process open only while a request is pending.
 */
class ProducerThread {
  #worker: Worker | undefined;
  #generation = 0;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve(): void; reject(error: unknown): void }>();

  /**
   * Starts the thread unless it runs, and says which one runs: the number changes whenever a
   * new thread starts, whose producers must be opened again.
   */
  running(): number {
    if (this.#worker === undefined) this.#start();
    return this.#generation;
  }

  request(request: Request): Promise<void> {
    const worker = this.#worker ?? this.#start();
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      if (this.#pending.size === 0) worker.ref();
      this.#pending.set(id, { resolve, reject });
      const transfer = request.op === 'send' ? [request.buffer] : [];
      worker.postMessage({ ...request, id }, transfer);
    });
  }

  #start(): Worker {
    const worker = new Worker(new URL('./kafkaProducerThread.worker.mjs', import.meta.url));
    this.#worker = worker;
    this.#generation++;
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const pending = this.#pending.get(reply.id);
      if (pending === undefined) return;
      this.#settled(reply.id);
      if (reply.skipped) {
        pending.reject(
          new ProducerThreadError({ message: 'not sent: a request before it failed' }),
        );
      } else if (reply.error === undefined) pending.resolve();
      else pending.reject(new ProducerThreadError(reply.error));
    });
    let failure: Error | undefined;
    worker.on('error', (error) => (failure = error));
    worker.on('exit', (code) => {
      if (this.#worker === worker) this.#worker = undefined;
      const error = new Error(
        `the Kafka producer thread stopped (exit code ${code}${failure ? `: ${failure.message}` : ''})`,
        { cause: failure },
      );
      for (const [id, pending] of [...this.#pending]) {
        this.#settled(id);
        pending.reject(error);
      }
    });
    return worker;
  }

  async terminate(): Promise<void> {
    await this.#worker?.terminate();
  }

  #settled(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker?.unref();
  }
}

let shared: ProducerThread | undefined;
let nextProducer = 1;

/**
 * Stops the producer thread, if one runs. Its requests in flight fail, and their publishers
 * send them again from their own threads. A process need not call it before it ends: the
 * thread holds the process open only while a request is pending.
 */
export async function stopProducerThread(): Promise<void> {
  await shared?.terminate();
}

/**
 * A {@link RecordSender} whose client runs in the producer thread. The publisher's own thread
 * reads the store and builds the messages while the thread encodes and sends the previous
 * request: on a machine with a core to spare, publishing is no longer bound by one core doing
 * both. Should the thread fail, the request fails (and is retried by the publisher) and this
 * sender goes on in the publisher's own thread.
 */
class ThreadedSender implements RecordSender {
  readonly #config: Record<string, unknown>;
  readonly #id = nextProducer++;
  readonly #inThread: () => RecordSender;
  readonly #onThreadFailed: (error: unknown) => void;
  #openIn = 0;
  #ready: Promise<ProducerThread> | undefined;
  #fallback: RecordSender | undefined;

  /** The thread queues a request behind the one on the wire and sends it on the answer. */
  get pipeline(): number {
    return this.#fallback?.pipeline ?? 2;
  }

  constructor(
    config: Record<string, unknown>,
    inThread: () => RecordSender,
    onThreadFailed: (error: unknown) => void,
  ) {
    this.#config = config;
    this.#inThread = inThread;
    this.#onThreadFailed = onThreadFailed;
  }

  async send(records: readonly KafkaRecord[]): Promise<void> {
    if (this.#fallback) return this.#fallback.send(records);
    await this.#call({ op: 'send', producer: this.#id, buffer: encodeRecords(records) });
  }

  async warm(): Promise<void> {
    if (this.#fallback) return this.#fallback.warm();
    await this.#call({ op: 'warm', producer: this.#id });
  }

  async close(): Promise<void> {
    if (this.#fallback) return this.#fallback.close();
    await this.#call({ op: 'close', producer: this.#id }).catch(() => undefined);
  }

  async dispose(): Promise<void> {
    if (this.#fallback) return this.#fallback.dispose();
    await this.#call({ op: 'forget', producer: this.#id }).catch(() => undefined);
  }

  async #call(request: Request): Promise<void> {
    // The thread would only report a missing client package as an import error: say it as
    // the publisher's own thread does (and stop, rather than retry).
    await loadKafka();
    let thread: ProducerThread;
    try {
      thread = await this.#opened();
    } catch (error) {
      const failure = new Error(
        `the Kafka producer thread could not start: ${errorMessage(error)}`,
        { cause: error },
      );
      this.#fallBack(failure);
      throw failure;
    }
    try {
      await thread.request(request);
    } catch (error) {
      if (!(error instanceof ProducerThreadError)) this.#fallBack(error);
      throw error;
    }
  }

  #fallBack(error: unknown): void {
    if (this.#fallback) return;
    this.#fallback = this.#inThread();
    this.#onThreadFailed(error);
  }

  /**
   * The thread, once this sender's producer is open in it. Every call awaits the same promise
   * (until the thread changes), so the requests are posted in the order they were made.
   */
  #opened(): Promise<ProducerThread> {
    const thread = (shared ??= new ProducerThread());
    const generation = thread.running();
    if (this.#ready === undefined || this.#openIn !== generation) {
      this.#openIn = generation;
      this.#ready = thread
        .request({ op: 'open', producer: this.#id, config: this.#config })
        .then(() => thread);
    }
    return this.#ready;
  }
}
