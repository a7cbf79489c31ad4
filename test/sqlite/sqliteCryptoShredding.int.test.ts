import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createCryptoShredder,
  withCryptoShredding,
  withSnapshotEncryption,
  type KeyStore,
} from '../../src/core/index.js';
import { createSqliteEventStore, createSqliteKeyStore } from '../../src/sqlite/index.js';
import {
  cryptoShreddingContract,
  newKek,
  userPersonalData,
} from '../contract/cryptoShreddingContract.js';
import { keyStoreContract } from '../contract/keyStoreContract.js';

const dir = mkdtempSync(join(tmpdir(), 'eventloom-keys-'));
let n = 0;
const paths = new Map<KeyStore, string>();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

keyStoreContract('sqlite (file)', {
  create: () => {
    const path = join(dir, `keys-${n++}.db`);
    const keys = createSqliteKeyStore({ path });
    paths.set(keys, path);
    return Promise.resolve(keys);
  },
  reopen: (keys) => Promise.resolve(createSqliteKeyStore({ path: paths.get(keys)! })),
});

cryptoShreddingContract('sqlite (one file for events, snapshots and keys)', {
  create: (options) => {
    const store = createSqliteEventStore({ path: join(dir, `store-${n++}.db`), ...options });
    return Promise.resolve({ store, snapshots: store.snapshots, documents: store.documents });
  },
  inlineProjections: true,
});

/** Every byte SQLite keeps for `path`: the database file and its WAL. */
function fileBytes(path: string): Buffer {
  return Buffer.concat(
    [path, `${path}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p)),
  );
}

describe('SQLite files after a forget', () => {
  it('hold neither the erased plaintext nor the destroyed data key, in the database file or the WAL', async () => {
    const path = join(dir, `scan-${n++}.db`);
    const inner = createSqliteEventStore({ path });
    const keyStore = createSqliteKeyStore(inner.database);
    const shredder = createCryptoShredder({
      personalData: userPersonalData,
      keyStore,
      keyEncryptionKey: newKek(),
    });
    const store = withCryptoShredding(inner, shredder);
    const snapshots = withSnapshotEncryption(inner.snapshots, shredder, {
      subject: (s) => s.streamId.slice('user-'.length),
    });
    const email = 'grace.hopper.secret@example.com';
    await store.appendToStream('user-7', [
      { type: 'UserRegistered', data: { userId: '7', email, name: 'Grace Hopper', plan: 'pro' } },
    ]);
    await snapshots.save({
      streamId: 'user-7',
      version: 1,
      schemaVersion: 1,
      state: { email },
      takenAt: new Date(),
    });
    const key = await keyStore.get('7');
    if (key?.state !== 'active') throw new Error('expected a live data key');
    const wrapped = Buffer.from(key.wrappedKey);
    const before = fileBytes(path);
    expect(before.includes(wrapped), 'the wrapped key is on disk before the forget').toBe(true);
    expect(before.includes(email)).toBe(false);

    expect((await store.forget('7')).outcome).toBe('forgotten');
    const after = fileBytes(path);
    expect(after.includes(wrapped)).toBe(false);
    expect(after.includes(email)).toBe(false);
    expect(after.includes('Grace Hopper')).toBe(false);
    expect((await store.readStream('user-7'))[0]!.data).toMatchObject({ email: '[erased]' });
    await inner.close();
  });
});
