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
  /** Imports 32 raw bytes once; the shredder caches the result per data subject. */
  importKey(raw: Uint8Array): MaybePromise<CipherKey>;
  /** Encrypts with a fresh random 96-bit IV: returns `iv ‖ ciphertext ‖ 16-byte tag`. */
  seal(key: CipherKey, aad: Uint8Array, plaintext: Uint8Array): MaybePromise<Uint8Array>;
  /** Opens what {@link seal} returned; throws when authentication fails. */
  open(key: CipherKey, aad: Uint8Array, sealed: Uint8Array): MaybePromise<Uint8Array>;
  randomBytes(length: number): Uint8Array;
  sha256(data: Uint8Array): MaybePromise<Uint8Array>;
  toBase64(bytes: Uint8Array): string;
  fromBase64(text: string): Uint8Array;
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
  return {
    importKey: (raw) => subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']),
    async seal(key, aad, plaintext) {
      const iv = webCrypto.getRandomValues(new Uint8Array(12));
      const ct = new Uint8Array(
        await subtle.encrypt(
          { name: 'AES-GCM', iv, additionalData: aad },
          key as WebKey,
          plaintext,
        ),
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
          key as WebKey,
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
