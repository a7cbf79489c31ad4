import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TweetCreated, TweetList, UserTweets } from '../../src/server/apiSchemas.js';
import { createHarness, type Harness, PASSWORD } from './serverHarness.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

describe('/api/v2/tweets', () => {
  it('posts a tweet with HTTP Basic credentials and lists it in the source material’s shape', async () => {
    const { id } = await h.register('ada');
    const res = await h.call('POST', '/api/v2/tweets', {
      basic: ['ada', PASSWORD],
      body: { body: 'Hello, log!' },
    });
    expect(res.status).toBe(201);
    const { tweet } = TweetCreated.parse(await res.json());
    expect(tweet).toMatchObject({ body: 'Hello, log!', tweetedby: 'ada', user_id: id });
    expect(new Date(tweet.timestamp).getTime()).not.toBeNaN();

    const list = await h.request('/api/v2/tweets');
    expect(list.status).toBe(200);
    const body = (await list.json()) as { tweets_list: Record<string, unknown>[] };
    TweetList.parse(body);
    expect(body.tweets_list).toEqual([
      {
        id: tweet.id,
        body: 'Hello, log!',
        tweetedby: 'ada',
        user_id: id,
        timestamp: expect.any(String) as string,
      },
    ]);
  });

  it('posts with a session cookie and lists the newest tweet first', async () => {
    await h.register('ada');
    const session = await h.login('ada');
    for (const text of ['first', 'second', 'third']) {
      expect(
        (await h.call('POST', '/api/v2/tweets', { session, body: { body: text } })).status,
      ).toBe(201);
    }
    const body = TweetList.parse(await (await h.request('/api/v2/tweets')).json());
    expect(body.tweets_list.map((t) => t.body)).toEqual(['third', 'second', 'first']);
    const limited = TweetList.parse(await (await h.request('/api/v2/tweets?limit=2')).json());
    expect(limited.tweets_list).toHaveLength(2);
  });

  it('lists one user’s tweets by username or id, and 404 for an unknown user', async () => {
    const ada = await h.register('ada');
    await h.register('bob');
    await h.call('POST', '/api/v2/tweets', { basic: ['ada', PASSWORD], body: { body: 'by ada' } });
    await h.call('POST', '/api/v2/tweets', { basic: ['bob', PASSWORD], body: { body: 'by bob' } });
    for (const key of ['ada', ada.id]) {
      const body = UserTweets.parse(await (await h.request(`/api/v2/tweets/${key}`)).json());
      expect(body.tweets_list.map((t) => t.body)).toEqual(['by ada']);
      expect(body.tweet).toEqual(body.tweets_list);
    }
    expect((await h.request('/api/v2/tweets/nobody')).status).toBe(404);
  });

  it('answers 401 to a tweet without credentials and writes nothing', async () => {
    const res = await h.call('POST', '/api/v2/tweets', { body: { body: 'anonymous' } });
    expect(res.status).toBe(401);
    expect(await h.store.readAll()).toEqual([]);
  });

  it('posts one tweet for two requests with the same Idempotency-Key', async () => {
    await h.register('ada');
    const send = () =>
      h.call('POST', '/api/v2/tweets', {
        basic: ['ada', PASSWORD],
        headers: { 'idempotency-key': 'tweet-key-1' },
        body: { body: 'once' },
      });
    const first = await send();
    const second = await send();
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(TweetCreated.parse(await second.json()).tweet.id).toBe(
      TweetCreated.parse(await first.json()).tweet.id,
    );
    expect((await h.store.readAll()).filter((e) => e.type === 'TweetPosted')).toHaveLength(1);
  });

  it('refuses an Idempotency-Key reused with another body with a 422 problem, writing nothing', async () => {
    await h.register('ada');
    await h.register('bob');
    const send = (who: string, body: string) =>
      h.call('POST', '/api/v2/tweets', {
        basic: [who, PASSWORD],
        headers: { 'idempotency-key': 'shared-key' },
        body: { body },
      });
    expect((await send('ada', 'first')).status).toBe(201);
    const reused = await send('ada', 'something else');
    expect(reused.status).toBe(422);
    expect(reused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await reused.json()).toMatchObject({
      type: 'urn:eventloom:problem:idempotency-key-reused',
      errors: [{ pointer: 'header:Idempotency-Key' }],
    });
    // Keys belong to their user: bob's request with the same key is his own.
    expect((await send('bob', 'something else')).status).toBe(201);
    expect((await send('ada', 'first')).headers.get('idempotent-replayed')).toBe('true');
    const tweets = (await h.store.readAll()).filter((e) => e.type === 'TweetPosted');
    expect(tweets.map((e) => (e.data as { body: string }).body).sort()).toEqual([
      'first',
      'something else',
    ]);
  });

  it('removes a deleted user’s tweets from the feed', async () => {
    const { id } = await h.register('ada');
    await h.call('POST', '/api/v2/tweets', {
      basic: ['ada', PASSWORD],
      body: { body: 'soon gone' },
    });
    expect(
      (await h.call('DELETE', `/api/v1/users/${id}`, { basic: ['ada', PASSWORD] })).status,
    ).toBe(204);
    expect(TweetList.parse(await (await h.request('/api/v2/tweets')).json()).tweets_list).toEqual(
      [],
    );
  });
});
