import { ValidationError } from '../core/errors.js';
import type { DocumentStore, ProjectionTarget } from '../core/readModel.js';
import { UnitOfWork } from '../core/unitOfWork.js';
import { resolveProcessedEventsOptions } from './processedEventsOptions.js';

/** The collection where processed event ids are recorded (one small document per event). */
export const PROCESSED_EVENTS_COLLECTION = 'eventloom_processed_events';

export interface ProcessedEventsOptions {
  /** The read model's target (memory, SQLite, MongoDB, PostgreSQL): ids commit with its writes. */
  target: ProjectionTarget;
  /** Names this read model: ids are recorded per name, so two read models in one target stay apart. */
  name: string;
}

export interface ProcessedEvents {
  readonly name: string;
  /**
   * Runs `apply` for an event not seen before and commits its read-model writes together
   * with the event's id; a redelivered event (same id) is skipped. Resolves `true` when
   * applied, `false` for a redelivery.
   */
  once(
    event: { id: string; position?: number },
    apply: (docs: DocumentStore) => void | Promise<void>,
  ): Promise<boolean>;
  /** Whether the event id was recorded as processed. */
  has(eventId: string): Promise<boolean>;
}

/**
 * Applies each event once to a read model fed by an at-least-once source (a Kafka consumer):
 * the read-model writes and the event's id are committed as one atomic step through the
 * target's `commitClaim` (one transaction on SQLite and PostgreSQL, one synchronous step in
 * memory, a journaled claim with fenced writes on MongoDB), and that step writes nothing when
 * the id is recorded already. So two overlapping deliveries of one event — two calls at once
 * in one process, or a group member that was paused past its session timeout and resumes
 * after the partition's new owner handled the event — apply it once: the later one resolves
 * `false` and its writes are dropped.
 *
 * @example
 * const processed = createProcessedEvents({ target: createSqliteProjectionTarget(db), name: 'user-directory' });
 * startKafkaConsumer({ …, handler: (event) => processed.once(event, async (docs) => {
 *   await docs.put('users', event.streamId, { name: event.data.name });
 * }) });
 */
export function createProcessedEvents(options: ProcessedEventsOptions): ProcessedEvents {
  const { target, name } = resolveProcessedEventsOptions(options);
  const commitClaim = target.commitClaim.bind(target);
  const idOf = (eventId: string): string => `${name}:${eventId}`;
  const has = async (eventId: string): Promise<boolean> =>
    (await target.documents.get(PROCESSED_EVENTS_COLLECTION, idOf(eventId))) !== undefined;

  return {
    name,
    has,
    async once(event, apply) {
      if (typeof event?.id !== 'string' || event.id === '') {
        throw new ValidationError(
          'event.id',
          'must be a non-empty string: it is the idempotency key',
        );
      }
      // Only a shortcut for plain redeliveries; the claim below is what decides.
      if (await has(event.id)) return false;
      const docs = new UnitOfWork(target);
      await apply(docs);
      return commitClaim(
        {
          collection: PROCESSED_EVENTS_COLLECTION,
          id: idOf(event.id),
          doc: {
            readModel: name,
            eventId: event.id,
            ...(event.position === undefined ? {} : { position: event.position }),
            processedAt: new Date().toISOString(),
          },
        },
        docs.writes,
      );
    },
  };
}

/**
 * Wraps a handler so each event id is applied once through `processed` — a consumer handler
 * that is safe under redelivery.
 *
 * @example
 * handler: onceByEventId(processed, async (event, docs) => { await docs.put('users', event.streamId, …) })
 */
export function onceByEventId<E extends { id: string; position?: number }, C = unknown>(
  processed: ProcessedEvents,
  apply: (event: E, docs: DocumentStore, context: C) => void | Promise<void>,
): (event: E, context: C) => Promise<void> {
  return async (event, context) => {
    await processed.once(event, (docs) => apply(event, docs, context));
  };
}
