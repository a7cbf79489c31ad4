import { afterAll } from 'vitest';
import { createMongoEventStore, createMongoProjectionTarget } from '../../src/mongodb/index.js';
import type { MongoEventStore } from '../../src/mongodb/index.js';
import { workflowRunnerContract } from '../contract/workflowRunnerContract.js';
import { workflowTimerIndexContract } from '../contract/workflowTimerIndexContract.js';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';

const available = await serviceAvailable('mongodb');
const open: MongoEventStore[] = [];
afterAll(async () => {
  for (const store of open) {
    await store.db.dropDatabase().catch(() => undefined);
    await store.close().catch(() => undefined);
  }
});
const openStore = (dbName: string): MongoEventStore => {
  const store = createMongoEventStore({ url: MONGODB_URL, dbName, onNotice: () => undefined });
  open.push(store);
  return store;
};
const timersOf = (store: MongoEventStore) =>
  createMongoProjectionTarget({ db: store.db, ready: () => store.ready() }).documents;

workflowRunnerContract('mongodb', {
  skip: !available,
  create: () => {
    const store = openStore(uniqueName('el_workflow'));
    return Promise.resolve({ store, timers: timersOf(store) });
  },
  // Each step is several round trips to the shared stand-in, slow when other suites load it.
  propertyRuns: 5,
  propertySteps: 12,
});

workflowTimerIndexContract('mongodb', {
  skip: !available,
  create: () => {
    const dbName = uniqueName('el_wftimers');
    const first = openStore(dbName);
    return Promise.resolve({
      documents: timersOf(first),
      reopen: () => Promise.resolve(timersOf(openStore(dbName))),
    });
  },
});
