import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { type AeadCipher, SYNTHETIC_IV_INFO } from '../core/cipher.js';

const IV = 12;
const TAG = 16;

/** The AES key and the HMAC key synthetic IVs are derived with. */
type NodeKeys = { aes: KeyObject; iv: KeyObject };

/** `syntheticIvInput` (core/cipher) fed in parts, without copying aad and plaintext together. */
function syntheticIv(key: KeyObject, aad: Uint8Array, plaintext: Uint8Array): Buffer {
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(aad.length);
  return createHmac('sha256', key)
    .update(length)
    .update(aad)
    .update(plaintext)
    .digest()
    .subarray(0, IV);
}

/**
 * AES-256-GCM on node:crypto, synchronous: the default cipher of the SQLite and MongoDB
 * stores' personal-data option. Keys are imported once as KeyObjects.
 *
 * @example
 * const shredder = createCryptoShredder({ personalData, keyStore, keyEncryptionKey, cipher: createNodeCipher() });
 */
export function createNodeCipher(): AeadCipher {
  return {
    importKey: (raw): NodeKeys => ({
      aes: createSecretKey(raw),
      iv: createSecretKey(
        Buffer.from(hkdfSync('sha256', raw, new Uint8Array(0), SYNTHETIC_IV_INFO, 32)),
      ),
    }),
    seal(key, aad, plaintext, synthetic) {
      const keys = key as NodeKeys;
      const iv = synthetic ? syntheticIv(keys.iv, aad, plaintext) : randomBytes(IV);
      const cipher = createCipheriv('aes-256-gcm', keys.aes, iv);
      cipher.setAAD(aad);
      const head = cipher.update(plaintext);
      const tail = cipher.final();
      return Buffer.concat([iv, head, tail, cipher.getAuthTag()]);
    },
    open(key, aad, sealed) {
      if (sealed.length < IV + TAG) throw new Error('sealed value too short');
      const decipher = createDecipheriv(
        'aes-256-gcm',
        (key as NodeKeys).aes,
        sealed.subarray(0, IV),
      );
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
      const head = decipher.update(sealed.subarray(IV, sealed.length - TAG));
      const tail = decipher.final();
      return tail.length === 0 ? head : Buffer.concat([head, tail]);
    },
    randomBytes: (length) => randomBytes(length),
    sha256: (data) => createHash('sha256').update(data).digest(),
    toBase64: (bytes) =>
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
    fromBase64: (text) => Buffer.from(text, 'base64'),
  };
}
