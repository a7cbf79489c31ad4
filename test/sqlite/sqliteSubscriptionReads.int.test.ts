import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type EventStore,
  type RecordedEvent,
  storedJsonOf,
  type SubscribeOptions,
  toEventJson,
  withUpcasting,
} from '../../src/core/index.js';
import { toKafkaMessage } from '../../src/kafka/kafkaMessage.js';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';

describe('SQLite subscriptions that handle some event types', () => {
  it('move past events of other types without decoding them: a damaged one does not stop them', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    await store.appendToStream('other-1', [{ type: 'Other', data: { n: 1 } }]);
    await store.appendToStream('wanted-1', [{ type: 'Wanted', data: { n: 2 } }]);
    // The Other event's JSON is damaged where it is stored.
    store.database.prepare("UPDATE eventloom_events SET data = '{' WHERE type = 'Other'").run();
    const seen: unknown[] = [];
    const failures: unknown[] = [];
    const sub = store.subscribe({
      name: 'wanted-only',
      eventTypes: ['Wanted'],
      handler: (e) => void seen.push(e.data),
      onEvent: (notice) => {
        if (notice.kind === 'read-failed') failures.push(notice.error);
      },
    });
    const { lastPosition } = await store.appendToStream('wanted-2', [
      { type: 'Wanted', data: { n: 3 } },
    ]);
    await sub.waitFor(lastPosition, 10_000);
    expect(seen).toEqual([{ n: 2 }, { n: 3 }]);
    expect(failures).toEqual([]);
    // Whoever reads the damaged event itself still gets the error.
    await expect(store.readAll()).rejects.toThrow(SyntaxError);
    await sub.stop();
    await store.close();
  });
});

describe('SQLite subscriptions that ask for the stored JSON text', () => {
  const collect = async (
    store: EventStore,
    options: Partial<SubscribeOptions> = {},
  ): Promise<RecordedEvent[]> => {
    const seen: RecordedEvent[] = [];
    const sub = store.subscribe({
      name: `json-${randomUUID()}`,
      storedJson: true,
      handler: (e) => void seen.push(e),
      ...options,
    });
    await sub.waitFor(await store.headPosition(), 10_000);
    await sub.stop();
    return seen;
  };
  const slowValue = (e: RecordedEvent): string => JSON.stringify(toEventJson(e));

  it('publish the same message value, byte for byte, as serialising each event anew', async () => {
    const key = fc.string().map((k) => `k${k}`);
    const events = fc.array(
      fc.record({
        streamId: fc.constantFrom('user-1', 'order-"7"', 'emoji-🙂', 'line\nbreak'),
        type: fc.constantFrom('Happened', 'Typ"e', 'Ünïcode'),
        data: fc.jsonValue(),
        metadata: fc.dictionary(key, fc.jsonValue(), { maxKeys: 4 }),
      }),
      { minLength: 1, maxLength: 20 },
    );
    await fc.assert(
      fc.asyncProperty(events, async (batch) => {
        const store = createSqliteEventStore({ path: ':memory:' });
        for (const e of batch) {
          await store.appendToStream(e.streamId, [
            { type: e.type, data: e.data, metadata: e.metadata },
          ]);
        }
        const seen = await collect(store);
        expect(seen).toHaveLength(batch.length);
        for (const event of seen) {
          expect(storedJsonOf(event)).toBeDefined();
          expect(toKafkaMessage(event, 't').value).toBe(slowValue(event));
        }
        await store.close();
      }),
      { numRuns: 60 },
    );
  });

  it('are not used for a copy with other data, nor through a decorator that changes events in place', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    await store.appendToStream('user-1', [{ type: 'Registered', data: { name: 'Ada' } }]);
    const [event] = await collect(store);
    const copy = { ...event!, data: { name: 'Grace' } };
    expect(storedJsonOf(copy)).toBeUndefined();
    expect(toKafkaMessage(copy, 't').value).toBe(slowValue(copy));
    expect(toKafkaMessage(copy, 't').value).toContain('Grace');

    // An upcaster that changes the data in place: the stored text would be stale.
    const upcasting = withUpcasting(store, [
      {
        type: 'Registered',
        fromSchemaVersion: 1,
        upcast: (e) => {
          (e.data as { name: string }).name = 'Upcast';
          return { data: e.data };
        },
      },
    ]);
    const [upcast] = await collect(upcasting);
    expect(toKafkaMessage(upcast!, 't').value).toBe(slowValue(upcast!));
    expect(toKafkaMessage(upcast!, 't').value).toContain('Upcast');
    await store.close();
  });

  it('refuses a storedJson option that is not a boolean, naming it', () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    expect(() =>
      store.subscribe({
        name: 'x',
        handler: () => undefined,
        storedJson: 'yes' as unknown as boolean,
      }),
    ).toThrow(/options\.storedJson: must be true or false; got "yes"/);
    void store.close();
  });
});
