import { ConfigurationError } from './errors.js';

/** A subject's data key as stored: wrapped (encrypted) by a key-encryption key, never raw. */
export interface WrappedDataKey {
  subject: string;
  /** Random id of this data key; ciphertexts name it, so a destroyed key is told apart from tampering. */
  keyId: string;
  /** Id of the key-encryption key that wrapped it. */
  kekId: string;
  wrappedKey: Uint8Array;
  createdAt: Date;
}

/** What a key store holds for a subject: a live key, or the record that it was forgotten. */
export type DataKeyRecord =
  | ({ state: 'active' } & WrappedDataKey)
  | { state: 'forgotten'; subject: string; forgottenAt: Date };

/**
 * `'forgotten'`: the key was destroyed now; `'already-forgotten'`: it was before;
 * `'unknown'`: the subject never had a key, so nothing was done.
 */
export type ForgetOutcome = 'forgotten' | 'already-forgotten' | 'unknown';

/**
 * Where per-subject data keys live. Implementations: memory (`eventloom`), SQLite
 * (`eventloom/sqlite`), MongoDB (`eventloom/mongodb`); one contract suite covers them all.
 */
export interface KeyStore {
  get(subject: string): Promise<DataKeyRecord | undefined>;
  /**
   * Stores `key` unless the subject already has a key or was forgotten, and returns what is
   * stored now: of two racing creators, both get the winner's key.
   */
  create(key: WrappedDataKey): Promise<DataKeyRecord>;
  /**
   * Re-wraps a live key (key-encryption-key rotation) if it is still `keyId` wrapped by
   * `fromKekId`; returns whether it did.
   */
  rewrap(
    subject: string,
    expected: { keyId: string; fromKekId: string },
    next: { kekId: string; wrappedKey: Uint8Array },
  ): Promise<boolean>;
  /** Up to `limit` live keys wrapped by another key-encryption key than `kekId`. */
  listWrappedByOtherKek(kekId: string, limit: number): Promise<WrappedDataKey[]>;
  /** Destroys the subject's key for good and keeps a record that it was forgotten. */
  forget(subject: string, at: Date): Promise<ForgetOutcome>;
  close(): Promise<void>;
}

/** The key-encryption key (KEK) that wraps every data key: 32 bytes from configuration. */
export interface KeyEncryptionKey {
  readonly bytes: Uint8Array;
  /** Stored beside each wrapped key. Default: derived from the key's bytes (SHA-256, not reversible). */
  readonly id?: string;
}

const HOW_TO_MAKE =
  "generate one with: node -e \"console.log(require('crypto').randomBytes(32).toString('base64'))\"";

/**
 * Parses a key-encryption key given as base64 (or base64url) or hex of exactly 32 bytes, as
 * in `EVENTLOOM_MASTER_KEY`. A missing or malformed key is a ConfigurationError that says how
 * to make one.
 *
 * @example
 * const kek = parseKeyEncryptionKey(process.env.EVENTLOOM_MASTER_KEY, 'EVENTLOOM_MASTER_KEY');
 */
export function parseKeyEncryptionKey(
  text: string | undefined,
  source = 'the key-encryption key',
): KeyEncryptionKey {
  if (text === undefined || text.trim() === '') {
    throw new ConfigurationError(
      `${source} is missing: set it to 32 random bytes in base64 or hex; ${HOW_TO_MAKE}`,
    );
  }
  const value = text.trim();
  let bytes: Uint8Array | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(value)) {
    bytes = new Uint8Array(32);
    for (let i = 0; i < 32; i++) bytes[i] = parseInt(value.slice(i * 2, i * 2 + 2), 16);
  } else if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(value)) {
    try {
      bytes = fromBase64(value.replace(/-/g, '+').replace(/_/g, '/'));
    } catch {
      bytes = undefined;
    }
  }
  if (bytes?.length !== 32) {
    throw new ConfigurationError(
      `${source} is malformed: expected 32 bytes as base64 (44 characters) or hex (64 characters), got ${value.length} characters; ${HOW_TO_MAKE}`,
    );
  }
  return { bytes };
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
