import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/core/types.js';
import { CheckpointSaver } from '../../src/kafka/kafkaCheckpointSaver.js';
import { KafkaError } from '../../src/kafka/kafkaErrors.js';
import { defaultTopicFor } from '../../src/kafka/kafkaMessage.js';
import { BATCH_OVERHEAD, entryEvent, PublishBuffer } from '../../src/kafka/kafkaPublishBuffer.js';
import { sendFailure } from '../../src/kafka/kafkaSendFailure.js';
import type { TopicInfo } from '../../src/kafka/kafkaTopics.js';

const event = (position: number, streamId = 'user-1', data: unknown = {}): RecordedEvent => ({
  id: `e-${position}`,
  streamId,
  type: 'Happened',
  data,
  metadata: {},
  version: position,
  position,
  recordedAt: new Date('2026-01-01T00:00:00.000Z'),
});

/** The topic cache, with the limits a broker would report. */
function topicsWith(limits: Record<string, number>) {
  const ensured: string[] = [];
  const info = (name: string): TopicInfo => ({
    name,
    partitions: 1,
    maxMessageBytes: limits[name] ?? 1_000_000,
  });
  return {
    ensured,
    known: () => undefined,
    ensure: (name: string) => {
      ensured.push(name);
      return Promise.resolve(info(name));
    },
  };
}

const positions = (entries: { position: number }[]) => entries.map((e) => e.position);

function bufferOf(events: RecordedEvent[], maxBatchBytes = 1_000_000, topicFor = defaultTopicFor) {
  const buffer = new PublishBuffer({ topicFor, maxBatchBytes, compression: 'none' });
  for (const e of events) buffer.add(e);
  return buffer;
}

describe('publish buffer', () => {
  it('cuts produce requests by count, in log order', async () => {
    const buffer = bufferOf([event(1), event(2), event(3)]);
    expect(positions(await buffer.nextBatch(2, topicsWith({})))).toEqual([1, 2]);
    buffer.drop(2);
    expect(positions(await buffer.nextBatch(2, topicsWith({})))).toEqual([3]);
  });

  it('cuts by bytes, keeping room under the smallest topic limit in the request', async () => {
    const big = 'x'.repeat(3000);
    const events = [event(1, 'user-1', big), event(2, 'order-1', big), event(3, 'user-2', big)];
    const topics = topicsWith({ 'eventloom.order': BATCH_OVERHEAD + 7000 });
    const batch = await bufferOf(events).nextBatch(10, topics);
    expect(positions(batch)).toEqual([1, 2]);
    expect(topics.ensured).toEqual(['eventloom.user', 'eventloom.order']);
  });

  it('marks a first event too large for its topic for parking and sends nothing', async () => {
    const buffer = bufferOf([event(1, 'user-1', 'x'.repeat(5000)), event(2)]);
    expect(await buffer.nextBatch(10, topicsWith({ 'eventloom.user': 2000 }))).toEqual([]);
    expect(buffer.at(0)?.park).toMatch(/topic 'eventloom.user' accepts at most 2000/);
  });

  it('stops a request before an event that cannot be published, and keeps that event whole', async () => {
    const buffer = bufferOf([event(1), event(2, 'bad-1'), event(3)], 1_000_000, (e) =>
      e.streamId.startsWith('bad') ? 'no spaces allowed' : 'ok',
    );
    expect(positions(await buffer.nextBatch(10, topicsWith({})))).toEqual([1]);
    buffer.drop(1);
    const head = buffer.at(0);
    expect(head?.park).toMatch(/not a Kafka topic name/);
    expect(head && entryEvent(head)).toEqual(event(2, 'bad-1'));
  });

  it('gives back the event of a published entry from its message', () => {
    const buffer = bufferOf([event(7)]);
    const head = buffer.at(0);
    expect(head?.event).toBeUndefined();
    expect(head && entryEvent(head)).toEqual(event(7));
  });
});

describe('send failures', () => {
  const batch = [
    {
      position: 4,
      event: undefined,
      message: {
        topic: 't',
        key: 'k',
        value: Buffer.from('{}'),
        headers: new Map<string, string>(),
      },
      bytes: 2,
      park: undefined,
    },
  ];

  it('stop on a missing client package, shrink on a too large request, retry the rest', () => {
    expect(sendFailure(new KafkaError('CLIENT_MISSING', 'no client'), batch, []).kind).toBe('stop');
    expect(sendFailure(new KafkaError('MESSAGE_TOO_LARGE', 'big'), batch, []).kind).toBe('smaller');
    const missing = sendFailure(new KafkaError('TOPIC_MISSING', 'gone'), batch, []);
    expect(missing).toMatchObject({ kind: 'retry', forget: 't' });
    expect(sendFailure(new Error('ECONNREFUSED'), batch, []).kind).toBe('retry');
  });
});

describe('checkpoint saver', () => {
  it('stores only the latest position, one save at a time, and retries a failed one', async () => {
    let position = 3;
    let saved = 0;
    const saves: number[] = [];
    let fail = true;
    const failures: number[] = [];
    const saver = new CheckpointSaver({
      checkpoints: {
        save: async (_name, p) => {
          saves.push(p);
          if (fail) {
            fail = false;
            throw new Error('store busy');
          }
          await Promise.resolve();
        },
      },
      name: 'pub',
      backoff: { initialDelayMs: 1, maxDelayMs: 1 },
      signal: new AbortController().signal,
      position: () => position,
      saved: () => saved,
      onSaved: (p) => (saved = p),
      onFailed: (p) => failures.push(p),
    });
    saver.schedule();
    position = 5;
    saver.schedule();
    position = 9;
    saver.schedule();
    await saver.idle();
    expect(failures).toEqual([3]);
    expect(saves).toEqual([3, 9]);
    expect(saved).toBe(9);
  });
});
