import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogFields, Logger } from '../../src/core/logger.js';
import { createMongoEventStore } from '../../src/mongodb/mongoEventStore.js';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';

const available = await serviceAvailable('mongodb');

function captureLogger(lines: { level: string; fields: LogFields; msg: string }[]): Logger {
  const at =
    (level: string, bindings: LogFields) =>
    (fields: LogFields, msg: string): void => {
      lines.push({ level, fields: { ...bindings, ...fields }, msg });
    };
  const make = (bindings: LogFields): Logger => ({
    debug: at('debug', bindings),
    info: at('info', bindings),
    warn: at('warn', bindings),
    error: at('error', bindings),
    child: (more) => make({ ...bindings, ...more }),
  });
  return make({});
}

describe.skipIf(!available)('MongoDB store notices', () => {
  afterEach(() => vi.restoreAllMocks());

  it('go to the injected logger and the onNotice callback, never to process warnings', async () => {
    const emitWarning = vi.spyOn(process, 'emitWarning');
    const lines: { level: string; fields: LogFields; msg: string }[] = [];
    const notices: string[] = [];
    const dbName = uniqueName('el_notices');
    const store = createMongoEventStore({
      url: MONGODB_URL,
      dbName,
      logger: captureLogger(lines),
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
