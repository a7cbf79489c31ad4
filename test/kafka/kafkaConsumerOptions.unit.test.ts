import { describe, expect, it } from 'vitest';
import { isEventloomError, type ValidationError } from '../../src/core/errors.js';
import { startKafkaConsumer } from '../../src/kafka/kafkaConsumer.js';
import type { KafkaConsumerOptions } from '../../src/kafka/kafkaConsumerTypes.js';

const valid: KafkaConsumerOptions = {
  brokers: '127.0.0.1:9092',
  groupId: 'g',
  topics: ['t'],
  handler: () => undefined,
};

/** The error `startKafkaConsumer` throws for `options` (they never reach a broker). */
function rejection(options: Record<string, unknown>): ValidationError {
  try {
    startKafkaConsumer(options as unknown as KafkaConsumerOptions);
  } catch (error) {
    return error as ValidationError;
  }
  throw new Error('startKafkaConsumer accepted the options');
}

describe('Kafka consumer options', () => {
  it('rejects an unknown option and names the option that does it', () => {
    const error = rejection({ ...valid, maxAttempts: 3 });
    expect(isEventloomError(error) && error.code).toBe('VALIDATION');
    expect(error.path).toBe('options.maxAttempts');
    expect(error.message).toMatch(/is not an option — did you mean 'retry.maxAttempts'\?/);
    expect(error.message).toMatch(/Valid options here: .*groupId.*deadLetterTopic/);
  });

  it('points deadLetter and fromBeginning at deadLetterTopic and from', () => {
    expect(rejection({ ...valid, deadLetter: 'x.dlq' }).message).toMatch(
      /options.deadLetter: is not an option — did you mean 'deadLetterTopic'\?/,
    );
    expect(rejection({ ...valid, fromBeginning: true }).message).toMatch(
      /options.fromBeginning: is not an option — did you mean 'from: 'earliest''\?/,
    );
  });

  it('suggests the closest key for a misspelt one, also inside retry', () => {
    expect(rejection({ ...valid, sesionTimeoutMs: 6000 }).message).toMatch(
      /did you mean 'sessionTimeoutMs'/,
    );
    const nested = rejection({ ...valid, retry: { maxAttempt: 2 } });
    expect(nested.path).toBe('options.retry.maxAttempt');
    expect(nested.message).toMatch(/did you mean 'maxAttempts'\?.*initialDelayMs, maxDelayMs/);
  });

  it("rejects from: 'beginning' with the valid values", () => {
    const error = rejection({ ...valid, from: 'beginning' });
    expect(error.path).toBe('options.from');
    expect(error.message).toMatch(/must be one of "earliest", "latest"; got "beginning"/);
  });

  it('rejects durations given as strings and negative delays', () => {
    expect(rejection({ ...valid, shutdownTimeoutMs: '5s' }).message).toMatch(
      /options.shutdownTimeoutMs: expected number \(milliseconds as a number, e.g. 5000\); got "5s"/,
    );
    const negative = rejection({ ...valid, retry: { initialDelayMs: -100 } });
    expect(negative.path).toBe('options.retry.initialDelayMs');
    expect(negative.message).toMatch(/must be >= 0; got number -100/);
    expect(rejection({ ...valid, commitIntervalMs: 1.5 }).message).toMatch(
      /options.commitIntervalMs: expected an integer; got number 1.5/,
    );
  });

  it('rejects delays longer than a JavaScript timer can wait, which would fire at once', () => {
    const error = rejection({ ...valid, commitIntervalMs: 1e10 });
    expect(error.path).toBe('options.commitIntervalMs');
    expect(error.message).toMatch(/at most 2147483647/);
    expect(rejection({ ...valid, retry: { maxDelayMs: 2 ** 31 } }).path).toBe(
      'options.retry.maxDelayMs',
    );
  });

  it('rejects a heartbeat interval not below the session timeout', () => {
    const error = rejection({ ...valid, sessionTimeoutMs: 6000, heartbeatIntervalMs: 6000 });
    expect(error.path).toBe('options.heartbeatIntervalMs');
    expect(error.message).toMatch(/must be less than sessionTimeoutMs \(6000\)/);
  });

  it('rejects a rebalance timeout below the session timeout, which the client refuses', () => {
    const error = rejection({ ...valid, sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 30_000 });
    expect(error.path).toBe('options.rebalanceTimeoutMs');
    expect(error.message).toMatch(/must be at least sessionTimeoutMs \(60000\)/);
  });

  it('names every problem at once, the first one as the path', () => {
    const error = rejection({ ...valid, groupId: '', topics: [], maxQueued: 0 });
    expect(error.path).toBe('options.groupId');
    expect(error.message).toMatch(/options.topics: must list at least 1/);
    expect(error.message).toMatch(/options.maxQueued: must be >= 1; got number 0/);
    expect(error.details?.problems).toHaveLength(3);
  });

  it('checks topic names, the handler and the dead-letter topic', () => {
    expect(rejection({ ...valid, topics: ['ok', 'no spaces'] }).path).toBe('options.topics[1]');
    expect(rejection({ ...valid, handler: 'h' }).message).toMatch(
      /options.handler: must be a function \(event, context\) => Promise<void>; got "h"/,
    );
    expect(rejection({ ...valid, deadLetterTopic: 'bad topic' }).message).toMatch(
      /options.deadLetterTopic: is not a Kafka topic name/,
    );
    expect(rejection({ ...valid, deadLetterTopic: true }).message).toMatch(
      /must be a topic name, a function \(topic\) => topic name, or false/,
    );
    expect(rejection({ ...valid, createTopics: { partitions: 0 } }).path).toBe(
      'options.createTopics.partitions',
    );
  });

  it('rejects options that are not an object', () => {
    expect(() => startKafkaConsumer(null as unknown as KafkaConsumerOptions)).toThrow(
      /options: must be an object; got null/,
    );
  });
});
