import { type Link, SpanKind } from '@opentelemetry/api';
import { inSpan, parseTraceparent, tracingEnabled } from '../core/tracing.js';
import type { KafkaEventMessage } from './kafkaMessage.js';

/** Links beyond this many are dropped from one send span (SDKs cap them at 128 anyway). */
const MAX_LINKS = 128;

/**
 * Runs `send` (one produce request) in a producer span following the messaging conventions
 * (`send`, `messaging.system` = kafka). A batch mixes events of many traces, so the span is a
 * root linked to each message's trace (its `traceparent` header) rather than a child of one;
 * the headers themselves carry each append's trace on to the consumers.
 */
export function tracedSend<T>(
  messages: readonly KafkaEventMessage[],
  send: () => Promise<T>,
): Promise<T> {
  if (!tracingEnabled()) return send();
  const links: Link[] = [];
  for (const m of messages) {
    if (links.length >= MAX_LINKS) break;
    const context = parseTraceparent(m.headers.traceparent, m.headers.tracestate);
    if (context !== undefined) links.push({ context });
  }
  const topics = new Set(messages.map((m) => m.topic));
  return inSpan(
    topics.size === 1 ? `send ${[...topics][0]}` : 'send',
    {
      kind: SpanKind.PRODUCER,
      links,
      root: true,
      attributes: () => ({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'send',
        'messaging.batch.message_count': messages.length,
        ...(topics.size === 1 ? { 'messaging.destination.name': [...topics][0] } : {}),
      }),
    },
    send,
  );
}
