import { backoffDelay, errorMessage, sleep } from '../core/async.js';
import type { RecordedEvent } from '../core/types.js';
import type { ConsumerConfig } from './kafkaConsumerOptions.js';
import type { KafkaHandlerContext } from './kafkaConsumerTypes.js';
import type { InMessage } from './kafkaDeadLetters.js';
import { fromKafkaMessage } from './kafkaMessage.js';

/** How a message left its partition's worker: only an aborted one is handled again. */
export type Outcome = 'handled' | 'dead-lettered' | 'aborted';

export interface MessageHandling {
  config: Pick<ConsumerConfig, 'groupId' | 'handler' | 'eventTypes' | 'maxAttempts' | 'backoff'>;
  /** Parks the message (or stops the consumer) after its last failure. */
  deadLetter: (
    m: InMessage,
    reason: string,
    attempts: number,
    signal: AbortSignal,
  ) => Promise<Outcome>;
  /** The handler failed `attempt` times and runs again after `delayMs`. */
  onRetry: (m: InMessage, attempt: number, delayMs: number, error: unknown) => void;
}

export function handlerContext(
  groupId: string,
  m: InMessage,
  attempt: number,
  signal: AbortSignal,
): KafkaHandlerContext {
  return {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    key: m.key,
    headers: Object.fromEntries(m.headers),
    attempt,
    groupId,
    signal,
  };
}

/**
 * Runs the handler on one message, retrying with backoff; after `maxAttempts` failures, or at
 * once for a message that is not an Eventloom event, it goes to the dead-letter step.
 * `signal` (revocation, stop) ends the retries: the message is then `aborted`.
 */
export async function handleMessage(
  h: MessageHandling,
  m: InMessage,
  signal: AbortSignal,
): Promise<Outcome> {
  const { groupId, handler, eventTypes, maxAttempts, backoff } = h.config;
  let event: RecordedEvent;
  try {
    event = fromKafkaMessage(m.value);
  } catch (error) {
    // Retrying cannot make a foreign message parse.
    return h.deadLetter(m, `not an Eventloom event: ${errorMessage(error)}`, 0, signal);
  }
  if (eventTypes !== undefined && !eventTypes.has(event.type)) return 'handled';
  for (let attempt = 1; ; attempt++) {
    try {
      await handler(event, handlerContext(groupId, m, attempt, signal));
      return 'handled';
    } catch (error) {
      if (signal.aborted) return 'aborted';
      if (attempt >= maxAttempts) return h.deadLetter(m, errorMessage(error), attempt, signal);
      const delayMs = backoffDelay(attempt, backoff);
      h.onRetry(m, attempt, delayMs, error);
      await sleep(delayMs, signal);
      if (signal.aborted) return 'aborted';
    }
  }
}
