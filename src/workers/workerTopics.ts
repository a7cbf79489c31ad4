import { streamCategory } from '../core/index.js';

/**
 * The topic of a stream category: `<prefix>.<category>` (`eventloom.order`), characters
 * Kafka does not allow in topic names made `_`, as the publisher's default does.
 */
export const categoryTopic = (prefix: string, category: string): string =>
  `${prefix}.${category.replace(/[^A-Za-z0-9._-]/g, '_') || '_'}`.slice(0, 249);

/** The publisher's `topicFor` with a prefix: `order-7` → `<prefix>.order`. */
export const eventTopicFor =
  (prefix: string) =>
  (event: { streamId: string }): string =>
    categoryTopic(prefix, streamCategory(event.streamId));

/** Where the workers send the commands that act on the app's aggregates. */
export const commandTopic = (prefix: string): string => `${prefix}.commands`;

/** A worker's consumer group: `<prefix>-worker-<name>` (`eventloom-worker-orders`). */
export const workerGroup = (prefix: string, name: string): string => `${prefix}-worker-${name}`;

/** The app's consumer group of the command topic. */
export const appCommandsGroup = (prefix: string): string => `${prefix}-app-commands`;
