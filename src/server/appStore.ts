// The one place where the app's event store gets its personal-data protection: swap the
// wiring here (e.g. for a store-level option) without touching the rest of the server.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { APP_PERSONAL_DATA } from '../app/index.js';
import {
  ConfigurationError,
  createCryptoShredder,
  type CryptoShreddingEventStore,
  type EventStore,
  isConfigurationError,
  type KeyEncryptionKey,
  type KeyStore,
  parseKeyEncryptionKey,
  withCryptoShredding,
} from '../core/index.js';
import { createNodeCipher } from '../node/nodeCipher.js';
import type { AppConfig } from './appConfig.js';

/**
 * A secret kept in the data folder (mode 600): read when it exists, else generated once. Two
 * processes starting together end up with the same one.
 */
export async function dataFolderSecret(
  dataDir: string,
  name: string,
  generate: () => string,
): Promise<string> {
  const file = join(dataDir, name);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = generate();
  try {
    await writeFile(file, secret + '\n', { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      return (await readFile(file, 'utf8')).trim();
    throw error;
  }
}

/** The file in the data folder that holds the generated key-encryption key. */
export const MASTER_KEY_FILE = 'master-key';

/**
 * The key-encryption key: `EVENTLOOM_MASTER_KEY`, else one generated once into the data
 * folder. A malformed key (either source) refuses to start with how to make one.
 */
export async function appKeyEncryptionKey(config: AppConfig): Promise<KeyEncryptionKey> {
  if (config.masterKey !== undefined) {
    return parseKeyEncryptionKey(config.masterKey, 'EVENTLOOM_MASTER_KEY');
  }
  const text = await dataFolderSecret(config.dataDir, MASTER_KEY_FILE, () =>
    randomBytes(32).toString('base64'),
  );
  return parseKeyEncryptionKey(
    text,
    `The key-encryption key in ${join(config.dataDir, MASTER_KEY_FILE)}`,
  );
}

/** The earlier key-encryption keys from `EVENTLOOM_PREVIOUS_MASTER_KEYS`. */
export const appPreviousKeyEncryptionKeys = (config: AppConfig): KeyEncryptionKey[] =>
  config.previousMasterKeys.map((key, i) =>
    parseKeyEncryptionKey(key, `EVENTLOOM_PREVIOUS_MASTER_KEYS[${i}]`),
  );

/**
 * The app's event store with its personal fields (see `APP_PERSONAL_DATA`) encrypted at rest
 * per user, and `forget(userId)` to erase a person.
 */
export function withAppPersonalData(
  stored: EventStore,
  keyStore: KeyStore,
  keyEncryptionKey: KeyEncryptionKey,
  previousKeyEncryptionKeys: readonly KeyEncryptionKey[] = [],
): CryptoShreddingEventStore {
  const shredder = createCryptoShredder({
    personalData: APP_PERSONAL_DATA,
    keyStore,
    keyEncryptionKey,
    previousKeyEncryptionKeys,
    // Synchronous node:crypto, byte for byte what the WebCrypto default writes and opens:
    // the WebCrypto one costs a promise and a thread-pool job per field, which made
    // decrypting the read models' events the largest cost of a command over HTTP.
    cipher: createNodeCipher(),
  });
  return withCryptoShredding(stored, shredder);
}

/**
 * Re-wraps every data key still wrapped by an earlier key-encryption key under the current
 * one, so the earlier keys can be dropped after this start. Run at every start: without
 * earlier keys it only checks that the current key opens every data key, so a wrong
 * `EVENTLOOM_MASTER_KEY` refuses to start instead of failing on the first read.
 */
export async function rotateAppKeyEncryptionKey(
  store: CryptoShreddingEventStore,
  config: AppConfig,
): Promise<number> {
  try {
    return (await store.shredder.rotateKeyEncryptionKey()).rewrapped;
  } catch (error) {
    if (!isConfigurationError(error)) throw error;
    const where =
      config.masterKey === undefined
        ? `the key in ${join(config.dataDir, MASTER_KEY_FILE)}`
        : 'EVENTLOOM_MASTER_KEY';
    throw new ConfigurationError(
      `The personal data keys in this store are wrapped by a key-encryption key other than ${where}: start with the key used before as EVENTLOOM_MASTER_KEY, or rotate to the new one by listing the old one in EVENTLOOM_PREVIOUS_MASTER_KEYS (comma-separated) for one start (${error.message})`,
      { cause: error, details: { variable: 'EVENTLOOM_PREVIOUS_MASTER_KEYS' } },
    );
  }
}
