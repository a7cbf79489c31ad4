import { BSON, type Collection, type Document, MongoClient } from 'mongodb';
import type { ChangeMessage } from './relayChange.js';
import type {
  DeadLetter,
  LeaseRecord,
  RelayCheckpoint,
  RelayStateStore,
} from './relayStateStore.js';

interface RelayCheckpointDoc extends Document {
  _id: string;
  relay: string;
  streamKey: string;
  token?: Document;
  time?: { t: number; i: number };
  position?: number;
  snapshot?: RelayCheckpoint['snapshot'];
  updatedAt: Date;
}

interface DeadLetterDoc extends Omit<DeadLetter, 'message'> {
  _id: string;
  relay: string;
  /**
   * The message as JSON text: it is already Extended JSON, so the text keeps it byte for byte
   * (and its `$`-prefixed keys storable). Without `encoding`: an older canonical EJSON text.
   */
  message: string;
  encoding?: 'json';
}

interface LeaseDoc {
  _id: string;
  owner: string | null;
  version: number;
  renewedAt: Date;
}

/**
 * Relay state in MongoDB: collections `checkpoints`, `dead_letters` and `leases` of a
 * relay-owned database (default `eventloom_relay`), which the relay never watches. Only
 * single-document writes: no transactions needed.
 */
export async function createMongoRelayState(options: {
  client?: MongoClient;
  url?: string;
  database: string;
  relay: string;
}): Promise<RelayStateStore> {
  const owned = options.client === undefined;
  const client =
    options.client ?? new MongoClient(options.url as string, { serverSelectionTimeoutMS: 10_000 });
  if (owned) await client.connect();
  const db = client.db(options.database);
  const checkpoints: Collection<RelayCheckpointDoc> = db.collection('checkpoints');
  const deadLetters: Collection<DeadLetterDoc> = db.collection('dead_letters');
  const leases: Collection<LeaseDoc> = db.collection('leases');
  const relay = options.relay;
  const id = (key: string): string => `${relay}/${key}`;

  const toCheckpoint = (doc: RelayCheckpointDoc): RelayCheckpoint => ({
    streamKey: doc.streamKey,
    updatedAt: doc.updatedAt,
    ...(doc.token ? { token: doc.token } : {}),
    ...(doc.time ? { time: { t: Number(doc.time.t), i: Number(doc.time.i) } } : {}),
    ...(doc.position !== undefined ? { position: doc.position } : {}),
    ...(doc.snapshot ? { snapshot: doc.snapshot } : {}),
  });
  const toDeadLetter = (doc: DeadLetterDoc): DeadLetter => {
    const { _id, relay: _relay, message, encoding, ...rest } = doc;
    return {
      ...rest,
      message:
        encoding === 'json'
          ? (JSON.parse(message) as ChangeMessage)
          : (BSON.EJSON.serialize(BSON.EJSON.parse(message, { relaxed: false }), {
              relaxed: true,
            }) as ChangeMessage),
    };
  };

  return {
    description: `MongoDB database '${options.database}'`,
    async loadCheckpoint(streamKey) {
      const doc = await checkpoints.findOne({ _id: id(streamKey) });
      return doc ? toCheckpoint(doc) : undefined;
    },
    async saveCheckpoint(cp) {
      const doc: RelayCheckpointDoc = {
        _id: id(cp.streamKey),
        relay,
        streamKey: cp.streamKey,
        updatedAt: cp.updatedAt,
        ...(cp.token ? { token: cp.token } : {}),
        ...(cp.time ? { time: cp.time } : {}),
        ...(cp.position !== undefined ? { position: cp.position } : {}),
        ...(cp.snapshot ? { snapshot: cp.snapshot } : {}),
      };
      await checkpoints.replaceOne({ _id: doc._id }, doc, { upsert: true });
    },
    async listCheckpoints() {
      return (await checkpoints.find({ relay }).toArray()).map(toCheckpoint);
    },
    async deleteCheckpoints() {
      await checkpoints.deleteMany({ relay });
    },
    async addDeadLetter(entry) {
      const doc: DeadLetterDoc = {
        ...entry,
        _id: id(entry.key),
        relay,
        message: JSON.stringify(entry.message),
        encoding: 'json',
      };
      await deadLetters.replaceOne({ _id: doc._id }, doc, { upsert: true });
    },
    async listDeadLetters(opts = {}) {
      const cursor = deadLetters.find({ relay }).sort({ deadAt: 1 });
      if (opts.limit !== undefined) cursor.limit(opts.limit);
      return (await cursor.toArray()).map(toDeadLetter);
    },
    async removeDeadLetter(key) {
      await deadLetters.deleteOne({ _id: id(key) });
    },
    async readLease(): Promise<LeaseRecord | undefined> {
      const doc = await leases.findOne({ _id: relay });
      return doc ? { owner: doc.owner, version: doc.version } : undefined;
    },
    async createLease(owner) {
      try {
        await leases.insertOne({ _id: relay, owner, version: 1, renewedAt: new Date() });
        return true;
      } catch (error) {
        if ((error as { code?: unknown }).code === 11000) return false;
        throw error;
      }
    },
    async swapLease(expected, owner) {
      const result = await leases.updateOne(
        { _id: relay, version: expected },
        { $set: { owner, version: expected + 1, renewedAt: new Date() } },
      );
      return result.modifiedCount === 1;
    },
    async close() {
      if (owned) await client.close();
    },
  };
}
