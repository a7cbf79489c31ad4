import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createSqliteProjectionTarget } from '../../src/sqlite/sqliteDocumentStore.js';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';
import { projectionContract } from '../contract/projectionContract.js';
import { eventStoreContract } from '../contract/eventStoreContract.js';
import { appendEdgesContract } from '../contract/appendEdgesContract.js';
import { subscriptionEdgesContract } from '../contract/subscriptionEdgesContract.js';
import { tracingContract } from '../contract/tracingContract.js';

const dir = mkdtempSync(join(tmpdir(), 'eventloom-sqlite-'));
let n = 0;
const paths = new Map<unknown, string>();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fileHarness = {
  create: () => {
    const path = join(dir, `store-${n++}.db`);
    const store = createSqliteEventStore({ path });
    paths.set(store, path);
    return Promise.resolve(store);
  },
  reopen: (store: unknown) => Promise.resolve(createSqliteEventStore({ path: paths.get(store)! })),
};

eventStoreContract('sqlite (file)', fileHarness);
appendEdgesContract('sqlite (file)', fileHarness);
tracingContract('sqlite (file)', fileHarness);

eventStoreContract('sqlite (:memory:)', {
  create: () => Promise.resolve(createSqliteEventStore({ path: ':memory:' })),
  scale: 0.5,
});

subscriptionEdgesContract('sqlite (file)', {
  create: () => Promise.resolve(createSqliteEventStore({ path: join(dir, `edges-${n++}.db`) })),
  headKnownAtSubscribe: true,
});

projectionContract('sqlite store + sqlite documents', {
  inline: true,
  create: (inline) => {
    const store = createSqliteEventStore({
      path: join(dir, `proj-${n++}.db`),
      inlineProjections: inline,
    });
    return Promise.resolve({ store, target: createSqliteProjectionTarget(store.database) });
  },
});
