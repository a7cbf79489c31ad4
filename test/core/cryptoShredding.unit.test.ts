import { describe, expect, it } from 'vitest';
import {
  createCryptoShredder,
  createMemoryEventStore,
  createMemoryKeyStore,
  createMemorySnapshotStore,
  createWebCryptoCipher,
  ERASED,
  isConfigurationError,
  isValidationError,
  parseKeyEncryptionKey,
  personalData,
} from '../../src/core/index.js';
import { createNodeCipher } from '../../src/node/nodeCipher.js';
import { cryptoShreddingContract, userPersonalData } from '../contract/cryptoShreddingContract.js';
import { keyStoreContract } from '../contract/keyStoreContract.js';

keyStoreContract('memory', { create: () => Promise.resolve(createMemoryKeyStore()) });

cryptoShreddingContract('memory', {
  create: (options) =>
    Promise.resolve().then(() => {
      const store = createMemoryEventStore(options);
      return { store, snapshots: createMemorySnapshotStore(), documents: store.documents };
    }),
  inlineProjections: true,
});

describe('key-encryption key configuration', () => {
  it('parses 32 bytes given as base64, base64url or hex', () => {
    const bytes = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    const b64 = btoa(String.fromCharCode(...bytes));
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    expect(parseKeyEncryptionKey(b64).bytes).toEqual(bytes);
    expect(
      parseKeyEncryptionKey(b64.replace(/=$/, '').replace(/\+/g, '-').replace(/\//g, '_')).bytes,
    ).toEqual(bytes);
    expect(parseKeyEncryptionKey(` ${hex}\n`).bytes).toEqual(bytes);
  });

  it('refuses a missing key with a message that says how to make one', () => {
    expect(() => parseKeyEncryptionKey(undefined, 'EVENTLOOM_MASTER_KEY')).toThrow(
      /EVENTLOOM_MASTER_KEY is missing.*randomBytes\(32\)\.toString\('base64'\)/,
    );
    let caught: unknown;
    try {
      parseKeyEncryptionKey('  ');
    } catch (e) {
      caught = e;
    }
    expect(isConfigurationError(caught)).toBe(true);
  });

  it('refuses a malformed key with a message that says what is wrong and how to make one', () => {
    for (const bad of ['c2hvcnQ=', 'z'.repeat(64), 'a'.repeat(63)]) {
      expect(() => parseKeyEncryptionKey(bad, 'EVENTLOOM_MASTER_KEY')).toThrow(
        /EVENTLOOM_MASTER_KEY is malformed: expected 32 bytes.*randomBytes\(32\)/,
      );
    }
  });

  it('refuses to create a shredder whose key-encryption key is not 32 bytes', () => {
    expect(() =>
      createCryptoShredder({
        personalData: userPersonalData,
        keyStore: createMemoryKeyStore(),
        keyEncryptionKey: { bytes: new Uint8Array(16) },
      }),
    ).toThrow(/keyEncryptionKey must be 32 bytes.*randomBytes\(32\)/);
  });
});

describe('personal-data declarations', () => {
  it('refuses a declaration without fields or subject, naming the event type', () => {
    expect(() => personalData({ UserRegistered: { subject: () => 'x', fields: [] } })).toThrow(
      /personalData\.UserRegistered\.fields: must be a non-empty array/,
    );
    expect(() => personalData({ UserRegistered: { fields: ['email'] } } as never)).toThrow(
      /personalData\.UserRegistered\.subject: must be a function/,
    );
  });

  it('refuses an append whose subject is empty, naming the event', async () => {
    const shredder = createCryptoShredder({
      personalData: userPersonalData,
      keyStore: createMemoryKeyStore(),
      keyEncryptionKey: { bytes: new Uint8Array(32) },
    });
    const attempt = shredder.encryptEvents('user-1', [
      { type: 'UserRegistered', data: { userId: '', email: 'a@b.c', name: 'A', plan: 'x' } },
    ]);
    await expect(attempt).rejects.toSatisfy(isValidationError);
    await expect(attempt).rejects.toThrow(
      /events\[0\]\.data: the personal-data subject of UserRegistered/,
    );
  });

  it('types field names against each event type', () => {
    type E = { type: 'A'; data: { id: string; email: string } };
    // @ts-expect-error 'phone' is not a field of A's data
    personalData<E>({ A: { subject: (e) => e.data.id, fields: ['phone'] } });
    expect(
      personalData<E>({ A: { subject: (e) => e.data.id, fields: ['email'] } }).eventTypes,
    ).toEqual(new Set(['A']));
  });
});

describe('synthetic IVs', () => {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const aad = new TextEncoder().encode('v2\u0000event\u0000e-1\u0000user-1');
  const text = (s: string) => new TextEncoder().encode(s);

  it('seal the same plaintext to the same bytes, and different plaintexts or event ids to different IVs', async () => {
    for (const cipher of [createNodeCipher(), createWebCryptoCipher()]) {
      const key = await cipher.importKey(raw);
      const a = await cipher.seal(key, aad, text('{"email":"a@b.c"}'), true);
      expect(Buffer.from(await cipher.seal(key, aad, text('{"email":"a@b.c"}'), true))).toEqual(
        Buffer.from(a),
      );
      const otherText = await cipher.seal(key, aad, text('{"email":"e@b.c"}'), true);
      const otherId = await cipher.seal(
        key,
        text('v2\u0000event\u0000e-2\u0000user-1'),
        text('{"email":"a@b.c"}'),
        true,
      );
      const iv = (b: Uint8Array) => Buffer.from(b.subarray(0, 12)).toString('hex');
      expect(new Set([iv(a), iv(otherText), iv(otherId)]).size).toBe(3);
      expect(new TextDecoder().decode(await cipher.open(key, aad, a))).toBe('{"email":"a@b.c"}');
      // Without `synthetic` the IV stays random.
      const random = [
        await cipher.seal(key, aad, text('x')),
        await cipher.seal(key, aad, text('x')),
      ];
      expect(iv(random[0]!)).not.toBe(iv(random[1]!));
    }
  });

  it('are the same on node:crypto and WebCrypto, so either cipher recognises a re-append', async () => {
    const node = createNodeCipher();
    const web = createWebCryptoCipher();
    const sealedByNode = await node.seal(await node.importKey(raw), aad, text('{"n":1}'), true);
    const sealedByWeb = await web.seal(await web.importKey(raw), aad, text('{"n":1}'), true);
    expect(Buffer.from(sealedByWeb)).toEqual(Buffer.from(sealedByNode));
  });
});

describe('opening events this shredder sealed or opened before', () => {
  /** The real node:crypto cipher, counting how often it decrypts. */
  const countingCipher = () => {
    const cipher = createNodeCipher();
    const counted = { opened: 0 };
    return {
      counted,
      cipher: {
        ...cipher,
        open: (...args: Parameters<typeof cipher.open>) => {
          counted.opened++;
          return cipher.open(...args);
        },
      },
    };
  };
  const registered = (email: string) => ({
    type: 'UserRegistered' as const,
    data: { userId: '1', email, name: 'Ada', plan: 'pro' },
  });

  it('hands every subscriber the plaintext of an event it sealed without decrypting it again', async () => {
    const { cipher, counted } = countingCipher();
    const store = createMemoryEventStore({
      personalData: {
        policy: userPersonalData,
        keyEncryptionKey: { bytes: crypto.getRandomValues(new Uint8Array(32)) },
        cipher,
      },
    });
    const { lastPosition } = await store.appendToStream('user-1', [registered('ada@example.com')]);
    const seen: unknown[] = [];
    const subs = ['a', 'b', 'c'].map((name) =>
      store.subscribe({ name, handler: (e) => void seen.push(e.data) }),
    );
    for (const sub of subs) await sub.waitFor(lastPosition);
    const plain = { userId: '1', email: 'ada@example.com', name: 'Ada', plan: 'pro' };
    expect(seen).toEqual([plain, plain, plain]);
    // Each subscriber gets its own copy.
    expect(new Set(seen).size).toBe(3);
    expect(counted.opened).toBe(0);
    for (const sub of subs) await sub.stop();
    await store.close();
  });

  it('decrypts an event once for several readers, and reads it as erased after forget', async () => {
    const { cipher, counted } = countingCipher();
    const keyStore = createMemoryKeyStore();
    const keyEncryptionKey = { bytes: crypto.getRandomValues(new Uint8Array(32)) };
    const writer = createMemoryEventStore({
      personalData: { policy: userPersonalData, keyEncryptionKey, keyStore },
    });
    await writer.appendToStream('user-1', [registered('ada@example.com')]);
    const [stored] = await writer.storedForm.readStream('user-1');
    const reader = createCryptoShredder({
      personalData: userPersonalData,
      keyStore,
      keyEncryptionKey,
      cipher,
    });
    for (let i = 0; i < 3; i++) {
      expect((await reader.decryptEvent(stored!)).data).toMatchObject({ email: 'ada@example.com' });
    }
    // One for the data key, one for the event.
    expect(counted.opened).toBe(2);
    await reader.forget('1');
    expect((await reader.decryptEvent(stored!)).data).toMatchObject({
      email: ERASED,
      name: ERASED,
    });
    await writer.close();
  });
});
