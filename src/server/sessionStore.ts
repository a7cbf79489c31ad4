import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DocumentStore } from '../core/index.js';

export interface Session {
  /** The secret cookie value (only known to the client and in this process while in use). */
  id: string;
  userId: string;
  createdAt: string;
  expiresAt: string;
}

export interface SessionStore {
  create(userId: string): Promise<Session>;
  /** The live session for a cookie value; undefined when unknown or expired. */
  get(id: string): Promise<Session | undefined>;
  delete(id: string): Promise<void>;
  /** Ends every session of a user (password change, account deletion), but `keep`. */
  deleteForUser(userId: string, keep?: string): Promise<void>;
  /** The CSRF token bound to a session (send it back in `x-csrf-token`). */
  csrfToken(id: string): string;
  verifyCsrfToken(id: string, token: string | undefined): boolean;
}

export interface SessionStoreOptions {
  documents: DocumentStore;
  /** HMAC key for CSRF tokens: at least 32 bytes, stable across restarts. */
  secret: string | Uint8Array;
  /** Default 7 days. */
  ttlMs?: number;
  collection?: string;
  now?: () => number;
}

interface SessionDoc extends Record<string, unknown> {
  key: string;
  userId: string;
  createdAt: string;
  expiresAt: string;
}

const ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * Server-side sessions: the cookie holds 256 random bits; the store keeps only their
 * SHA-256, so a leaked database holds no usable session. Sessions survive restarts and can
 * be ended (logout, password change, deletion) — which signed stateless cookies cannot.
 */
export function createSessionStore(options: SessionStoreOptions): SessionStore {
  const { documents } = options;
  const collection = options.collection ?? 'app_sessions';
  const ttlMs = options.ttlMs ?? 7 * 24 * 3600_000;
  const now = options.now ?? Date.now;
  const keyOf = (id: string): string => createHash('sha256').update(id).digest('hex');
  const mac = (id: string): Buffer =>
    createHmac('sha256', options.secret)
      .update(`csrf:${keyOf(id)}`)
      .digest();

  return {
    async create(userId) {
      const id = randomBytes(32).toString('base64url');
      const createdAt = new Date(now()).toISOString();
      const expiresAt = new Date(now() + ttlMs).toISOString();
      const doc: SessionDoc = { key: keyOf(id), userId, createdAt, expiresAt };
      await documents.put(collection, doc.key, doc);
      return { id, userId, createdAt, expiresAt };
    },
    async get(id) {
      if (!ID.test(id)) return undefined;
      const doc = await documents.get<SessionDoc>(collection, keyOf(id));
      if (doc === undefined) return undefined;
      if (Date.parse(doc.expiresAt) <= now()) {
        await documents.delete(collection, doc.key);
        return undefined;
      }
      return { id, userId: doc.userId, createdAt: doc.createdAt, expiresAt: doc.expiresAt };
    },
    async delete(id) {
      await documents.delete(collection, keyOf(id));
    },
    async deleteForUser(userId, keep) {
      const kept = keep === undefined ? undefined : keyOf(keep);
      for (const doc of await documents.find<SessionDoc>(collection, { userId })) {
        if (doc.key !== kept) await documents.delete(collection, doc.key);
      }
    },
    csrfToken: (id) => mac(id).toString('base64url'),
    verifyCsrfToken(id, token) {
      if (token === undefined) return false;
      const expected = mac(id);
      const given = Buffer.from(token, 'base64url');
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
