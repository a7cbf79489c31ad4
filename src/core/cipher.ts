import { ConfigurationError } from './errors.js';

/** A value, or a promise of it: a cipher that can work synchronously (node:crypto) does. */
export type MaybePromise<T> = T | Promise<T>;

/** A key as the cipher holds it (a node:crypto KeyObject, a WebCrypto CryptoKey): opaque. */
export type CipherKey = { readonly __cipherKey?: never } | object;

/**
 * AES-256-GCM as the crypto-shredder needs it. Synchronous implementations (node:crypto,
 * `eventloom/sqlite` and `eventloom/mongodb` use one by default) let an append or a page of
 * reads be encrypted or decrypted without a promise per field; the WebCrypto fallback
 * ({@link createWebCryptoCipher}) returns promises.
 */
export interface AeadCipher {
  /**
   * Imports 32 raw bytes once (the shredder caches the result per data subject), with the
   * IV key that `seal(…, synthetic)` needs: HKDF-SHA256(raw, info {@link SYNTHETIC_IV_INFO}).
   */
  importKey(raw: Uint8Array): MaybePromise<CipherKey>;
  /**
   * Encrypts; returns `iv ‖ ciphertext ‖ 16-byte tag`. The 96-bit IV is random, or with
   * `synthetic` the first 12 bytes of HMAC-SHA256(IV key, {@link syntheticIvInput}(aad, plaintext)):
   * the same key, aad and plaintext always seal to the same bytes (so re-appending an event
   * is recognised as the same event), and different ones get different IVs.
   */
  seal(
    key: CipherKey,
    aad: Uint8Array,
    plaintext: Uint8Array,
    synthetic?: boolean,
  ): MaybePromise<Uint8Array>;
  /** Opens what {@link seal} returned; throws when authentication fails. */
  open(key: CipherKey, aad: Uint8Array, sealed: Uint8Array): MaybePromise<Uint8Array>;
  randomBytes(length: number): Uint8Array;
  sha256(data: Uint8Array): MaybePromise<Uint8Array>;
  toBase64(bytes: Uint8Array): string;
  fromBase64(text: string): Uint8Array;
}

/** HKDF `info` of the key that derives synthetic IVs from a data key. */
export const SYNTHETIC_IV_INFO = 'eventloom-synthetic-iv.v1';

/**
 * What a synthetic IV is the MAC of: `len(aad) as 4 bytes big-endian ‖ aad ‖ plaintext`, so
 * no two different (aad, plaintext) pairs give the same input.
 */
export function syntheticIvInput(aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + aad.length + plaintext.length);
  new DataView(out.buffer).setUint32(0, aad.length);
  out.set(aad, 4);
  out.set(plaintext, 4 + aad.length);
  return out;
}

/** The WebCrypto parts {@link createWebCryptoCipher} uses; `globalThis.crypto` by default. */
export type CryptoPort = Pick<typeof globalThis.crypto, 'getRandomValues' | 'subtle'>;
type WebKey = Awaited<ReturnType<CryptoPort['subtle']['importKey']>>;

/**
 * AES-256-GCM on WebCrypto: works wherever `globalThis.crypto.subtle` exists (every call
 * is asynchronous, so it is several times slower than the node:crypto cipher).
 */
export function createWebCryptoCipher(port?: CryptoPort): AeadCipher {
  const webCrypto = port ?? (globalThis as { crypto?: CryptoPort }).crypto;
  if (webCrypto?.subtle === undefined) {
    throw new ConfigurationError(
      'WebCrypto (globalThis.crypto.subtle) is not available; use Node 20 or later, or pass a cipher (createNodeCipher from eventloom/sqlite)',
    );
  }
  const subtle = webCrypto.subtle;
  type WebKeys = { aes: WebKey; iv: WebKey };
  return {
    async importKey(raw): Promise<WebKeys> {
      const master = await subtle.importKey('raw', raw, 'HKDF', false, ['deriveKey']);
      const [aes, iv] = await Promise.all([
        subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']),
        subtle.deriveKey(
          {
            name: 'HKDF',
            hash: 'SHA-256',
            salt: new Uint8Array(0),
            info: new TextEncoder().encode(SYNTHETIC_IV_INFO),
          },
          master,
          { name: 'HMAC', hash: 'SHA-256', length: 256 },
          false,
          ['sign'],
        ),
      ]);
      return { aes, iv };
    },
    async seal(key, aad, plaintext, synthetic) {
      const keys = key as WebKeys;
      const iv = synthetic
        ? new Uint8Array(
            await subtle.sign('HMAC', keys.iv, syntheticIvInput(aad, plaintext)),
          ).subarray(0, 12)
        : webCrypto.getRandomValues(new Uint8Array(12));
      const ct = new Uint8Array(
        await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, keys.aes, plaintext),
      );
      const out = new Uint8Array(12 + ct.length);
      out.set(iv);
      out.set(ct, 12);
      return out;
    },
    async open(key, aad, sealed) {
      return new Uint8Array(
        await subtle.decrypt(
          { name: 'AES-GCM', iv: sealed.subarray(0, 12), additionalData: aad },
          (key as WebKeys).aes,
          sealed.subarray(12),
        ),
      );
    },
    randomBytes: (length) => webCrypto.getRandomValues(new Uint8Array(length)),
    sha256: async (data) => new Uint8Array(await subtle.digest('SHA-256', data)),
    toBase64: (bytes) => {
      let s = '';
      for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
      return btoa(s);
    },
    fromBase64: (text) => {
      const s = atob(text);
      const out = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
      return out;
    },
  };
}
