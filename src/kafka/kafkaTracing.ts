import { context, type Link, SpanKind, trace } from '@opentelemetry/api';
import {
  formatTraceparent,
  inSpan,
  parseTraceparent,
  tracer,
  tracingEnabled,
} from '../core/tracing.js';
import type { KafkaRecord } from './kafkaMessage.js';

/** Links beyond this many are dropped from one send span (SDKs cap them at 128 anyway). */
const MAX_LINKS = 128;

/**
 * The messaging conventions' `create` span of one message in a batch: a producer span in the
 * trace of the event it carries (its `traceparent` header), so the append's trace goes on
 * through the publish. The message leaves with this span's context in its header, and the
 * consumer continues from it. Messages without a valid traceparent are sent as they are.
 */
function created(message: KafkaRecord): { message: KafkaRecord; link?: Link } {
  const parent = parseTraceparent(
    message.headers.get('traceparent'),
    message.headers.get('tracestate'),
  );
  if (parent === undefined) return { message };
  const eventId = message.headers.get('event-id');
  const span = tracer.startSpan(
    `create ${message.topic}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'create',
        'messaging.operation.name': 'create',
        'messaging.destination.name': message.topic,
        'messaging.kafka.message.key': message.key,
        ...(eventId !== undefined ? { 'messaging.message.id': eventId } : {}),
      },
    },
    trace.setSpanContext(context.active(), parent),
  );
  const own = span.spanContext();
  span.end();
  return {
    message: {
      ...message,
      headers: new Map(message.headers).set('traceparent', formatTraceparent(own)),
    },
    link: { context: own },
  };
}

/**
 * Runs `send` (one produce request) in a producer span following the messaging conventions
 * for batches: each message gets a `create` span in its event's trace (see `created`), and
 * the `send` span, a root because a batch mixes many traces, links to those. The buffered
 * messages are not changed: a retried batch gets new `create` spans under the same events.
 */
export function tracedSend<T>(
  messages: readonly KafkaRecord[],
  send: (messages: readonly KafkaRecord[]) => Promise<T>,
): Promise<T> {
  if (!tracingEnabled()) return send(messages);
  const links: Link[] = [];
  const out = messages.map((m) => {
    const { message, link } = created(m);
    if (link !== undefined && links.length < MAX_LINKS) links.push(link);
    return message;
  });
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
    () => send(out),
  );
}
