import { Binary, type Collection, type Db } from 'mongodb';
import { StoreClosedError } from '../core/errors.js';
import type { DataKeyRecord, ForgetOutcome, KeyStore } from '../core/keyStore.js';
import { hostsOf, isDuplicateKey, translateMongoError } from './mongoErrors.js';

interface DataKeyDoc {
  _id: string;
  keyId?: string;
  kekId?: string;
  wrappedKey?: Binary;
  createdAt?: Date;
  forgottenAt?: Date;
}

export interface MongoKeyStoreOptions {
  /** Default `eventloom`: the collection is `<prefix>_data_keys`. */
  collectionPrefix?: string;
}

const toRecord = (d: DataKeyDoc): DataKeyRecord =>
  d.forgottenAt !== undefined
    ? { state: 'forgotten', subject: d._id, forgottenAt: d.forgottenAt }
    : {
        state: 'active',
        subject: d._id,
        keyId: d.keyId!,
        kekId: d.kekId!,
        wrappedKey: Uint8Array.from(d.wrappedKey!.buffer),
        createdAt: d.createdAt!,
      };

/**
 * Per-subject data keys in MongoDB, one document per subject in `<prefix>_data_keys`; a
 * forget removes the wrapped key from the document and keeps the date it was forgotten.
 *
 * @example
 * const store = createMongoEventStore({ url, dbName: 'app' });
 * const keyStore = createMongoKeyStore(store.db);
 */
export function createMongoKeyStore(db: Db, options: MongoKeyStoreOptions = {}): KeyStore {
  const keys: Collection<DataKeyDoc> = db.collection<DataKeyDoc>(
    `${options.collectionPrefix ?? 'eventloom'}_data_keys`,
  );
  let closed = false;
  const run = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    if (closed) throw new StoreClosedError('key store');
    try {
      return await f();
    } catch (error) {
      throw translateMongoError(error, what, hostsOf(db));
    }
  };
  const live = { forgottenAt: { $exists: false } };
  return {
    get: (subject) =>
      run('Reading a data key', async () => {
        const d = await keys.findOne({ _id: subject });
        return d === null ? undefined : toRecord(d);
      }),
    create: (key) =>
      run('Storing a data key', async () => {
        try {
          await keys.insertOne({
            _id: key.subject,
            keyId: key.keyId,
            kekId: key.kekId,
            wrappedKey: new Binary(key.wrappedKey),
            createdAt: key.createdAt,
          });
        } catch (error) {
          // Another creator won the race (or the subject was forgotten): theirs stands.
          if (!isDuplicateKey(error)) throw error;
        }
        return toRecord((await keys.findOne({ _id: key.subject }))!);
      }),
    rewrap: (subject, expected, next) =>
      run('Re-wrapping a data key', async () => {
        const r = await keys.updateOne(
          { _id: subject, keyId: expected.keyId, kekId: expected.fromKekId, ...live },
          { $set: { kekId: next.kekId, wrappedKey: new Binary(next.wrappedKey) } },
        );
        return r.modifiedCount === 1;
      }),
    listWrappedByOtherKek: (kekId, limit) =>
      run('Listing data keys', async () =>
        (
          await keys
            .find({ kekId: { $ne: kekId }, ...live })
            .limit(limit)
            .toArray()
        ).map((d) => {
          const { state: _state, ...key } = toRecord(d) as Extract<
            DataKeyRecord,
            { state: 'active' }
          >;
          return key;
        }),
      ),
    forget: (subject, at) =>
      run('Forgetting a data key', async (): Promise<ForgetOutcome> => {
        const r = await keys.updateOne(
          { _id: subject, ...live },
          {
            $set: { forgottenAt: at },
            $unset: { keyId: '', kekId: '', wrappedKey: '', createdAt: '' },
          },
        );
        if (r.modifiedCount === 1) return 'forgotten';
        return (await keys.findOne({ _id: subject })) === null ? 'unknown' : 'already-forgotten';
      }),
    close: () => {
      closed = true;
      return Promise.resolve();
    },
  };
}
