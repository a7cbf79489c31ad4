import type { Collection } from 'mongodb';
import { translatingErrors } from '../core/portErrors.js';
import type { CheckpointStore, ParkedEvent, RecordedEvent } from '../core/types.js';
import { hostsOf, translateMongoError } from './mongoErrors.js';
import type { CheckpointDoc, ParkedDoc } from './mongoSchema.js';

/**
 * Durable subscription checkpoints and parked (poison) events in MongoDB.
 *
 * @example
 * const checkpoints = createMongoCheckpointStore(db.collection('eventloom_checkpoints'), db.collection('eventloom_parked'));
 */
export function createMongoCheckpointStore(
  checkpoints: Collection<CheckpointDoc>,
  parked: Collection<ParkedDoc>,
  ready: () => Promise<void> = () => Promise.resolve(),
): CheckpointStore {
  const hosts = hostsOf(checkpoints.db);
  return translatingErrors(
    checkpointStore(checkpoints, parked, ready),
    'MongoDB checkpoint store',
    (error, context) => translateMongoError(error, context, hosts),
  );
}

function checkpointStore(
  checkpoints: Collection<CheckpointDoc>,
  parked: Collection<ParkedDoc>,
  ready: () => Promise<void>,
): CheckpointStore {
  const toParked = (d: ParkedDoc): ParkedEvent => {
    const e = d.event as unknown as RecordedEvent & { recordedAt: string | Date };
    return {
      subscription: d.subscription,
      event: { ...e, recordedAt: new Date(e.recordedAt) },
      reason: d.reason,
      attempts: d.attempts,
      parkedAt: d.parkedAt,
    };
  };
  return {
    async load(name) {
      await ready();
      const doc = await checkpoints.findOne({ _id: name }, { projection: { position: 1 } });
      return doc?.position;
    },
    async save(name, position) {
      await ready();
      await checkpoints.updateOne(
        { _id: name },
        { $set: { position, updatedAt: new Date() } },
        { upsert: true },
      );
    },
    async reset(name) {
      await ready();
      await checkpoints.deleteOne({ _id: name });
    },
    async park(p) {
      await ready();
      const event = JSON.parse(JSON.stringify(p.event)) as Record<string, unknown>;
      await parked.replaceOne(
        { _id: `${p.subscription}\u0000${p.event.id}` },
        {
          subscription: p.subscription,
          eventId: p.event.id,
          position: p.event.position,
          event,
          reason: p.reason,
          attempts: p.attempts,
          parkedAt: p.parkedAt,
        },
        { upsert: true },
      );
    },
    async listParked(subscription) {
      await ready();
      const docs = await parked
        .find(subscription === undefined ? {} : { subscription })
        .sort({ position: 1 })
        .toArray();
      return docs.map(toParked);
    },
    async unpark(subscription, eventId) {
      await ready();
      await parked.deleteOne({ _id: `${subscription}\u0000${eventId}` });
    },
  };
}
