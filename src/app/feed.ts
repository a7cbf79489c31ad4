import { createCommandHandler, type EventStore, newEventId } from '../core/index.js';
import type { Actor } from './actor.js';
import type { WriteOptions, WriteResult } from './commandOptions.js';
import { derivedId } from './derivedId.js';
import { toTweetStream } from './streamNames.js';
import { tweetDecider } from './tweetDecider.js';

export interface Tweet {
  id: string;
  body: string;
  userId: string;
  username: string;
  /** ISO time the tweet was recorded. */
  postedAt: string;
}

export const TWEET_BODY = { min: 1, max: 280 } as const;

export interface Feed {
  post(actor: Actor, body: string, options?: WriteOptions): Promise<WriteResult<Tweet>>;
}

/** Posting tweets: one stream per tweet (`tweet-<id>`); the lists are read models. */
export function createFeed({ store }: { store: EventStore }): Feed {
  const handle = createCommandHandler({ store, decider: tweetDecider });
  return {
    async post(actor, body, options = {}) {
      const tweetId =
        options.idempotencyKey === undefined
          ? newEventId()
          : derivedId('tweet', actor.userId, options.idempotencyKey);
      const result = await handle(
        toTweetStream(tweetId),
        { type: 'PostTweet', tweetId, userId: actor.userId, username: actor.username, body },
        {
          idempotencyKey: options.idempotencyKey,
          metadata: options.metadata,
          // A fresh id names a stream nobody wrote: nothing to read before posting.
          ...(options.idempotencyKey === undefined ? { expectedVersion: 'no_stream' } : {}),
        },
      );
      return {
        value: {
          id: tweetId,
          body: result.state.body,
          userId: result.state.userId,
          username: result.state.username,
          postedAt: new Date().toISOString(),
        },
        position: result.lastPosition,
        version: result.nextExpectedVersion,
        replayed: result.idempotentReplay,
      };
    },
  };
}
