import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AggregateState,
  EventPage,
  EventRate,
  Health,
  Stream,
  SubscriptionList,
} from '../../src/server/apiSchemas.js';
import { createHarness, type Harness, PASSWORD } from './serverHarness.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

type SseMessage = { event?: string; id?: string; data: string };

/**
 * An open server-sent-event stream: `until` reads on until the messages so far satisfy the
 * predicate (or the stream ends, or the time is up) and can be called again to read further.
 */
function sseStream(res: Response, timeoutMs = 5000) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseMessage[] = [];
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  return {
    async until(predicate: (events: SseMessage[]) => boolean): Promise<SseMessage[]> {
      while (!predicate(events)) {
        const next = await Promise.race([
          reader.read(),
          new Promise<{ done: true; value: undefined }>((resolve) =>
            setTimeout(
              () => resolve({ done: true, value: undefined }),
              Math.max(1, deadline - Date.now()),
            ),
          ),
        ]);
        if (next.done) break;
        buffer += next.value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message: SseMessage = { data: '' };
          for (const line of block.split('\n')) {
            if (line.startsWith('data: ')) message.data += line.slice(6);
            else if (line.startsWith('event: ')) message.event = line.slice(7);
            else if (line.startsWith('id: ')) message.id = line.slice(4);
          }
          if (message.data !== '' || message.event !== undefined) events.push(message);
        }
      }
      return events;
    },
    close: () => reader.cancel(),
  };
}

/** Reads server-sent events from a response until `until` is satisfied or the time is up. */
async function readSse(
  res: Response,
  until: (events: SseMessage[]) => boolean,
): Promise<SseMessage[]> {
  const stream = sseStream(res);
  try {
    return await stream.until(until);
  } finally {
    await stream.close();
  }
}

describe('the generic store API', () => {
  beforeEach(async () => {
    h = await createHarness();
  });

  it('pages through the global log with from and limit', async () => {
    await h.register('ada');
    await h.register('bob');
    const all = EventPage.parse(await (await h.request('/api/events')).json());
    expect(all.events.length).toBe(all.head);
    expect(all.events.map((e) => e.position)).toEqual(
      [...all.events.map((e) => e.position)].sort((a, b) => a - b),
    );
    const page = EventPage.parse(await (await h.request('/api/events?from=2&limit=2')).json());
    expect(page.events.map((e) => e.position)).toEqual([2, 3]);
    expect(page.nextFrom).toBe(4);
    expect(page.events[0]).toMatchObject({
      streamId: expect.any(String) as string,
      recordedAt: expect.any(String) as string,
    });
  });

  it('finds the events of one correlation id within each scanned page, with nextFrom past the page', async () => {
    for (const [stream, correlationId] of [
      ['order-1', 'c-a'],
      ['order-2', 'c-b'],
      ['payment-1', 'c-a'],
      ['order-3', undefined],
    ] as const) {
      await h.store.appendToStream(stream, [
        { type: 'Happened', data: {}, ...(correlationId ? { metadata: { correlationId } } : {}) },
      ]);
    }
    const read = async (query: string) =>
      EventPage.parse(await (await h.request(`/api/events?${query}`)).json());
    const all = await read('correlation_id=c-a');
    expect(all.events.map((e) => e.streamId)).toEqual(['order-1', 'payment-1']);
    expect(all.nextFrom).toBe(all.head + 1);
    const firstTwo = await read('correlation_id=c-a&limit=2&from=1');
    expect(firstTwo.events.map((e) => e.streamId)).toEqual(['order-1']);
    expect(firstTwo.nextFrom).toBe(3);
    const bad = await h.request(`/api/events?correlation_id=${'x'.repeat(300)}`);
    expect(bad.status).toBe(400);
  });

  it('reads one stream with its version as ETag, and 404 for a stream without events', async () => {
    const { id } = await h.register('ada');
    const res = await h.request(`/api/streams/user-${id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"1"');
    const stream = Stream.parse(await res.json());
    expect(stream).toMatchObject({
      streamId: `user-${id}`,
      version: 1,
      exists: true,
      deleted: false,
    });
    expect(stream.events.map((e) => e.type)).toEqual(['UserRegistered']);
    expect((await h.request('/api/streams/user-nobody')).status).toBe(404);
  });

  it('shows an aggregate’s state at any version (time travel), without the credential reference', async () => {
    const { id } = await h.register('ada');
    await h.call('PUT', `/api/v1/users/${id}`, {
      basic: ['ada', PASSWORD],
      body: { name: 'Second name' },
    });
    await h.call('PUT', `/api/v1/users/${id}`, {
      basic: ['ada', PASSWORD],
      body: { name: 'Third name' },
    });
    // As ada: her own personal fields are shown to her (see the redaction test below).
    const at = async (query: string) =>
      AggregateState.parse(
        await (
          await h.call('GET', `/api/streams/user-${id}/state${query}`, {
            basic: ['ada', PASSWORD],
          })
        ).json(),
      );
    expect(await at('?version=1')).toMatchObject({
      aggregate: 'user',
      version: 1,
      currentVersion: 3,
      state: { name: 'ada Example', status: 'active' },
    });
    expect((await at('?version=2')).state).toMatchObject({ name: 'Second name' });
    expect((await at('')).state).toMatchObject({ name: 'Third name' });
    expect((await at('?version=0')).state).toMatchObject({ status: 'new' });
    expect(JSON.stringify(await at(''))).not.toContain('credentialId');
    expect((await h.request(`/api/streams/user-${id}/state?version=9`)).status).toBe(400);
    expect((await h.request('/api/streams/foo-1/state')).status).toBe(404);
  });

  it('shows personal fields in the store API only to their person and admins, even when the explorer is public', async () => {
    const ada = await h.register('ada');
    await h.register('bob');
    await h.register('root');
    const adaRegistered = (body: { events: { type: string; streamId: string; data: unknown }[] }) =>
      body.events.find((e) => e.type === 'UserRegistered' && e.streamId === `user-${ada.id}`)
        ?.data as Record<string, unknown>;
    const read = async (path: string, basic?: [string, string]) =>
      (await h.call('GET', path, basic !== undefined ? { basic } : {})).json() as Promise<{
        events: { type: string; streamId: string; data: unknown }[];
        state: Record<string, unknown>;
      }>;
    const hidden = { username: '[redacted]', email: '[redacted]', name: '[redacted]' };
    const shown = { username: 'ada', email: 'ada@example.com', name: 'ada Example' };
    for (const who of [undefined, ['bob', PASSWORD]] as const) {
      const as = who === undefined ? undefined : ([...who] as [string, string]);
      expect(adaRegistered(await read('/api/events', as))).toMatchObject(hidden);
      expect(adaRegistered(await read(`/api/streams/user-${ada.id}`, as))).toMatchObject(hidden);
      expect((await read(`/api/streams/user-${ada.id}/state`, as)).state).toMatchObject(hidden);
      const live = await h.call('GET', '/api/events/live?from=0', as ? { basic: as } : {});
      const sent = await readSse(live, (e) => e.some((x) => x.data.includes(`user-${ada.id}`)));
      const text = sent.map((e) => e.data).join('\n');
      expect(text).toContain('[redacted]');
      expect(text).not.toContain('ada@example.com');
    }
    for (const who of ['ada', 'root']) {
      expect(adaRegistered(await read('/api/events', [who, PASSWORD]))).toMatchObject(shown);
      expect(
        (await read(`/api/streams/user-${ada.id}/state`, [who, PASSWORD])).state,
      ).toMatchObject(shown);
    }
  });

  it('reports the projections with position, head and lag', async () => {
    await h.register('ada');
    const body = SubscriptionList.parse(await (await h.request('/api/subscriptions')).json());
    expect(body.subscriptions.map((s) => s.name)).toEqual([
      'app-shop',
      'app-tweets',
      'app-users',
      'app-workflow-instances',
    ]);
    for (const s of body.subscriptions) {
      expect(s).toMatchObject({ kind: 'projection', head: body.head, lag: body.head - s.position });
    }
  });

  it('counts events per time bucket for the rate chart', async () => {
    await h.register('ada');
    await h.register('bob');
    const readRate = async () =>
      EventRate.parse(await (await h.request('/api/stats/event-rate?window=60&bucket=10')).json());
    // The rate follows the log on its own subscription, a turn of the event loop behind.
    const total = (await h.store.readAll()).length;
    await expect.poll(async () => (await readRate()).total).toBe(total);
    const rate = await readRate();
    expect(rate.buckets).toHaveLength(6);
    expect(rate.total).toBe(total);
    expect(rate.buckets.at(-1)!.count + rate.buckets.at(-2)!.count).toBe(rate.total);
  });

  it('answers /health with the checks and /metrics in Prometheus text', async () => {
    const health = await h.request('/health');
    expect(health.status).toBe(200);
    expect(Health.parse(await health.json())).toMatchObject({
      status: 'ok',
      checks: { store: { status: 'ok' } },
    });
    await h.register('ada');
    await h.request('/api/v1/users');
    const metrics = await h.request('/metrics');
    expect(metrics.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await metrics.text();
    expect(text).toContain(
      'eventloom_http_requests_total{method="POST",route="/api/v1/users",status="201"} 1',
    );
    expect(text).toMatch(
      // prom-client writes `le` first.
      /eventloom_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/api\/v1\/users"\} 1/,
    );
    expect(text).toMatch(
      /eventloom_subscription_lag_events\{subscription="app-users",kind="projection"\} \d+/,
    );
    expect(text).toMatch(/eventloom_store_head_position \d+/);
  });

  it('answers 503 from /health when the store is closed', async () => {
    await h.store.close();
    const res = await h.request('/health');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      status: 'unavailable',
      checks: { store: { status: 'unavailable' } },
    });
  });
});

describe('GET /api/events/live', () => {
  beforeEach(async () => {
    h = await createHarness();
  });

  it('delivers an event appended after connecting, with its position as the SSE id', async () => {
    await h.register('ada');
    const res = await h.request('/api/events/live');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const stream = sseStream(res);
    // The server promises delivery of anything appended after its `ready` event.
    await stream.until((events) => events.some((e) => e.event === 'ready'));
    await h.call('POST', '/api/v2/tweets', { basic: ['ada', PASSWORD], body: { body: 'live!' } });
    const events = await stream.until((all) => all.some((e) => e.data.includes('TweetPosted')));
    await stream.close();
    expect(events[0]?.event).toBe('ready');
    const tweet = events.find((e) => e.data.includes('TweetPosted'));
    const data = JSON.parse(tweet!.data) as {
      type: string;
      position: number;
      data: { body: string };
    };
    expect(data).toMatchObject({ type: 'TweetPosted', data: { body: 'live!' } });
    expect(tweet!.id).toBe(String(data.position));
  });

  it('resumes after Last-Event-ID, and filters by type', async () => {
    await h.register('ada');
    await h.register('bob');
    const head = await h.store.headPosition();
    const resumed = await h.request('/api/events/live', {
      headers: { 'last-event-id': String(head - 2) },
    });
    const events = await readSse(resumed, (e) => e.filter((x) => x.id !== undefined).length >= 2);
    expect(events.filter((e) => e.id !== undefined).map((e) => Number(e.id))).toEqual([
      head - 1,
      head,
    ]);

    const typed = await h.request('/api/events/live?from=0&types=UserRegistered');
    const users = await readSse(typed, (e) => e.filter((x) => x.id !== undefined).length >= 2);
    expect(
      users
        .filter((e) => e.id !== undefined)
        .map((e) => (JSON.parse(e.data) as { type: string }).type),
    ).toEqual(['UserRegistered', 'UserRegistered']);
  });

  it('tells the client with an error event when the store is unavailable, and ends the stream', async () => {
    await h.store.close();
    const res = await h.request('/api/events/live');
    const events = await readSse(res, (e) => e.length > 0);
    expect(events[0]).toMatchObject({ event: 'error' });
  });

  it('ends open streams when the server closes', async () => {
    const res = await h.request('/api/events/live');
    const reader = res.body!.getReader();
    await reader.read(); // ready
    await h.server.close();
    let done = false;
    while (!done) done = (await reader.read()).done;
    expect(done).toBe(true);
  });
});

describe('explorer access', () => {
  it('requires a login when explorer access is authenticated, and an admin when it is admin', async () => {
    h = await createHarness({ explorerAccess: 'admin' });
    await h.register('ada');
    await h.register('root');
    expect((await h.request('/api/events')).status).toBe(401);
    expect((await h.call('GET', '/api/events', { basic: ['ada', PASSWORD] })).status).toBe(403);
    expect((await h.call('GET', '/api/events', { basic: ['root', PASSWORD] })).status).toBe(200);
  });
});
