import { errorMessage } from '../core/async.js';
import { ValidationError } from '../core/errors.js';
import type { EventStore, ParkedEvent, RecordedEvent } from '../core/types.js';
import { type KafkaConnection, resolveConnection } from './kafkaClient.js';
import { translateKafkaError } from './kafkaErrors.js';
import { defaultTopicFor, isValidTopicName, toKafkaMessage } from './kafkaMessage.js';
import { createKafkaMessageSender } from './kafkaMessageSender.js';
import { PUBLISHER_DEFAULTS } from './kafkaPublisherOptions.js';
import type { TopicSettings } from './kafkaTopics.js';

/** Options of {@link republishParked}: `brokers` or `client`, and the publisher's settings. */
export type RepublishParkedOptions = KafkaConnection & {
  /** The store the publisher reads; its parked events are sent as they were parked. */
  store: EventStore;
  /** The publisher's name. Default `'kafka-publisher'`. */
  name?: string;
  /** The publisher's `topicFor`. Default `eventloom.<category>`. */
  topicFor?: (event: RecordedEvent) => string;
  /** Only the parked events with these ids. Default: all of the publisher's. */
  eventIds?: readonly string[];
  /** As the publisher's `createTopics`. Default `{}`. */
  createTopics?: TopicSettings | false;
};

/** What {@link republishParked} did, event by event. */
export interface RepublishResult {
  /** Sent, acknowledged by every in-sync replica, and no longer parked. */
  republished: { eventId: string; position: number; topic: string }[];
  /** Still parked, with the reason this attempt failed. */
  failed: { eventId: string; position: number; error: string }[];
  /** Ids asked for that the publisher has not parked. */
  notParked: string[];
}

/**
 * Publishes a Kafka publisher's parked events, oldest first, as the publisher would have (the
 * same topic, key, value and headers, idempotent, `acks=all`), and unparks each one Kafka
 * acknowledged. Use it once the reason is gone: the topic's `max.message.bytes` raised, a
 * `topicFor` fixed. An event that fails again stays parked, with this attempt's error in the
 * result. The events arrive after the later events of their streams that were published
 * meanwhile: consumers that care about order compare `stream-version`.
 *
 * @example
 * const { republished, failed } = await republishParked({ store, brokers: '127.0.0.1:9092' });
 */
export async function republishParked(options: RepublishParkedOptions): Promise<RepublishResult> {
  if (typeof options.store?.checkpoints?.listParked !== 'function') {
    throw new ValidationError(
      'options.store',
      'must be the Eventloom EventStore the publisher reads',
    );
  }
  const name = options.name ?? PUBLISHER_DEFAULTS.name;
  if (typeof name !== 'string' || name === '') {
    throw new ValidationError('options.name', "must be the publisher's name, a non-empty string");
  }
  const { eventIds } = options;
  if (
    eventIds !== undefined &&
    (!Array.isArray(eventIds) || eventIds.some((id) => typeof id !== 'string'))
  ) {
    throw new ValidationError('options.eventIds', 'must be a list of event ids (strings)');
  }
  const clientId = `eventloom-${name}-republish`;
  // Checks brokers or client settings before anything is read.
  const { brokers } = resolveConnection(options, clientId);
  const topicFor = options.topicFor ?? defaultTopicFor;
  const checkpoints = options.store.checkpoints;
  const parked = (await checkpoints.listParked(name)).sort(
    (a, b) => a.event.position - b.event.position,
  );
  const wanted = eventIds === undefined ? undefined : new Set<string>(eventIds);
  const chosen: ParkedEvent[] =
    wanted === undefined ? parked : parked.filter((p) => wanted.has(p.event.id));
  const result: RepublishResult = {
    republished: [],
    failed: [],
    notParked:
      wanted === undefined
        ? []
        : [...wanted].filter((id) => !parked.some((p) => p.event.id === id)),
  };
  if (chosen.length === 0) return result;
  const connection: KafkaConnection =
    options.client !== undefined ? { client: options.client } : { brokers: options.brokers };
  const sender = createKafkaMessageSender({
    ...connection,
    clientId,
    createTopics: options.createTopics ?? {},
  });
  try {
    for (const [i, { event }] of chosen.entries()) {
      const failed = (error: string): void => {
        result.failed.push({ eventId: event.id, position: event.position, error });
      };
      let topic: string;
      try {
        topic = topicFor(event);
      } catch (error) {
        failed(`topicFor threw: ${errorMessage(error)}`);
        continue;
      }
      if (!isValidTopicName(topic)) {
        failed(`topicFor returned ${JSON.stringify(topic)}, which is not a Kafka topic name`);
        continue;
      }
      try {
        await sender.send([toKafkaMessage(event, topic)]);
      } catch (error) {
        const err = translateKafkaError(error, {
          brokers,
          action: `republishing the event at position ${event.position} to '${topic}'`,
          topic,
          fallback: 'PRODUCE_FAILED',
        });
        failed(err.message);
        if (err.reason === 'BROKER_UNREACHABLE') {
          // The rest would each wait for the same timeout: they stay parked, for the same reason.
          for (const rest of chosen.slice(i + 1)) {
            result.failed.push({
              eventId: rest.event.id,
              position: rest.event.position,
              error: err.message,
            });
          }
          break;
        }
        continue;
      }
      await checkpoints.unpark(name, event.id);
      result.republished.push({ eventId: event.id, position: event.position, topic });
    }
  } finally {
    await sender.close();
  }
  return result;
}
