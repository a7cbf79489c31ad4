import { describe, expect, it } from 'vitest';
import {
  isRetryableError,
  isStoreFailedError,
  isStoreUnavailableError,
} from '../../src/core/index.js';
import { translateMongoError } from '../../src/mongodb/mongoErrors.js';

const serverError = (code: number, labels: string[] = []): Error =>
  Object.assign(new Error(`server error ${code}`), {
    name: 'MongoServerError',
    code,
    errorLabels: labels,
  });

describe('MongoDB error translation', () => {
  it('retries network errors and the server codes of elections and shutdowns', () => {
    const network = Object.assign(new Error('connect ECONNREFUSED'), { name: 'MongoNetworkError' });
    expect(isStoreUnavailableError(translateMongoError(network, 'append', 'h:1'))).toBe(true);
    expect(isRetryableError(translateMongoError(serverError(11600), 'append', 'h:1'))).toBe(true);
  });

  it('retries an unknown server error the driver labels as retryable', () => {
    const labelled = serverError(424242, ['RetryableWriteError']);
    expect(isRetryableError(translateMongoError(labelled, 'append', 'h:1'))).toBe(true);
  });

  it('does not retry an unknown server error or a bug outside the driver', () => {
    for (const error of [serverError(424242), new TypeError('Cannot read properties of null')]) {
      const translated = translateMongoError(error, 'readAll', 'h:1');
      expect(isStoreFailedError(translated)).toBe(true);
      expect(isRetryableError(translated)).toBe(false);
      expect((translated as Error).message).toMatch(/^readAll: .*Retrying will not help/);
      expect((translated as Error).cause).toBe(error);
    }
  });
});
