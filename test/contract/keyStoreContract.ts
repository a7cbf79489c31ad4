/**
 * The KeyStore contract, written once and run against every implementation (memory,
 * SQLite, MongoDB). Each implementation's test file calls `keyStoreContract` with a factory
 * that returns a fresh, empty key store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyStore, WrappedDataKey } from '../../src/core/keyStore.js';

export interface KeyStoreHarness {
  create(): Promise<KeyStore>;
  /** A second handle on the same data (a restart). Optional. */
  reopen?(keys: KeyStore): Promise<KeyStore>;
}

const key = (subject: string, keyId = `k-${subject}`, kekId = 'kek-1'): WrappedDataKey => ({
  subject,
  keyId,
  kekId,
  wrappedKey: new Uint8Array([1, 2, 3, keyId.length]),
  createdAt: new Date('2024-01-02T03:04:05.000Z'),
});

export function keyStoreContract(name: string, harness: KeyStoreHarness): void {
  describe(`KeyStore contract: ${name}`, () => {
    const open: KeyStore[] = [];
    const fresh = async (): Promise<KeyStore> => {
      const k = await harness.create();
      open.push(k);
      return k;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((k) => k.close()));
    });

    it('stores a wrapped key and returns it exactly', async () => {
      const keys = await fresh();
      expect(await keys.get('u-1')).toBeUndefined();
      expect(await keys.create(key('u-1'))).toEqual({ state: 'active', ...key('u-1') });
      expect(await keys.get('u-1')).toEqual({ state: 'active', ...key('u-1') });
    });

    it('keeps the first key when two creators race for one subject', async () => {
      const keys = await fresh();
      const [a, b] = await Promise.all([
        keys.create(key('u-1', 'first')),
        keys.create(key('u-1', 'second')),
      ]);
      expect(a).toEqual(b);
      expect(await keys.get('u-1')).toEqual(a);
    });

    it('forgets a key for good, keeps the fact, and refuses a new key for that subject', async () => {
      const keys = await fresh();
      await keys.create(key('u-1'));
      await keys.create(key('u-2'));
      expect(await keys.forget('u-1', new Date('2024-05-01T00:00:00.000Z'))).toBe('forgotten');
      expect(await keys.get('u-1')).toEqual({
        state: 'forgotten',
        subject: 'u-1',
        forgottenAt: new Date('2024-05-01T00:00:00.000Z'),
      });
      expect(await keys.forget('u-1', new Date())).toBe('already-forgotten');
      expect((await keys.create(key('u-1', 'again'))).state).toBe('forgotten');
      expect((await keys.get('u-2'))?.state).toBe('active');
    });

    it('treats forgetting an unknown subject as a no-op', async () => {
      const keys = await fresh();
      expect(await keys.forget('nobody', new Date())).toBe('unknown');
      expect(await keys.get('nobody')).toBeUndefined();
    });

    it('re-wraps a live key only while it is still wrapped as expected', async () => {
      const keys = await fresh();
      await keys.create(key('u-1'));
      await keys.create(key('u-2', 'k-u-2', 'kek-2'));
      expect((await keys.listWrappedByOtherKek('kek-2', 10)).map((k) => k.subject)).toEqual([
        'u-1',
      ]);
      const next = { kekId: 'kek-2', wrappedKey: new Uint8Array([9, 9]) };
      expect(await keys.rewrap('u-1', { keyId: 'k-u-1', fromKekId: 'kek-0' }, next)).toBe(false);
      expect(await keys.rewrap('u-1', { keyId: 'k-u-1', fromKekId: 'kek-1' }, next)).toBe(true);
      expect(await keys.get('u-1')).toMatchObject({
        kekId: 'kek-2',
        wrappedKey: new Uint8Array([9, 9]),
      });
      expect(await keys.listWrappedByOtherKek('kek-2', 10)).toEqual([]);
      await keys.forget('u-2', new Date());
      expect(await keys.rewrap('u-2', { keyId: 'k-u-2', fromKekId: 'kek-2' }, next)).toBe(false);
      expect((await keys.get('u-2'))?.state).toBe('forgotten');
    });

    it('lists at most the requested number of keys to re-wrap', async () => {
      const keys = await fresh();
      await Promise.all(['a', 'b', 'c'].map((s) => keys.create(key(s))));
      expect(await keys.listWrappedByOtherKek('kek-2', 2)).toHaveLength(2);
    });

    const reopen = harness.reopen;
    if (reopen)
      it('keeps keys and forgotten subjects across a restart', async () => {
        const keys = await fresh();
        await keys.create(key('u-1'));
        await keys.create(key('u-2'));
        await keys.forget('u-2', new Date('2024-05-01T00:00:00.000Z'));
        const again = await reopen(keys);
        open.push(again);
        expect(await again.get('u-1')).toEqual({ state: 'active', ...key('u-1') });
        expect((await again.get('u-2'))?.state).toBe('forgotten');
      });
  });
}
