import { hash, verify } from '@node-rs/argon2';

/** Hashes and checks passwords. The hash is a PHC string (`$argon2id$v=19$…`). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password and for a hash that cannot be parsed. */
  verify(hash: string, password: string): Promise<boolean>;
}

export interface Argon2Options {
  /** KiB of memory per hash. Default 19456 (19 MiB, OWASP's argon2id baseline). */
  memoryCost?: number;
  /** Passes over the memory. Default 2. */
  timeCost?: number;
  /** Default 1. */
  parallelism?: number;
}

/**
 * argon2id (the library's default algorithm) on libuv's thread pool, so hashing never blocks
 * the event loop. Lower the costs only in tests.
 *
 * @example
 * const hasher = createArgon2Hasher();
 * const stored = await hasher.hash('correct horse');
 * await hasher.verify(stored, 'correct horse'); // true
 */
export function createArgon2Hasher(options: Argon2Options = {}): PasswordHasher {
  const params = {
    memoryCost: options.memoryCost ?? 19_456,
    timeCost: options.timeCost ?? 2,
    parallelism: options.parallelism ?? 1,
  };
  return {
    hash: (password) => hash(password, params),
    async verify(stored, password) {
      try {
        return await verify(stored, password);
      } catch {
        return false;
      }
    },
  };
}
