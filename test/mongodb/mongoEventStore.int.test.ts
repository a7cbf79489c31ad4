import { describe } from 'vitest';
import { createMongoEventStore, type MongoEventStore } from '../../src/mongodb/mongoEventStore.js';
import type { EventStore } from '../../src/core/types.js';
import { appendEdgesContract, type AppendEdgesHarness } from '../contract/appendEdgesContract.js';
import { eventStoreContract } from '../contract/eventStoreContract.js';
import { tracingContract } from '../contract/tracingContract.js';
import { subscriptionEdgesContract } from '../contract/subscriptionEdgesContract.js';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';

const available = await serviceAvailable('mongodb');

/** A store on a fresh database that is dropped when the store closes. */
function open(dbName: string): MongoEventStore {
  const store = createMongoEventStore({ url: MONGODB_URL, dbName, onNotice: () => undefined });
  const close = store.close.bind(store);
  return Object.assign(store, {
    close: async () => {
      if (!dropped.has(dbName)) {
        dropped.add(dbName);
        await store.db.dropDatabase().catch(() => undefined);
      }
      await close();
    },
  });
}
const dropped = new Set<string>();

describe.skipIf(!available)('MongoDB event store', () => {
  const names = new Map<unknown, string>();
  const harness: AppendEdgesHarness = {
    create: () => {
      const name = uniqueName('el_contract');
      const store = open(name);
      names.set(store, name);
      return Promise.resolve(store);
    },
    reopen: (store) => {
      // The reopened handle shares the database; only the last close drops it.
      const name = names.get(store)!;
      dropped.add(name);
      const again = createMongoEventStore({
        url: MONGODB_URL,
        dbName: name,
        onNotice: () => undefined,
      });
      const close = again.close.bind(again);
      return Promise.resolve(
        Object.assign(again, {
          close: async () => {
            await again.db.dropDatabase().catch(() => undefined);
            await close();
          },
        }),
      );
    },
    /** Positions allocated by appends that failed elsewhere: counted, then marked as gaps. */
    leaveGaps: async (store: EventStore, count: number) => {
      const { db } = store as MongoEventStore;
      const counter = await db
        .collection<{ _id: string; value: number }>('eventloom_counters')
        .findOneAndUpdate(
          { _id: 'position' },
          { $inc: { value: count } },
          { upsert: true, returnDocument: 'after' },
        );
      const last = counter!.value;
      await db
        .collection<{ _id: number; lastPosition: number; gap: boolean }>('eventloom_log')
        .insertOne({ _id: last - count + 1, lastPosition: last, gap: true });
    },
    scale: 0.5,
  };
  eventStoreContract('mongodb', harness);
  appendEdgesContract('mongodb', harness);
  tracingContract('mongodb', harness);
  subscriptionEdgesContract('mongodb', {
    create: () => Promise.resolve(open(uniqueName('el_edges'))),
    headKnownAtSubscribe: false,
  });
});
