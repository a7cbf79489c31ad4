// No imports: the web client bundles this file as it is.

/**
 * The category of a stream id: the part before the first `-` (`user-42` → `user`). Kafka
 * topics (`eventloom.<category>`), relay collections and the app's aggregates are named after it.
 *
 * @example
 * streamCategory('order-7-line-2'); // 'order'
 */
export function streamCategory(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash === -1 ? streamId : streamId.slice(0, dash);
}
