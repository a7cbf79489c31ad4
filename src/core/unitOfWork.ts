import { inSpan } from './tracing.js';
import {
  type Document,
  type DocumentFilter,
  type DocumentStore,
  type DocumentWrite,
  type FindOptions,
  matchDocuments,
  type ProjectionTarget,
} from './readModel.js';

/**
 * Collects a batch's writes so they commit together with the checkpoint. Reads see the
 * batch's own pending writes over the committed state.
 */
export class UnitOfWork implements DocumentStore {
  #writes: DocumentWrite[] = [];
  readonly #target: ProjectionTarget;

  constructor(target: ProjectionTarget) {
    this.#target = target;
  }

  get size(): number {
    return this.#writes.length;
  }
  /** The pending writes, oldest first. */
  get writes(): readonly DocumentWrite[] {
    return this.#writes;
  }
  mark(): number {
    return this.#writes.length;
  }
  rollback(mark: number): void {
    this.#writes.length = mark;
  }
  /** Commits the pending writes with `position`; they are kept if the commit fails. */
  async commitTo(projection: string, position: number): Promise<void> {
    const writes = this.#writes.slice();
    await inSpan(
      `commit ${projection}`,
      {
        attributes: () => ({
          'eventloom.projection.name': projection,
          'eventloom.position': position,
          'eventloom.projection.writes': writes.length,
        }),
      },
      () => this.#target.commit(projection, position, writes),
    );
    this.#writes.splice(0, writes.length);
  }

  #pending(collection: string, id: string): DocumentWrite | undefined {
    for (let i = this.#writes.length - 1; i >= 0; i--) {
      const w = this.#writes[i] as DocumentWrite;
      if (w.collection === collection && w.id === id) return w;
    }
    return undefined;
  }

  async get<T extends Document = Document>(collection: string, id: string): Promise<T | undefined> {
    const w = this.#pending(collection, id);
    if (w) return w.op === 'put' ? (structuredClone(w.doc) as T) : undefined;
    return this.#target.documents.get<T>(collection, id);
  }

  async find<T extends Document = Document>(
    collection: string,
    filter?: DocumentFilter,
    options?: FindOptions,
  ): Promise<T[]> {
    const touched = this.#writes.some((w) => w.collection === collection);
    if (!touched) return this.#target.documents.find<T>(collection, filter, options);
    const merged = new Map(
      (await this.#target.findEntries(collection, filter)).map((e) => [e.id, e.doc] as const),
    );
    for (const w of this.#writes) {
      if (w.collection !== collection) continue;
      if (w.op === 'delete') merged.delete(w.id);
      else merged.set(w.id, structuredClone(w.doc));
    }
    return matchDocuments([...merged.values()], filter, options) as T[];
  }

  put(collection: string, id: string, doc: Document): Promise<void> {
    this.#writes.push({ op: 'put', collection, id, doc: structuredClone(doc) });
    return Promise.resolve();
  }

  delete(collection: string, id: string): Promise<void> {
    this.#writes.push({ op: 'delete', collection, id });
    return Promise.resolve();
  }
}
