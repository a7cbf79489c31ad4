import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../../src/core/index.js';
import { createFeed } from '../../src/app/feed.js';
import { recordingStreamReads } from '../support/streamReads.js';

const ada = { userId: 'u-1', username: 'ada', role: 'user' as const };

describe('the feed', () => {
  it('posts a tweet without reading its new stream first, and replays a post sent again with its key', async () => {
    const memory = createMemoryEventStore();
    const { store, reads } = recordingStreamReads(memory);
    const feed = createFeed({ store });
    const posted = await feed.post(ada, 'hello');
    expect(posted).toMatchObject({ version: 1, replayed: false, value: { body: 'hello' } });
    expect(reads).toEqual([]);
    const first = await feed.post(ada, 'again', { idempotencyKey: 'k-1' });
    const retried = await feed.post(ada, 'again', { idempotencyKey: 'k-1' });
    expect(retried).toMatchObject({ replayed: true, position: first.position });
    expect(retried.value.id).toBe(first.value.id);
    expect(await memory.headPosition()).toBe(2);
  });
});
