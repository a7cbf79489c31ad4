// The Kafka publisher's producer thread (see kafkaProducerThread.ts). Plain JavaScript, so
// that the same file runs from the build and under a TypeScript test runner.
//
// Holds idempotent producers by id. A publisher hands its producer at most two requests at
// a time, sent one at a time (see sendQueued). A request is a batch of
// messages encoded by `encodeRecords` into one transferred buffer; the reply is `{ id }`, or
// `{ id, error }` with the client's error as plain data (message, code, apiId, nested errors
// and cause), for the publisher to translate as if it came from the client in its own thread.
import { Buffer } from 'node:buffer';
import { parentPort } from 'node:worker_threads';

/** Header names by the index `encodeRecords` gives them (KNOWN_HEADERS there, same order). */
const KNOWN_HEADERS = [
  'event-id',
  'event-type',
  'stream-version',
  'position',
  'correlation-id',
  'causation-id',
  'traceparent',
  'tracestate',
].map((name) => Buffer.from(name, 'utf8'));
const OTHER_HEADER = 0xff;
const SAME_TOPIC = 0xffff;

/** @type {Map<number, { config: Record<string, unknown>, client: any, queue: { id: number, messages: unknown[] }[], failed: boolean }>} */
const producers = new Map();
/** @type {Promise<any> | undefined} */
let kafka;

// The bytes are already what goes on the wire: no serializer copies them again.
const asIs = (bytes) => bytes;

async function producerOf(id) {
  const entry = producers.get(id);
  if (entry === undefined) throw new Error(`no producer ${id} is open in the producer thread`);
  if (entry.client === undefined) {
    kafka ??= import('@platformatic/kafka');
    const k = await kafka;
    const { compression, ...base } = entry.config;
    entry.client = new k.Producer({
      ...base,
      idempotent: true,
      acks: k.ProduceAcks.ALL,
      compression,
      // Java-compatible murmur2 over the key's bytes: the same partition as in the main thread.
      partitioner: k.compatibilityPartitioner,
      serializers: { key: asIs, value: asIs, headerKey: asIs, headerValue: asIs },
    });
  }
  return entry.client;
}

function decodeRecords(buffer) {
  const bytes = Buffer.from(buffer);
  const count = bytes.readUInt32LE(0);
  const messages = new Array(count);
  let at = 4;
  let topic = '';
  for (let i = 0; i < count; i++) {
    const topicLength = bytes.readUInt16LE(at);
    at += 2;
    if (topicLength !== SAME_TOPIC) {
      topic = bytes.toString('utf8', at, at + topicLength);
      at += topicLength;
    }
    const keyLength = bytes.readUInt32LE(at);
    const key = bytes.subarray(at + 4, at + 4 + keyLength);
    at += 4 + keyLength;
    const valueLength = bytes.readUInt32LE(at);
    const value = bytes.subarray(at + 4, at + 4 + valueLength);
    at += 4 + valueLength;
    const headerCount = bytes[at++];
    const headers = new Map();
    for (let h = 0; h < headerCount; h++) {
      const index = bytes[at++];
      let name = KNOWN_HEADERS[index];
      if (index === OTHER_HEADER) {
        const nameLength = bytes.readUInt16LE(at);
        name = bytes.subarray(at + 2, at + 2 + nameLength);
        at += 2 + nameLength;
      }
      const headerLength = bytes.readUInt32LE(at);
      headers.set(name, bytes.subarray(at + 4, at + 4 + headerLength));
      at += 4 + headerLength;
    }
    messages[i] = { topic, key, value, headers };
  }
  return messages;
}

/** The client's error as data a message can carry, nesting as the client nests it. */
function plainError(error, depth = 0) {
  if (typeof error !== 'object' || error === null) return { message: String(error) };
  const plain = { message: typeof error.message === 'string' ? error.message : String(error) };
  if (typeof error.code === 'string') plain.code = error.code;
  if (typeof error.apiId === 'string') plain.apiId = error.apiId;
  if (depth < 6 && Array.isArray(error.errors)) {
    plain.errors = error.errors.map((e) => plainError(e, depth + 1));
  }
  if (depth < 6 && error.cause !== undefined) plain.cause = plainError(error.cause, depth + 1);
  return plain;
}

async function closeClient(id) {
  const entry = producers.get(id);
  const client = entry?.client;
  if (entry !== undefined) {
    entry.client = undefined;
    entry.failed = false;
  }
  await client?.close().catch(() => undefined);
}

const ANSWERED_LATER = Symbol('answered later');

/**
 * Sends a producer's requests in order, one on the wire at a time (two in flight would carry
 * the same sequence numbers, and the broker would drop the second as a duplicate). After a
 * failure, every later request is answered `skipped` without being sent until the producer
 * is closed: those queued behind the failed one, and those still on their way to this thread
 * (the publisher sends them all again, after the failed one, once it has closed the producer).
 */
async function sendQueued(producer, entry) {
  while (entry.queue.length > 0) {
    const { id, messages } = entry.queue[0];
    try {
      await (await producerOf(producer)).send({ messages });
      entry.queue.shift();
      parentPort.postMessage({ id });
    } catch (error) {
      entry.failed = true;
      const skipped = entry.queue.splice(0);
      parentPort.postMessage({ id, error: plainError(error) });
      for (const request of skipped.slice(1)) skip(request.id);
    }
  }
}

const skip = (id) => parentPort.postMessage({ id, skipped: true });

async function handle(request) {
  switch (request.op) {
    case 'open':
      producers.set(request.producer, {
        config: request.config,
        client: undefined,
        queue: [],
        failed: false,
      });
      return;
    case 'warm':
      await (await producerOf(request.producer)).initIdempotentProducer({});
      return;
    case 'send': {
      const entry = producers.get(request.producer);
      if (entry === undefined) throw new Error(`no producer ${request.producer} is open`);
      if (entry.failed) {
        skip(request.id);
        return ANSWERED_LATER;
      }
      // Decoded now, while the request before it may still be on the wire.
      entry.queue.push({ id: request.id, messages: decodeRecords(request.buffer) });
      if (entry.queue.length === 1) void sendQueued(request.producer, entry);
      return ANSWERED_LATER;
    }
    case 'close':
      await closeClient(request.producer);
      return;
    case 'forget':
      await closeClient(request.producer);
      producers.delete(request.producer);
      return;
    default:
      throw new Error(`unknown request ${String(request.op)}`);
  }
}

parentPort.on('message', (request) => {
  handle(request).then(
    (result) => {
      if (result !== ANSWERED_LATER) parentPort.postMessage({ id: request.id });
    },
    (error) => parentPort.postMessage({ id: request.id, error: plainError(error) }),
  );
});
