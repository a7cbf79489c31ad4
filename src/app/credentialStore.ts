import type { DocumentStore } from '../core/index.js';

/**
 * Password hashes, outside the event log: events are immutable and get copied to every
 * consumer, so a hash in an event could never be deleted. Each hash is stored under a fresh
 * random `credentialId` that the user's events reference; writing the hash before the event
 * that references it means a crash leaves at worst an unreferenced row, never a user without
 * a password, and two concurrent password changes cannot overwrite each other's hash.
 */
export interface CredentialStore {
  save(credentialId: string, record: { userId: string; hash: string }): Promise<void>;
  hashOf(credentialId: string): Promise<string | undefined>;
  /** Deletes every hash of a user (on account deletion). */
  deleteForUser(userId: string): Promise<void>;
}

interface CredentialDoc extends Record<string, unknown> {
  id: string;
  userId: string;
  hash: string;
  createdAt: string;
}

/**
 * A credential store in any `DocumentStore` (the event store's own database by default; not
 * a read model, so no projection rebuild ever empties it).
 */
export function createCredentialStore(
  documents: DocumentStore,
  collection = 'app_credentials',
): CredentialStore {
  return {
    async save(credentialId, { userId, hash }) {
      const doc: CredentialDoc = {
        id: credentialId,
        userId,
        hash,
        createdAt: new Date().toISOString(),
      };
      await documents.put(collection, credentialId, doc);
    },
    async hashOf(credentialId) {
      return (await documents.get<CredentialDoc>(collection, credentialId))?.hash;
    },
    async deleteForUser(userId) {
      // find() returns documents without their keys, so each document carries its own id.
      const rows = await documents.find<CredentialDoc>(collection, { userId });
      for (const row of rows) await documents.delete(collection, row.id);
    },
  };
}
