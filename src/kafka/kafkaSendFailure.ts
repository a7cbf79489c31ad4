import { type KafkaError, translateKafkaError } from './kafkaErrors.js';
import type { Entry } from './kafkaPublishBuffer.js';

/** What the publisher does after Kafka refused or failed a produce request. */
export type SendFailure = {
  error: KafkaError;
  /** A topic deleted while publishing is still in the cache: check (and create) it anew. */
  forget: string | undefined;
} & (
  | { kind: 'stop' }
  /** Too large: send fewer events, and park the one that is too large alone. */
  | { kind: 'smaller' }
  /** Kafka is away or busy: send the same events again after a backoff. */
  | { kind: 'retry' }
);

/** Translates a failed send of `batch` and says how to go on. */
export function sendFailure(
  error: unknown,
  batch: readonly Entry[],
  brokers: readonly string[],
): SendFailure {
  const topic = batch[0]?.message?.topic;
  const err = translateKafkaError(error, {
    brokers,
    action:
      batch.length > 0
        ? `publishing ${batch.length} event(s) from position ${batch[0]?.position} to '${topic}'`
        : 'preparing to publish',
    ...(topic === undefined ? {} : { topic }),
    fallback: 'PRODUCE_FAILED',
  });
  const forget = err.reason === 'TOPIC_MISSING' ? topic : undefined;
  // Retrying cannot install a missing client package or change an option the broker
  // refused: stop loudly.
  if (err.reason === 'CLIENT_MISSING' || err.reason === 'OPTION_REJECTED') {
    return { kind: 'stop', error: err, forget };
  }
  if (err.reason === 'MESSAGE_TOO_LARGE') return { kind: 'smaller', error: err, forget };
  return { kind: 'retry', error: err, forget };
}
