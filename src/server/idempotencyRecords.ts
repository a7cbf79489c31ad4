import { createHash } from 'node:crypto';
import type { DocumentStore } from '../core/index.js';
import { HttpProblem } from './problem.js';

/**
 * Remembers which request each Idempotency-Key was first used for, so a key reused for a
 * different request is refused (422) instead of silently answering the first result.
 */
export interface IdempotencyRecords {
  /**
   * Claims `key` within `scope` (its user) for the request `fingerprint` describes;
   * throws the 422 problem when the key was claimed for another fingerprint.
   */
  claim(scope: string, key: string, fingerprint: unknown): Promise<void>;
}

interface RecordDoc extends Record<string, unknown> {
  fingerprint: string;
  at: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

/** JSON with object keys sorted: the same body in another key order is the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Records live in `documents` (private state) under hashes: no key or body is kept. */
export function createIdempotencyRecords(
  documents: DocumentStore,
  collection = 'app_idempotency',
): IdempotencyRecords {
  // Claims in flight in this process: two concurrent requests with one key see each other
  // before either record is written.
  const pending = new Map<string, string>();
  return {
    async claim(scope, key, fingerprint) {
      const id = sha256(`${scope}\u0000${key}`);
      const print = sha256(canonical(fingerprint));
      const earlier =
        pending.get(id) ?? (await documents.get<RecordDoc>(collection, id))?.fingerprint;
      if (earlier !== undefined && earlier !== print) {
        throw new HttpProblem('idempotency-key-reused', {
          detail:
            'This Idempotency-Key was already used for another request (another route or body); send a new key for a new request (a retry must repeat the request exactly)',
          errors: [
            {
              pointer: 'header:Idempotency-Key',
              field: 'headers.idempotency-key',
              message: 'was used before for a different request',
            },
          ],
        });
      }
      if (earlier !== undefined) return;
      pending.set(id, print);
      try {
        await documents.put(collection, id, { fingerprint: print, at: new Date().toISOString() });
      } finally {
        pending.delete(id);
      }
    },
  };
}
