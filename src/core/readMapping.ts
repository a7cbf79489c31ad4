import { ValidationError } from './errors.js';
import type { EventStore, RecordedEvent, SubscribeOptions } from './types.js';

/**
 * The parts of a store decorator that only change what is read: `readStream` and `readAll`
 * pass their pages through `mapPage`; writes, stream info, the head and `close` go straight
 * to `store`. Decorators (upcasting, crypto-shredding) add their own `subscribe`.
 */
export function mapReads(
  store: EventStore,
  mapPage: (events: RecordedEvent[]) => RecordedEvent[] | Promise<RecordedEvent[]>,
): Omit<EventStore, 'subscribe'> {
  return {
    checkpoints: store.checkpoints,
    appendToStream: (streamId, events, options) => store.appendToStream(streamId, events, options),
    readStream: async (streamId, options) => mapPage(await store.readStream(streamId, options)),
    readAll: async (options) => mapPage(await store.readAll(options)),
    streamInfo: (streamId) => store.streamInfo(streamId),
    deleteStream: (streamId, options) => store.deleteStream(streamId, options),
    headPosition: () => store.headPosition(),
    close: () => store.close(),
  };
}

/**
 * A decorator wraps the handler, which would hide a missing one from the inner store's
 * check: so it checks first.
 */
export function handlerOf(options: SubscribeOptions): SubscribeOptions['handler'] {
  if (typeof options?.handler !== 'function') {
    throw new ValidationError(
      'options.handler',
      'must be a function (event, context) => void | Promise<void>',
    );
  }
  return options.handler;
}

/**
 * The options a decorator that changes events gives the store it wraps: the caller's, with
 * the decorator's per-event `handler` and without `handleBatch`, through which the wrapped
 * store would hand its events on unchanged (sealed, not upcast, not redacted), or
 * `storedJson`, the text of the events before the change.
 */
export function perEventOptions(
  options: SubscribeOptions,
  handler: SubscribeOptions['handler'],
): SubscribeOptions {
  const { handleBatch: _handleBatch, storedJson: _storedJson, ...rest } = options;
  return { ...rest, handler };
}
