import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { createMongoEventStore } from '../../src/mongodb/mongoEventStore.js';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';
import { multiProcessRun } from '../support/multiProcessRun.js';

const available = await serviceAvailable('mongodb');
const dir = mkdtempSync(join(tmpdir(), 'eventloom-mongo-multiproc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!available)('MongoDB store under a random multi-process run', () => {
  it('gives every killed-and-restarted subscriber process every committed event in order, without a stall', async () => {
    const dbName = uniqueName('el_multiproc');
    const store = createMongoEventStore({ url: MONGODB_URL, dbName, onNotice: () => undefined });
    try {
      await multiProcessRun({
        backend: 'mongodb',
        location: `${MONGODB_URL}|${dbName}`,
        dir,
        store,
        writers: 3,
        appendsPerWriter: 100,
        streams: 4,
        subscribers: 2,
        kills: 3,
      });
    } finally {
      await store.db.dropDatabase().catch(() => undefined);
      await store.close();
    }
  }, 90_000);
});
