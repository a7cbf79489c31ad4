import { ValidationError } from './errors.js';
import type { RecordedEvent } from './types.js';

/** A JSON document in a read-model collection. */
export type Document = Record<string, unknown>;

export interface FindOptions {
  /** Sort by one top-level field. */
  sort?: { field: string; direction?: 'asc' | 'desc' };
  limit?: number;
}

/** Equality match on top-level fields: `{ username: 'ada' }`. */
export type DocumentFilter = Record<string, string | number | boolean | null>;

/**
 * The portable read-model API projections write through and queries read from. The same
 * projection runs on memory, SQLite, MongoDB or PostgreSQL targets.
 *
 * @example
 * await docs.put('users', 'u1', { id: 'u1', username: 'ada' });
 * const ada = await docs.find('users', { username: 'ada' });
 */
export interface DocumentStore {
  get<T extends Document = Document>(collection: string, id: string): Promise<T | undefined>;
  find<T extends Document = Document>(
    collection: string,
    filter?: DocumentFilter,
    options?: FindOptions,
  ): Promise<T[]>;
  put(collection: string, id: string, doc: Document): Promise<void>;
  delete(collection: string, id: string): Promise<void>;
}

/** The same API, synchronous: what inline projections get inside an append's transaction. */
export interface SyncDocumentStore {
  get<T extends Document = Document>(collection: string, id: string): T | undefined;
  find<T extends Document = Document>(
    collection: string,
    filter?: DocumentFilter,
    options?: FindOptions,
  ): T[];
  put(collection: string, id: string, doc: Document): void;
  delete(collection: string, id: string): void;
}

export type DocumentWrite =
  | { op: 'put'; collection: string; id: string; doc: Document }
  | { op: 'delete'; collection: string; id: string };

/**
 * A document whose creation marks a unit of writes as done (e.g. a processed event id): it is
 * created together with the writes, and only if it does not exist yet.
 */
export interface DocumentClaim {
  collection: string;
  id: string;
  doc: Document;
}

/**
 * Where an async projection's read model lives. `commit` stores the writes of a batch
 * together with the projection's checkpoint, so a crash or a redelivery never applies an
 * event twice.
 */
export interface ProjectionTarget {
  readonly documents: DocumentStore;
  /** Like `documents.find`, with each document's id (used to overlay a batch's pending writes). */
  findEntries(
    collection: string,
    filter?: DocumentFilter,
    options?: FindOptions,
  ): Promise<{ id: string; doc: Document }[]>;
  loadCheckpoint(projection: string): Promise<number | undefined>;
  commit(projection: string, position: number, writes: readonly DocumentWrite[]): Promise<void>;
  /**
   * Creates `claim` and applies `writes` as one atomic unit, only if the claim's document does
   * not exist: resolves `true` when committed, `false` (nothing written) when it existed. The
   * check and the record are one step, so two overlapping deliveries of one event cannot both
   * apply. Every built-in target has it; `createProcessedEvents` requires it.
   */
  commitClaim?(claim: DocumentClaim, writes: readonly DocumentWrite[]): Promise<boolean>;
  /** Deletes the projection's collections and its checkpoint (for a rebuild). */
  reset(projection: string, collections: readonly string[]): Promise<void>;
  close?(): Promise<void>;
}

/**
 * A projection builds read-model documents from events.
 *
 * @example
 * const usernames: Projection = {
 *   name: 'usernames', collections: ['usernames'], eventTypes: ['UserRegistered'],
 *   async handle(e, docs) { await docs.put('usernames', e.data.username, { userId: e.streamId }) },
 * };
 */
export interface Projection {
  name: string;
  /** Collections this projection owns; a rebuild empties them. */
  collections: readonly string[];
  /** Only these event types reach `handle` (all when omitted). */
  eventTypes?: readonly string[];
  handle(event: RecordedEvent, docs: DocumentStore): void | Promise<void>;
}

/**
 * A projection run inside the append's transaction, so the read model and the events commit
 * together. Its handler is synchronous (stores without synchronous transactions cannot offer
 * inline projections).
 */
export interface InlineProjection {
  name: string;
  collections: readonly string[];
  eventTypes?: readonly string[];
  handle(event: RecordedEvent, docs: SyncDocumentStore): void;
}

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks a filter or sort field: every target accepts only plain top-level names, so a
 * query that works on one target works on all (and none is spliced into SQL unchecked).
 */
export function checkFieldName(field: string, path: string): string {
  if (typeof field !== 'string' || !FIELD_NAME.test(field)) {
    throw new ValidationError(
      path,
      `'${String(field)}' is not a plain field name (letters, digits, _); filter and sort on top-level fields only`,
    );
  }
  return field;
}

/**
 * Applies `filter`, `sort` and `limit` to documents in memory (shared by buffered reads).
 * A `null` filter value matches a missing field too, as in every durable target.
 */
export function matchDocuments<T extends Document>(
  docs: Iterable<T>,
  filter: DocumentFilter | undefined,
  options: FindOptions | undefined,
): T[] {
  let out = [...docs];
  if (filter) {
    const entries = Object.entries(filter);
    for (const [k] of entries) checkFieldName(k, 'filter');
    out = out.filter((d) => entries.every(([k, v]) => (d[k] ?? null) === v));
  }
  const sort = options?.sort;
  if (sort) {
    checkFieldName(sort.field, 'options.sort.field');
    const dir = sort.direction === 'desc' ? -1 : 1;
    out.sort((a, b) => {
      const x = a[sort.field] as string | number;
      const y = b[sort.field] as string | number;
      return x === y ? 0 : x > y ? dir : -dir;
    });
  }
  if (options?.limit !== undefined) out = out.slice(0, options.limit);
  return out;
}
