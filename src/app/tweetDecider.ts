import type { Decider } from '../core/index.js';
import { rejected } from './rejection.js';

export type TweetEvent = {
  type: 'TweetPosted';
  data: { tweetId: string; userId: string; username: string; body: string };
};

export type TweetCommand = {
  type: 'PostTweet';
  tweetId: string;
  userId: string;
  username: string;
  body: string;
};

export interface TweetState {
  posted: boolean;
  tweetId: string;
  userId: string;
  username: string;
  body: string;
}

/** A tweet is posted once; its stream holds that one event. */
export const tweetDecider: Decider<TweetState, TweetCommand, TweetEvent> = {
  initialState: () => ({ posted: false, tweetId: '', userId: '', username: '', body: '' }),
  decide(command, state) {
    if (state.posted) throw rejected('already_exists', `Tweet ${command.tweetId} already exists`);
    const { tweetId, userId, username, body } = command;
    return { type: 'TweetPosted', data: { tweetId, userId, username, body } };
  },
  evolve: (state, event) => ({ ...state, posted: true, ...event.data }),
};
