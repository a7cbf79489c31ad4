import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createSecretKey,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import type { AeadCipher } from '../core/cipher.js';

const IV = 12;
const TAG = 16;

/**
 * AES-256-GCM on node:crypto, synchronous: the default cipher of the SQLite and MongoDB
 * stores' personal-data option. Keys are imported once as KeyObjects.
 *
 * @example
 * const shredder = createCryptoShredder({ personalData, keyStore, keyEncryptionKey, cipher: createNodeCipher() });
 */
export function createNodeCipher(): AeadCipher {
  return {
    importKey: (raw) => createSecretKey(raw),
    seal(key, aad, plaintext) {
      const iv = randomBytes(IV);
      const cipher = createCipheriv('aes-256-gcm', key as KeyObject, iv);
      cipher.setAAD(aad);
      const head = cipher.update(plaintext);
      const tail = cipher.final();
      return Buffer.concat([iv, head, tail, cipher.getAuthTag()]);
    },
    open(key, aad, sealed) {
      if (sealed.length < IV + TAG) throw new Error('sealed value too short');
      const decipher = createDecipheriv('aes-256-gcm', key as KeyObject, sealed.subarray(0, IV));
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
