import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMongoEventStore } from '../../src/mongodb/mongoEventStore.js';
import { captureLogger } from '../support/captureLogger.js';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';

const available = await serviceAvailable('mongodb');

describe.skipIf(!available)('MongoDB store notices', () => {
  afterEach(() => vi.restoreAllMocks());

  it('go to the injected logger and the onNotice callback, never to process warnings', async () => {
    const emitWarning = vi.spyOn(process, 'emitWarning');
    const { logger, lines } = captureLogger();
    const notices: string[] = [];
    const dbName = uniqueName('el_notices');
    const store = createMongoEventStore({
      url: MONGODB_URL,
      dbName,
      logger,
      onNotice: (message) => notices.push(message),
    });
    try {
      const caps = await store.capabilities();
      const transactionNotices = lines.filter((l) => /multi-document transactions/.test(l.msg));
      // The stand-in has no transactions and says so once; a replica set has them and says nothing.
      expect(transactionNotices).toHaveLength(caps.transactions ? 0 : 1);
      expect(notices.filter((n) => /multi-document transactions/.test(n))).toHaveLength(
        caps.transactions ? 0 : 1,
      );
      for (const line of transactionNotices) {
        expect(line).toMatchObject({ level: 'warn', fields: { component: 'mongodb', dbName } });
      }
      expect(emitWarning).not.toHaveBeenCalled();
    } finally {
      await store.db.dropDatabase();
      await store.close();
    }
  });
});
