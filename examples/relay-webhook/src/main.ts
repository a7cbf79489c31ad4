import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { loadRelayConfig, startRelay } from 'eventloom/relay';
import { insertOrders, markPaid } from './insert.js';
import { startReceiver } from './receiver.js';

const mongoUrl = process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27017';
const dbName = process.env.RELAY_DB ?? `relay_example_${Date.now().toString(36)}`;
const secret = 'whsec_ZXhhbXBsZS1zZWNyZXQtZm9yLWRvY3M=';
const stateDir = mkdtempSync(join(tmpdir(), 'eventloom-relay-'));

/** Waits for a condition the relay brings about, or fails after `ms`. */
async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const receiver = await startReceiver(secret);
try {
  // Documents that exist before the relay's first start reach the webhook through the snapshot.
  await insertOrders(mongoUrl, dbName, 3);
  console.log(`inserted 3 orders into ${dbName}.orders`);

  const config = await loadRelayConfig(join(import.meta.dirname, '..', 'relay.yaml'), {
    ...process.env,
    MONGODB_URL: mongoUrl,
    RELAY_DB: dbName,
    RELAY_NAME: dbName,
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: secret,
    RELAY_STATE: join(stateDir, 'relay-state.db'),
  });
  // port 0: /health and /metrics on any free port (the config's server.port is for `npm run relay`).
  const relay = await startRelay(config, { port: 0 });
  console.log(`relay ${relay.name} started; /health and /metrics on port ${relay.port}`);

  await until('the snapshot of 3 orders', () => receiver.changes.length >= 3);
  // Later writes travel through the change stream, from where the snapshot began.
  await markPaid(mongoUrl, dbName, 2);
  await until('the update of order 2', () =>
    receiver.changes.some((c) => c.operationType === 'update'),
  );

  await relay.stop(); // finishes in-flight deliveries and stores the resume token
  const status = relay.status();
  console.log(
    `relay stopped: ${status.processed} changes delivered, ${status.deadLettered} dead-lettered`,
  );
  assert.equal(status.deadLettered, 0);
  assert.ok(receiver.changes.every((c) => c.fullDocument?.internalNote === undefined));
  console.log('relay-webhook example: ok');
} finally {
  await receiver.close();
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 });
  await client
    .db(dbName)
    .dropDatabase()
    .catch(() => undefined);
  await client.close();
  rmSync(stateDir, { recursive: true, force: true });
}
