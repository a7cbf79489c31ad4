import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';
import { multiProcessRun } from '../support/multiProcessRun.js';

const dir = mkdtempSync(join(tmpdir(), 'eventloom-multiproc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite store under a random multi-process run', () => {
  it('gives every killed-and-restarted subscriber process every committed event in order, without a stall', async () => {
    const path = join(dir, 'shared.db');
    const store = createSqliteEventStore({ path });
    try {
      await multiProcessRun({
        backend: 'sqlite',
        location: path,
        dir,
        store,
        writers: 3,
        appendsPerWriter: 250,
        streams: 4,
        subscribers: 2,
        kills: 3,
      });
    } finally {
      await store.close();
    }
  }, 90_000);
});
