import { SpanKind, type Span } from '@opentelemetry/api';
import { backoffDelay, errorMessage, sleep } from '../core/async.js';
import { eventAttributes, inSpan } from '../core/tracing.js';
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
  /** The message's `traceparent` header is not W3C: handled in a new trace, and counted. */
  onMalformedTraceparent: (m: InMessage) => void;
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
export function handleMessage(
  h: MessageHandling,
  m: InMessage,
  signal: AbortSignal,
): Promise<Outcome> {
  return inSpan(
    `process ${m.topic}`,
    {
      kind: SpanKind.CONSUMER,
      carrier: m.headers,
      onMalformedTraceparent: () => h.onMalformedTraceparent(m),
      attributes: () => ({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': m.topic,
        'messaging.destination.partition.id': String(m.partition),
        'messaging.kafka.offset': Number(m.offset),
        'messaging.consumer.group.name': h.config.groupId,
        ...(m.key !== undefined && m.key !== null ? { 'messaging.kafka.message.key': m.key } : {}),
      }),
    },
    async (span) => {
      const outcome = await handleInSpan(h, m, signal, span);
      if (span.isRecording()) span.setAttribute('eventloom.outcome', outcome);
      return outcome;
    },
  );
}

async function handleInSpan(
  h: MessageHandling,
  m: InMessage,
  signal: AbortSignal,
  span: Span,
): Promise<Outcome> {
  const { groupId, handler, eventTypes, maxAttempts, backoff } = h.config;
  let event: RecordedEvent;
  try {
    event = fromKafkaMessage(m.value);
  } catch (error) {
    // Retrying cannot make a foreign message parse.
    return h.deadLetter(m, `not an Eventloom event: ${errorMessage(error)}`, 0, signal);
  }
  if (span.isRecording()) span.setAttributes(eventAttributes(event));
  if (eventTypes !== undefined && !eventTypes.has(event.type)) return 'handled';
  for (let attempt = 1; ; attempt++) {
    try {
      await handler(event, handlerContext(groupId, m, attempt, signal));
      return 'handled';
    } catch (error) {
      if (signal.aborted) return 'aborted';
      if (span.isRecording()) {
        span.addEvent('handler failed', {
          'eventloom.attempt': attempt,
          'exception.message': errorMessage(error),
        });
      }
      if (attempt >= maxAttempts) return h.deadLetter(m, errorMessage(error), attempt, signal);
      const delayMs = backoffDelay(attempt, backoff);
      h.onRetry(m, attempt, delayMs, error);
      await sleep(delayMs, signal);
      if (signal.aborted) return 'aborted';
    }
  }
}
