import { describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_HEADERS,
  deadLetterRecord,
  type InMessage,
  MAX_ERROR_HEADER,
} from '../../src/kafka/kafkaDeadLetters.js';
import { handleMessage, type MessageHandling } from '../../src/kafka/kafkaMessageHandling.js';
import { toKafkaMessage } from '../../src/kafka/kafkaMessage.js';

const failedAt = new Date('2026-03-04T05:06:07.000Z');

function inMessage(value: string): InMessage {
  return {
    topic: 'eventloom.user',
    partition: 2,
    offset: 41n,
    key: 'user-1',
    value: Buffer.from(value),
    headers: new Map([['event-type', 'UserRenamed']]),
  } as unknown as InMessage;
}

const eventValue = toKafkaMessage(
  {
    id: 'e-1',
    streamId: 'user-1',
    type: 'UserRenamed',
    data: { name: 'Ada' },
    metadata: {},
    version: 1,
    position: 1,
    recordedAt: failedAt,
  },
  'eventloom.user',
).value;

describe('dead-letter records', () => {
  it('keep the key, value and headers and say where the message came from and why', () => {
    const m = inMessage('{}');
    const record = deadLetterRecord(m, {
      topic: 'eventloom.user.dlq',
      reason: 'boom',
      attempts: 5,
      groupId: 'g',
      failedAt,
    });
    expect(record).toEqual({
      topic: 'eventloom.user.dlq',
      key: 'user-1',
      value: m.value,
      headers: {
        'event-type': 'UserRenamed',
        [DEAD_LETTER_HEADERS.originalTopic]: 'eventloom.user',
        [DEAD_LETTER_HEADERS.originalPartition]: '2',
        [DEAD_LETTER_HEADERS.originalOffset]: '41',
        [DEAD_LETTER_HEADERS.error]: 'boom',
        [DEAD_LETTER_HEADERS.attempts]: '5',
        [DEAD_LETTER_HEADERS.groupId]: 'g',
        [DEAD_LETTER_HEADERS.failedAt]: '2026-03-04T05:06:07.000Z',
      },
    });
  });

  it('cut a long reason to the header limit', () => {
    const record = deadLetterRecord(inMessage('{}'), {
      topic: 'd',
      reason: 'x'.repeat(MAX_ERROR_HEADER + 10),
      attempts: 1,
      groupId: 'g',
      failedAt,
    });
    expect(record.headers[DEAD_LETTER_HEADERS.error]).toHaveLength(MAX_ERROR_HEADER);
  });
});

function handling(handler: () => void, eventTypes?: string[]) {
  const parked: { reason: string; attempts: number }[] = [];
  const retries: number[] = [];
  const h: MessageHandling = {
    config: {
      groupId: 'g',
      handler,
      eventTypes: eventTypes && new Set(eventTypes),
      maxAttempts: 3,
      backoff: { initialDelayMs: 1, maxDelayMs: 1 },
    },
    deadLetter: (_m, reason, attempts) => {
      parked.push({ reason, attempts });
      return Promise.resolve('dead-lettered');
    },
    onRetry: (_m, attempt) => retries.push(attempt),
    onMalformedTraceparent: () => undefined,
  };
  return { h, parked, retries };
}

describe('message handling', () => {
  it('retries a failing handler and dead-letters the message after maxAttempts', async () => {
    const { h, parked, retries } = handling(() => {
      throw new Error('read model down');
    });
    const outcome = await handleMessage(h, inMessage(eventValue), new AbortController().signal);
    expect(outcome).toBe('dead-lettered');
    expect(retries).toEqual([1, 2]);
    expect(parked).toEqual([{ reason: 'read model down', attempts: 3 }]);
  });

  it('dead-letters a message that is not an Eventloom event at once', async () => {
    const { h, parked } = handling(() => undefined);
    await handleMessage(h, inMessage('not json'), new AbortController().signal);
    expect(parked).toHaveLength(1);
    expect(parked[0]?.reason).toMatch(/^not an Eventloom event: /);
    expect(parked[0]?.attempts).toBe(0);
  });

  it('passes over event types the consumer does not want without calling the handler', async () => {
    let calls = 0;
    const { h } = handling(() => void calls++, ['UserCreated']);
    expect(await handleMessage(h, inMessage(eventValue), new AbortController().signal)).toBe(
      'handled',
    );
    expect(calls).toBe(0);
  });

  it('gives up without dead-lettering when the partition is revoked mid-retry', async () => {
    const abort = new AbortController();
    const { h, parked } = handling(() => {
      abort.abort();
      throw new Error('interrupted');
    });
    expect(await handleMessage(h, inMessage(eventValue), abort.signal)).toBe('aborted');
    expect(parked).toEqual([]);
  });
});
