import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createMemoryEventStore,
  createMemoryKeyStore,
  parseKeyEncryptionKey,
  storedFormOf,
} from '../../src/core/index.js';
import { withAppPersonalData } from '../../src/server/appStore.js';
import { countingStore } from '../../src/server/countingStore.js';

describe('the counting store', () => {
  it('hands readers of the stored form the sealed events, and counts the appends made through it', async () => {
    const app = withAppPersonalData(
      createMemoryEventStore(),
      createMemoryKeyStore(),
      parseKeyEncryptionKey(randomBytes(32).toString('base64')),
    );
    const counted: [string, number][] = [];
    const store = countingStore(app, (category, events) => counted.push([category, events]));
    await store.appendToStream('tweet-1', [
      { type: 'TweetPosted', data: { tweetId: '1', userId: 'u1', username: 'ada', body: 'hi' } },
    ]);

    expect(counted).toEqual([['tweet', 1]]);
    const [plain] = await store.readAll();
    expect(plain?.data).toMatchObject({ username: 'ada' });
    const stored = storedFormOf(store);
    expect(stored).not.toBe(store);
    const [sealed] = await stored.readAll();
    expect(sealed?.id).toBe(plain?.id);
    expect(JSON.stringify(sealed?.data)).not.toContain('ada');
  });
});
