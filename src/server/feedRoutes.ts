import { isEntityId } from '../app/index.js';
import {
  ListQuery,
  PostTweetBody,
  TweetCreated,
  TweetList,
  TweetUserParams,
  UserTweets,
} from './apiSchemas.js';
import { afterWrite, IDEMPOTENCY_KEY, readModelsAt, writeOptionsOf } from './httpHelpers.js';
import { HttpProblem } from './problem.js';
import type { RouteDeps } from './routeDeps.js';
import { toApiTweet } from './wireFormat.js';

/** `/api/v2/tweets`: the source material's tweet resource. */
export function registerFeedRoutes({ router, app, readYourWritesMs }: RouteDeps): void {
  router.route(
    {
      method: 'get',
      path: '/api/v2/tweets',
      operationId: 'listTweets',
      summary: 'List tweets, newest first',
      tags: ['tweets'],
      auth: 'none',
      query: ListQuery,
      responses: { 200: { description: 'The tweets', schema: TweetList } },
    },
    async (c, { query }) => {
      await readModelsAt(app, query.min_position);
      const tweets = await app.queries.tweets({ limit: query.limit ?? 100 });
      return c.json({ tweets_list: tweets.map(toApiTweet) });
    },
  );

  router.route(
    {
      method: 'post',
      path: '/api/v2/tweets',
      operationId: 'postTweet',
      summary: 'Post a tweet',
      description:
        'As the authenticated user (session cookie with x-csrf-token, or HTTP Basic). Send an Idempotency-Key to make a retry safe.',
      tags: ['tweets'],
      auth: 'required',
      body: PostTweetBody,
      headers: [
        {
          name: 'Idempotency-Key',
          description:
            'A retry with the same key and body posts nothing new; the same key with another body answers 422',
          pattern: IDEMPOTENCY_KEY,
        },
      ],
      responses: { 201: { description: 'Posted', schema: TweetCreated } },
    },
    async (c, { body, actor }) => {
      const result = await app.feed.post(actor, body.body, writeOptionsOf(c, actor));
      const headers = await afterWrite(c, app, result, readYourWritesMs);
      return c.json({ tweet: toApiTweet(result.value) }, 201, headers);
    },
  );

  router.route(
    {
      method: 'get',
      path: '/api/v2/tweets/:user',
      operationId: 'listTweetsOfUser',
      summary: 'List a user\u2019s tweets, newest first',
      tags: ['tweets'],
      auth: 'none',
      params: TweetUserParams,
      query: ListQuery,
      responses: {
        200: { description: 'The user\u2019s tweets', schema: UserTweets },
        404: { description: 'No such user' },
      },
    },
    async (c, { params, query }) => {
      const userId = isEntityId(params.user)
        ? (await app.accounts.get(params.user))?.id
        : await app.accounts.idOf(params.user);
      if (userId === undefined) {
        throw new HttpProblem('not-found', { detail: `There is no user ${params.user}` });
      }
      await readModelsAt(app, query.min_position);
      const tweets = (await app.queries.tweets({ userId, limit: query.limit ?? 100 })).map(
        toApiTweet,
      );
      return c.json({ tweets_list: tweets, tweet: tweets });
    },
  );
}
