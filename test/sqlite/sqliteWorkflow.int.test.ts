import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createSqliteEventStore, type SqliteEventStore } from '../../src/sqlite/index.js';
import { workflowRunnerContract } from '../contract/workflowRunnerContract.js';
import { workflowTimerIndexContract } from '../contract/workflowTimerIndexContract.js';

const dir = mkdtempSync(join(tmpdir(), 'eventloom-workflow-'));
const open: SqliteEventStore[] = [];
afterAll(async () => {
  for (const store of open) await store.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});
let files = 0;
const openStore = (path: string): SqliteEventStore => {
  const store = createSqliteEventStore({ path });
  open.push(store);
  return store;
};

workflowRunnerContract('sqlite', {
  create: () => {
    const store = openStore(join(dir, `runner-${files++}.db`));
    return Promise.resolve({ store, timers: store.documents.async });
  },
  propertyRuns: 15,
});

workflowTimerIndexContract('sqlite', {
  create: () => {
    const path = join(dir, `timers-${files++}.db`);
    const first = openStore(path);
    return Promise.resolve({
      documents: first.documents.async,
      reopen: async () => {
        await first.close();
        return openStore(path).documents.async;
      },
    });
  },
});
