import type { LogFields, Logger } from '../core/logger.js';
import { noopLogger } from '../core/logger.js';
import { registryCounter, type Registry } from '../node/metricsRegistry.js';
import type { KafkaConsumerNotice } from './kafkaConsumerTypes.js';
import type { KafkaPublisherNotice } from './kafkaPublisherTypes.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

interface NoticeSinkOptions<N> {
  logger: Logger | undefined;
  metrics: Registry | undefined;
  onEvent: ((notice: N) => void) | undefined;
}

/** Logs a notice at its level, counts it, then tells the observer (which must not break the loop). */
function noticeSink<N extends { kind: string }>(
  options: NoticeSinkOptions<N>,
  describe: (notice: N) => { level: Level; fields: LogFields },
  count: (notice: N) => void,
): (notice: N) => void {
  const log = options.logger ?? noopLogger;
  return (notice) => {
    const { level, fields } = describe(notice);
    log[level]({ ...fields, kind: notice.kind }, `kafka ${notice.kind}`);
    count(notice);
    try {
      options.onEvent?.(notice);
    } catch {
      // An observer must not break publishing or consumption.
    }
  };
}

/** Counters labelled by `label` in the registry, when there is one. */
const countersIn =
  <L extends string>(registry: Registry | undefined, label: L) =>
  (name: string, help: string) =>
    registry && registryCounter(registry, { name, help, labelNames: [label] });

const levelOf = (kind: string, error: unknown): Level =>
  kind === 'stopped' ? (error === undefined ? 'info' : 'error') : 'warn';

/**
 * Where the publisher's notices go: the logger (batches and catching up at debug, trouble
 * at warn), the counters `eventloom_kafka_published_total`, `…_publisher_retries_total` and
 * `…_publisher_parked_total` labelled by publisher, and `onEvent`.
 */
export function publisherNotices(
  options: NoticeSinkOptions<KafkaPublisherNotice>,
): (notice: KafkaPublisherNotice) => void {
  const counter = countersIn(options.metrics, 'publisher');
  const published = counter(
    'eventloom_kafka_published_total',
    'Events the Kafka publisher got acknowledged.',
  );
  const retries = counter(
    'eventloom_kafka_publisher_retries_total',
    'Failed attempts of the Kafka publisher (retried with backoff).',
  );
  const parked = counter(
    'eventloom_kafka_publisher_parked_total',
    'Events the Kafka publisher parked (they cannot be published).',
  );
  return noticeSink(
    options,
    (notice) => {
      switch (notice.kind) {
        case 'published':
        case 'caught-up':
          return { level: 'debug', fields: { ...notice } };
        case 'topic-created':
          return { level: 'info', fields: { ...notice } };
        case 'parked': {
          // The event's data may hold personal fields: the log names it, never copies it.
          const { event, ...rest } = notice;
          const at = { position: event.position, streamId: event.streamId, type: event.type };
          return { level: 'warn', fields: { ...rest, event: at } };
        }
        default:
          return {
            level: levelOf(notice.kind, 'error' in notice ? notice.error : undefined),
            fields: { ...notice },
          };
      }
    },
    (notice) => {
      const labels = { publisher: notice.publisher };
      if (notice.kind === 'published') published?.inc(labels, notice.count);
      else if (notice.kind === 'retry' || notice.kind === 'read-failed') retries?.inc(labels);
      else if (notice.kind === 'parked') parked?.inc(labels);
    },
  );
}

/**
 * Where the consumer's notices go: the logger (commits at debug, assignments at info,
 * trouble at warn), the counters `eventloom_kafka_consumer_retries_total`,
 * `…_dead_lettered_total`, `…_errors_total` and `…_malformed_traceparent_total` labelled by
 * group, and `onEvent`.
 */
export function consumerNotices(
  options: NoticeSinkOptions<KafkaConsumerNotice>,
): (notice: KafkaConsumerNotice) => void {
  const counter = countersIn(options.metrics, 'group');
  const retries = counter(
    'eventloom_kafka_consumer_retries_total',
    'Handler attempts that failed and were retried.',
  );
  const deadLettered = counter(
    'eventloom_kafka_consumer_dead_lettered_total',
    'Messages moved to the dead-letter topic.',
  );
  const errors = counter(
    'eventloom_kafka_consumer_errors_total',
    'Consumer and commit errors (the consumer retries).',
  );
  const malformedTraceparent = counter(
    'eventloom_kafka_consumer_malformed_traceparent_total',
    'Messages whose traceparent header was not W3C trace context (handled in a new trace).',
  );
  return noticeSink(
    options,
    (notice) => {
      const fields: LogFields = { ...notice };
      if (notice.kind === 'committed') return { level: 'debug', fields };
      if (notice.kind === 'assigned') return { level: 'info', fields };
      return { level: levelOf(notice.kind, 'error' in notice ? notice.error : undefined), fields };
    },
    (notice) => {
      const labels = { group: notice.groupId };
      if (notice.kind === 'retry') retries?.inc(labels);
      else if (notice.kind === 'dead-lettered') deadLettered?.inc(labels);
      else if (notice.kind === 'error' || notice.kind === 'commit-failed') errors?.inc(labels);
      else if (notice.kind === 'malformed-traceparent') malformedTraceparent?.inc(labels);
    },
  );
}
