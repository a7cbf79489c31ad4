import { MongoClient } from 'mongodb';
import { pathToFileURL } from 'node:url';

/** Writes to the collection the relay watches, as any application would: the relay needs no change there. */
export async function insertOrders(url: string, dbName: string, count: number): Promise<void> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  try {
    const orders = client.db(dbName).collection('orders');
    for (let i = 1; i <= count; i++) {
      await orders.insertOne({ number: i, total: 10 * i, status: 'placed', internalNote: 'vip' });
    }
  } finally {
    await client.close();
  }
}

export async function markPaid(url: string, dbName: string, number: number): Promise<void> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  try {
    await client
      .db(dbName)
      .collection('orders')
      .updateOne({ number }, { $set: { status: 'paid' } });
  } finally {
    await client.close();
  }
}

// `npm run insert`: three orders into relay_example.orders (or RELAY_DB).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const url = process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27017';
  const db = process.env.RELAY_DB ?? 'relay_example';
  await insertOrders(url, db, 3);
  console.log(`inserted 3 orders into ${db}.orders`);
}
