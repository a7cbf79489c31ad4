import { ERASED, type EventStore, personalData, type RecordedEvent } from '../core/index.js';
import { perEventOptions } from '../core/readMapping.js';
import type { Actor } from './actor.js';
import type { OrderEvent } from './orderDecider.js';
import type { ProductEvent } from './productDecider.js';
import type { TweetEvent } from './tweetDecider.js';
import type { UserEvent } from './userDecider.js';

type AppEvent = UserEvent | TweetEvent | OrderEvent | ProductEvent;

const userOfStream = (streamId: string): string => streamId.slice('user-'.length);

/**
 * The app's personal data: a user's username, email and name, whose subject is the user id.
 * Stored encrypted with that user's key; deleting the account forgets the key, so every
 * copy (events, topics, rebuilt read models) reads `'[erased]'` from then on. The username
 * beside a tweet, an order or a product is published by design while the account lives.
 */
export const APP_PERSONAL_DATA = personalData<AppEvent>({
  UserRegistered: { subject: (e) => e.data.userId, fields: ['username', 'email', 'name'] },
  UserProfileUpdated: { subject: (e) => userOfStream(e.streamId), fields: ['email', 'name'] },
  TweetPosted: { subject: (e) => e.data.userId, fields: ['username'] },
  OrderPlaced: { subject: (e) => e.data.userId, fields: ['username'] },
  ProductAdded: { subject: (e) => e.data.addedBy.userId, fields: ['addedBy'] },
});

/** What a personal field shows to someone who is neither its subject nor an admin. */
export const REDACTED = '[redacted]';

/** Whether `viewer` may see the personal fields of `subject`: the subject and admins only. */
export const maySeePersonalData = (viewer: Actor | undefined, subject: string): boolean =>
  viewer !== undefined && (viewer.role === 'admin' || viewer.userId === subject);

/**
 * The event as `viewer` may see it: personal fields of other people replaced by
 * {@link REDACTED} (an erased field stays `'[erased]'`). Whatever the explorer access policy,
 * the store API shows events only through this.
 *
 * @example
 * events.map((e) => redactForViewer(e, actor));
 */
export function redactForViewer<E extends RecordedEvent>(event: E, viewer: Actor | undefined): E {
  const rule = APP_PERSONAL_DATA.ruleFor(event.type);
  if (rule === undefined || typeof event.data !== 'object' || event.data === null) return event;
  const data = event.data as Record<string, unknown>;
  let subject: string | undefined;
  try {
    subject = rule.subject({ type: event.type, data, streamId: event.streamId });
  } catch {
    // Data of an unexpected shape: nobody is known to own it, so only admins see it.
    subject = undefined;
  }
  if (subject !== undefined && maySeePersonalData(viewer, subject)) return event;
  if (subject === undefined && viewer?.role === 'admin') return event;
  const out: Record<string, unknown> = { ...data };
  for (const field of rule.fields) {
    if (field in out) out[field] = out[field] === ERASED ? ERASED : REDACTED;
  }
  return { ...event, data: out };
}

/**
 * A view of `store` whose reads and subscriptions return events as `viewer` may see them, so an
 * aggregate folded from it (time travel in the explorer) holds no one else's personal data.
 */
export function storeSeenBy(store: EventStore, viewer: Actor | undefined): EventStore {
  const redactAll = (events: RecordedEvent[]) => events.map((e) => redactForViewer(e, viewer));
  return {
    get checkpoints() {
      return store.checkpoints;
    },
    appendToStream: (streamId, events, options) => store.appendToStream(streamId, events, options),
    readStream: async (streamId, options) => redactAll(await store.readStream(streamId, options)),
    readAll: async (options) => redactAll(await store.readAll(options)),
    streamInfo: (streamId) => store.streamInfo(streamId),
    deleteStream: (streamId, options) => store.deleteStream(streamId, options),
    headPosition: () => store.headPosition(),
    subscribe: (options) =>
      store.subscribe(
        perEventOptions(options, (event, context) =>
          options.handler(redactForViewer(event, viewer), context),
        ),
      ),
    close: () => store.close(),
  };
}
