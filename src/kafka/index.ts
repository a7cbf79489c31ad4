// The public API of `eventloom/kafka`: the store → Kafka publisher, consumer groups with
// retries and a dead-letter topic, and once-per-event read models. Named exports only.

export { startKafkaPublisher } from './kafkaPublisher.js';
export type {
  KafkaCompression,
  KafkaPublisher,
  KafkaPublisherNotice,
  KafkaPublisherOptions,
  KafkaPublisherSettings,
  KafkaPublisherStatus,
} from './kafkaPublisherTypes.js';

export { startKafkaConsumer } from './kafkaConsumer.js';
export { DEAD_LETTER_HEADERS } from './kafkaDeadLetters.js';
export type {
  KafkaConsumer,
  KafkaConsumerNotice,
  KafkaConsumerOptions,
  KafkaConsumerRetry,
  KafkaConsumerSettings,
  KafkaConsumerStatus,
  KafkaEventHandler,
  KafkaHandlerContext,
  TopicPartition,
} from './kafkaConsumerTypes.js';

export {
  createProcessedEvents,
  onceByEventId,
  PROCESSED_EVENTS_COLLECTION,
} from './processedEvents.js';
export type { ProcessedEvents, ProcessedEventsOptions } from './processedEvents.js';

export {
  defaultTopicFor,
  fromKafkaMessage,
  isValidTopicName,
  KAFKA_EVENT_HEADERS,
  toKafkaMessage,
} from './kafkaMessage.js';
export { streamCategory } from '../core/streamCategory.js';
export type { KafkaEventMessage } from './kafkaMessage.js';

export { isKafkaError, KafkaError } from './kafkaErrors.js';
export type { KafkaErrorReason } from './kafkaErrors.js';

export { parseBrokers } from './kafkaClient.js';
export type { KafkaClientSettings, KafkaConnection } from './kafkaClient.js';
export type { TopicSettings } from './kafkaTopics.js';

export { runKafkaWorkflow } from './kafkaWorkflow.js';
export { createKafkaMessageSender } from './kafkaMessageSender.js';
export { republishParked } from './kafkaRepublish.js';
export type { RepublishParkedOptions, RepublishResult } from './kafkaRepublish.js';
export type { KafkaMessageSender, KafkaMessageSenderOptions } from './kafkaMessageSender.js';
export type { KafkaWorkflowOptions, KafkaWorkflowRunner } from './kafkaWorkflow.js';
