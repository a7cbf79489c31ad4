import { describe, expect, it } from 'vitest';
import type { ValidationError } from '../../src/core/errors.js';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import { createMemoryDocuments } from '../../src/core/memoryDocumentStore.js';
import { createProcessedEvents } from '../../src/kafka/processedEvents.js';
import { startKafkaPublisher } from '../../src/kafka/kafkaPublisher.js';

/** The error `start` throws for `options` (they never reach a broker). */
function rejection(start: () => unknown): ValidationError {
  try {
    start();
  } catch (error) {
    return error as ValidationError;
  }
  throw new Error('the options were accepted');
}

const publisherRejection = (extra: Record<string, unknown>): ValidationError =>
  rejection(() =>
    startKafkaPublisher({
      store: createMemoryEventStore(),
      brokers: '127.0.0.1:9092',
      ...extra,
    }),
  );

describe('Kafka publisher options', () => {
  it('rejects a topic option and points at topicFor', () => {
    const error = publisherRejection({ topic: 'orders' });
    expect(error.code).toBe('VALIDATION');
    expect(error.path).toBe('options.topic');
    expect(error.message).toMatch(/is not an option — did you mean 'topicFor'\?/);
    expect(error.message).toMatch(/Valid options here: .*batchSize.*stopTimeoutMs/);
  });

  it('rejects a stop timeout given as a string and negative delays', () => {
    expect(publisherRejection({ stopTimeoutMs: '5s' }).message).toMatch(
      /options.stopTimeoutMs: expected number \(milliseconds as a number, e.g. 5000\); got "5s"/,
    );
    expect(publisherRejection({ retry: { maxDelayMs: -1 } }).path).toBe('options.retry.maxDelayMs');
    expect(publisherRejection({ pollIntervalMs: -5 }).message).toMatch(
      /options.pollIntervalMs: must be >= 1; got number -5/,
    );
  });

  it('rejects delays longer than a JavaScript timer can wait, which would fire at once', () => {
    const error = publisherRejection({ pollIntervalMs: 1e10 });
    expect(error.path).toBe('options.pollIntervalMs');
    expect(error.message).toMatch(/at most 2147483647/);
    expect(publisherRejection({ retry: { maxDelayMs: 2 ** 31 } }).path).toBe(
      'options.retry.maxDelayMs',
    );
  });

  it('rejects a retry option the publisher does not have', () => {
    expect(publisherRejection({ retry: { maxAttempts: 3 } }).message).toMatch(
      /options.retry.maxAttempts: is not an option\. Valid options here: initialDelayMs, maxDelayMs/,
    );
  });

  it('names the valid values of from and compression', () => {
    expect(publisherRejection({ from: 'beginning' }).message).toMatch(
      /options.from: must be 'start', 'end' or a position >= 0; got "beginning"/,
    );
    expect(publisherRejection({ compression: 'brotli' }).message).toMatch(
      /options.compression: must be one of "none", "gzip", "snappy", "lz4", "zstd"; got "brotli"/,
    );
  });
});

describe('processed events options', () => {
  it('rejects unknown options with the closest known one', () => {
    const target = createMemoryDocuments().target;
    const error = rejection(() =>
      createProcessedEvents({ target, name: 'users', collection: 'x' } as never),
    );
    expect(error.path).toBe('options.collection');
    expect(error.message).toMatch(/is not an option\. Valid options here: target, name/);
    expect(
      rejection(() => createProcessedEvents({ target, nam: 'users' } as never)).message,
    ).toMatch(/options.nam: is not an option — did you mean 'name'\?/);
  });
});
