import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/core/types.js';
import { parseBrokers } from '../../src/kafka/kafkaClient.js';
import { isKafkaError, translateKafkaError } from '../../src/kafka/kafkaErrors.js';
import {
  defaultTopicFor,
  fromKafkaMessage,
  isValidTopicName,
  toKafkaMessage,
} from '../../src/kafka/kafkaMessage.js';
import { streamCategory } from '../../src/core/streamCategory.js';

const event: RecordedEvent = {
  id: 'e-1',
  streamId: 'user-42',
  type: 'UserRegistered',
  data: { username: 'ada' },
  metadata: { correlationId: 'c-1', causationId: 7, userId: 'u-1' },
  version: 3,
  position: 99,
  recordedAt: new Date('2026-01-02T03:04:05.678Z'),
};

describe('Kafka message mapping', () => {
  it('names the topic after the stream category: user-42 → eventloom.user', () => {
    expect(streamCategory('user-42')).toBe('user');
    expect(streamCategory('orders')).toBe('orders');
    expect(streamCategory('order-7-line-2')).toBe('order');
    expect(defaultTopicFor({ streamId: 'user-42' })).toBe('eventloom.user');
    expect(defaultTopicFor({ streamId: 'tenant:acme/user-1' })).toBe('eventloom.tenant_acme_user');
    expect(isValidTopicName(defaultTopicFor({ streamId: '-odd' }))).toBe(true);
  });

  it('checks topic names the way Kafka does', () => {
    expect(isValidTopicName('eventloom.user')).toBe(true);
    expect(isValidTopicName('a'.repeat(249))).toBe(true);
    expect(isValidTopicName('a'.repeat(250))).toBe(false);
    expect(isValidTopicName('..')).toBe(false);
    expect(isValidTopicName('has space')).toBe(false);
    expect(isValidTopicName('')).toBe(false);
  });

  it('keys by stream id and carries the contract headers plus correlation and causation ids', () => {
    const m = toKafkaMessage(event, 'eventloom.user');
    expect(m.key).toBe('user-42');
    expect(m.headers).toEqual({
      'event-id': 'e-1',
      'event-type': 'UserRegistered',
      'stream-version': '3',
      position: '99',
      'correlation-id': 'c-1',
      'causation-id': '7',
    });
    expect(fromKafkaMessage(Buffer.from(m.value))).toEqual(event);
  });

  it('leaves out tracing headers the metadata does not have', () => {
    const m = toKafkaMessage({ ...event, metadata: {} }, 't');
    expect(Object.keys(m.headers)).toEqual([
      'event-id',
      'event-type',
      'stream-version',
      'position',
    ]);
  });

  it('names the field when a message is not an Eventloom event', () => {
    expect(() => fromKafkaMessage(undefined)).toThrow(/message.value: is empty/);
    expect(() => fromKafkaMessage('{oops')).toThrow(/message.value: is not JSON/);
    expect(() => fromKafkaMessage('[1]')).toThrow(/must be a JSON object/);
    const bad = JSON.parse(toKafkaMessage(event, 't').value) as Record<string, unknown>;
    expect(() => fromKafkaMessage(JSON.stringify({ ...bad, version: 'x' }))).toThrow(
      /message.value.version: must be an integer/,
    );
    expect(() => fromKafkaMessage(JSON.stringify({ ...bad, recordedAt: 'soon' }))).toThrow(
      /message.value.recordedAt: must be an ISO date/,
    );
  });
});

describe('Kafka errors and options', () => {
  it('parses broker lists from KAFKA_BROKERS and names a bad entry', () => {
    expect(parseBrokers('127.0.0.1:9092, broker-2:9093')).toEqual([
      '127.0.0.1:9092',
      'broker-2:9093',
    ]);
    expect(parseBrokers(['[::1]:9092'])).toEqual(['[::1]:9092']);
    expect(() => parseBrokers('localhost')).toThrow(
      /"localhost" is not a broker address; use 'host:port'/,
    );
    expect(() => parseBrokers(' , ')).toThrow(/at least one broker/);
  });

  it('translates nested client errors into a reason and a message that says what to do', () => {
    const unreachable = new AggregateError(
      [new Error('Cannot connect to any broker.')],
      'initProducerId failed 3 times.',
    );
    const e = translateKafkaError(unreachable, {
      brokers: ['10.0.0.1:9092'],
      action: 'publishing 3 event(s)',
      fallback: 'PRODUCE_FAILED',
    });
    expect(isKafkaError(e)).toBe(true);
    expect(e.reason).toBe('BROKER_UNREACHABLE');
    expect(e.retryable).toBe(true);
    expect(e.code).toBe('STORE_UNAVAILABLE');
    expect(e.message).toContain('10.0.0.1:9092');
    expect(e.cause).toBe(unreachable);

    const tooLarge = Object.assign(
      new Error(
        'The request included a message larger than the max message size the server will accept.',
      ),
      {
        apiId: 'MESSAGE_TOO_LARGE',
      },
    );
    const big = translateKafkaError(
      new AggregateError(
        [new AggregateError([tooLarge], 'Received response with error')],
        'Producing messages failed.',
      ),
      {
        brokers: ['b:1'],
        action: 'publishing',
        fallback: 'PRODUCE_FAILED',
      },
    );
    expect(big.reason).toBe('MESSAGE_TOO_LARGE');
    expect(big.retryable).toBe(false);

    const missing = translateKafkaError(new Error('Unknown topic eventloom.user.'), {
      brokers: ['b:1'],
      action: 'publishing',
      fallback: 'PRODUCE_FAILED',
    });
    expect(missing.reason).toBe('TOPIC_MISSING');
    expect(missing.topic).toBe('eventloom.user');
    expect(missing.message).toMatch(/auto\.create\.topics\.enable=false/);
  });
});
