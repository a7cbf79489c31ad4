// The privacy promise of the reference app, checked the way an outside client would: a real
// `eventloom start` process over real HTTP, then the raw bytes of its data folder.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaTestKit } from '../kafka/kafkaTestKit.js';
import { serviceAvailable, uniqueName } from '../support/services.js';
import { type EventloomProcess, startEventloom } from './eventloomProcess.js';

const PASSWORD = 'correct horse battery';

interface Person {
  username: string;
  email: string;
  name: string;
  id?: string;
}

const admin: Person = {
  username: 'root',
  email: 'root.admin@privacy.test',
  name: 'Rootname Admin',
};
const alice: Person = {
  username: 'aliceprivate',
  email: 'alice.first@privacy.test',
  name: 'Alicename Liddell',
};
const aliceNewEmail = 'alice.second@privacy.test';
const bob: Person = {
  username: 'bobp',
  email: 'bob.builder@privacy.test',
  name: 'Bobname Builder',
};
const carol: Person = {
  username: 'carolp',
  email: 'carol.singer@privacy.test',
  name: 'Carolname Singer',
};

type Reader = { label: string; who?: Person };

const basic = (p: Person): string =>
  `Basic ${Buffer.from(`${p.username}:${PASSWORD}`).toString('base64')}`;

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function call(
  server: EventloomProcess,
  method: string,
  path: string,
  options: { as?: Person; body?: unknown } = {},
): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(options.as !== undefined ? { authorization: basic(options.as) } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
}

/** The live feed from position 0 until it has sent the event at `head`. */
async function readLive(server: EventloomProcess, head: number, as?: Person): Promise<string> {
  const res = await fetch(`${server.url}/api/events/live?from=0`, {
    headers: as !== undefined ? { authorization: basic(as) } : {},
  });
  expect(res.status).toBe(200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while (!text.includes(`id: ${head}\n`)) {
    const next = await reader.read();
    if (next.done) break;
    text += next.value;
  }
  await reader.cancel();
  expect(text, 'the live feed sent every event').toContain(`id: ${head}\n`);
  return text;
}

/**
 * The shop's live feed from the start of the log, read until it has sent a product added just
 * before: products are public and the feed sends in log order, so by then it has sent every
 * earlier event this reader may see.
 */
async function readShopFeed(server: EventloomProcess, as?: Person): Promise<string> {
  const added = await call(server, 'POST', '/api/shop/products', {
    as: admin,
    body: { name: `Sentinel ${Date.now()}`, price_cents: 1 },
  });
  expect(added.status, await added.clone().text()).toBe(201);
  const { product } = (await added.json()) as { product: { id: string } };
  const res = await fetch(`${server.url}/api/shop/live?from=0`, {
    headers: as !== undefined ? { authorization: basic(as) } : {},
  });
  expect(res.status).toBe(200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while (!text.includes(product.id)) {
    const next = await reader.read();
    if (next.done) break;
    text += next.value;
  }
  await reader.cancel();
  expect(text, 'the shop feed sent the newest product').toContain(product.id);
  return text;
}

/** Every GET route the OpenAPI document lists, with each path parameter filled in every known way. */
async function readEverything(
  server: EventloomProcess,
  reader: Reader,
  ids: {
    users: string[];
    usernames: string[];
    products: string[];
    orders: string[];
    streams: string[];
  },
): Promise<{ path: string; body: string }[]> {
  const doc = (await (await call(server, 'GET', '/api/openapi.json')).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const workflows = (await (await call(server, 'GET', '/api/workflows', { as: admin })).json()) as {
    instances: { workflow: string; instanceId: string }[];
  };
  expect(workflows.instances.length, 'the shop services ran workflows').toBeGreaterThan(0);
  const candidates: Record<string, string[]> = {
    '/api/workflows/{name}/{instanceId}': workflows.instances.map(
      (i) => `/api/workflows/${encodeURIComponent(i.workflow)}/${encodeURIComponent(i.instanceId)}`,
    ),
    '/api/dev/emails': ['/api/dev/emails', ...ids.users.map((id) => `/api/dev/emails?user=${id}`)],
    '/api/v1/users/{id}': [...ids.users, ...ids.usernames],
    '/api/v2/tweets/{user}': [...ids.users, ...ids.usernames],
    '/api/shop/products/{id}': ids.products,
    '/api/shop/orders/{id}': ids.orders,
    '/api/shop/orders/{id}/payments': ids.orders,
    '/api/streams/{id}': ids.streams,
    '/api/streams/{id}/state': ids.streams,
  };
  const seen: { path: string; body: string }[] = [];
  for (const [template, operations] of Object.entries(doc.paths)) {
    if (operations.get === undefined) continue;
    if (template === '/api/events/live') {
      const headNow = (
        (await (await call(server, 'GET', '/api/events?limit=1', { as: admin })).json()) as {
          head: number;
        }
      ).head;
      seen.push({ path: template, body: await readLive(server, headNow, reader.who) });
      continue;
    }
    if (template === '/api/shop/live') {
      seen.push({ path: template, body: await readShopFeed(server, reader.who) });
      continue;
    }
    const paths =
      template === '/api/workflows/{name}/{instanceId}' || template === '/api/dev/emails'
        ? candidates[template]!
        : template.includes('{')
          ? (candidates[template] ?? expect.fail(`no ids to try for ${template}`)).map((id) =>
              template.replace(/\{[^}]+\}/, encodeURIComponent(id)),
            )
          : [template === '/api/events' ? '/api/events?limit=1000' : template];
    for (const path of paths) {
      const res = await call(server, 'GET', path, { as: reader.who });
      seen.push({ path: `${path} (${reader.label}, ${res.status})`, body: await res.text() });
    }
  }
  return seen;
}

const containing = (seen: { path: string; body: string }[], needle: string): string[] =>
  seen.filter((s) => s.body.toLowerCase().includes(needle.toLowerCase())).map((s) => s.path);

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

describe('the reference app keeps personal data private and erases a deleted account', async () => {
  const kafka = await serviceAvailable('kafka');
  it('shows emails only to their owner and admins, and after a deletion leaves no trace of the person in any response or data file', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'eventloom-privacy-'));
    dirs.push(dataDir);
    const server = await startEventloom({
      dataDir,
      env: { ADMIN_USERNAMES: admin.username, EXPLORER_ACCESS: 'public' },
    });
    try {
      // Registered anonymously, and while signed in as someone else.
      for (const [person, as] of [
        [admin, undefined],
        [alice, undefined],
        [bob, undefined],
        [carol, bob],
      ] as const) {
        const res = await call(server, 'POST', '/api/v1/users', {
          as,
          body: {
            username: person.username,
            email: person.email,
            name: person.name,
            password: PASSWORD,
          },
        });
        expect(res.status, await res.clone().text()).toBe(201);
        person.id = ((await res.json()) as { user: { id: string } }).user.id;
      }
      // Alice tweets, orders, pays and changes her email: her data reaches every stream kind.
      expect(
        (
          await call(server, 'POST', '/api/v2/tweets', {
            as: alice,
            body: { body: 'hello from alice' },
          })
        ).status,
      ).toBe(201);
      const products = (await (await call(server, 'GET', '/api/shop/products')).json()) as {
        products: { id: string }[];
      };
      const productIds = products.products.map((p) => p.id);
      const order = await call(server, 'POST', '/api/shop/orders', {
        as: alice,
        body: { items: [{ product_id: productIds[0], quantity: 1 }] },
      });
      expect(order.status, await order.clone().text()).toBe(201);
      const placed = (await order.json()) as { order: { id: string; total_cents: number } };
      const orderId = placed.order.id;
      const orderTotal = placed.order.total_cents;
      // The inventory service reserves the order after it is placed; only then can it be paid.
      await expect
        .poll(
          async () =>
            (
              (await (
                await call(server, 'GET', `/api/shop/orders/${orderId}`, { as: alice })
              ).json()) as { order: { status: string } }
            ).order.status,
          { timeout: 20_000, interval: 100 },
        )
        .toBe('reserved');
      const paid = await call(server, 'POST', `/api/shop/orders/${orderId}/payments`, {
        as: alice,
        body: { amount_cents: orderTotal, method: 'card' },
      });
      expect(paid.status, await paid.clone().text()).toBeLessThan(300);
      const changed = await call(server, 'PUT', `/api/v1/users/${alice.id}`, {
        as: alice,
        body: { email: aliceNewEmail },
      });
      expect(changed.status, await changed.clone().text()).toBe(200);

      const allEvents = async () =>
        (
          (await (await call(server, 'GET', '/api/events?limit=1000', { as: admin })).json()) as {
            events: { streamId: string }[];
          }
        ).events;
      // After the deletion Alice's username is not asked for: a 404 may echo the URL.
      const ids = (people: Person[]) =>
        allEvents().then((events) => ({
          users: [admin, alice, bob, carol].map((p) => p.id!),
          usernames: people.map((p) => p.username),
          products: productIds,
          orders: [orderId],
          streams: [...new Set(events.map((e) => e.streamId))],
        }));
      const before = await ids([admin, alice, bob, carol]);
      const aliceEmails = [alice.email, aliceNewEmail];

      for (const reader of [{ label: 'anonymous' }, { label: 'bob', who: bob }] as Reader[]) {
        const seen = await readEverything(server, reader, before);
        for (const email of [...aliceEmails, carol.email, admin.email]) {
          expect(containing(seen, email), `${email} shown to ${reader.label}`).toEqual([]);
        }
      }
      // The owner and admins do see it (so the checks above could fail).
      const asAlice = await readEverything(server, { label: 'alice', who: alice }, before);
      expect(containing(asAlice, aliceNewEmail)).toContain(
        `/api/v1/users/${alice.id} (alice, 200)`,
      );
      expect(containing(asAlice, bob.email)).toEqual([]);
      const asAdmin = await readEverything(server, { label: 'admin', who: admin }, before);
      expect(containing(asAdmin, alice.email).length).toBeGreaterThan(0);
      expect(containing(asAdmin, carol.email).length).toBeGreaterThan(0);

      const outbox = join(dataDir, 'outbox');
      const mailTo = async (email: string) => {
        const mail = await filesUnder(outbox).catch(() => []);
        const texts = await Promise.all(mail.map((f) => readFile(f, 'latin1')));
        return texts.filter((t) => t.toLowerCase().includes(email.toLowerCase())).length;
      };
      // Her welcome mail went out (to the outbox, no SMTP_URL here) before she is deleted.
      await expect.poll(() => mailTo(alice.email)).toBeGreaterThan(0);

      const deleted = await call(server, 'DELETE', `/api/v1/users/${alice.id}`, { as: alice });
      expect(deleted.status, await deleted.clone().text()).toBe(204);

      const after = await ids([admin, bob, carol]);
      for (const reader of [
        { label: 'anonymous' },
        { label: 'bob', who: bob },
        { label: 'admin', who: admin },
      ] as Reader[]) {
        const seen = await readEverything(server, reader, after);
        for (const trace of [...aliceEmails, alice.name, alice.username]) {
          expect(containing(seen, trace), `${trace} shown to ${reader.label}`).toEqual([]);
        }
      }
      // The notifications service destroys the deleted person's mail in the outbox (it
      // reacts to the deletion like any event, so moments later).
      await expect.poll(() => mailTo(alice.email)).toBe(0);
    } finally {
      await server.stop();
    }

    const files = await filesUnder(dataDir);
    expect(files.map((f) => basename(f))).toEqual(
      expect.arrayContaining(['eventloom.db', 'master-key', 'session-secret']),
    );
    // The generated key-encryption key is readable by its owner only.
    expect((await stat(join(dataDir, 'master-key'))).mode & 0o777).toBe(0o600);
    for (const file of files) {
      const bytes = (await readFile(file)).toString('latin1').toLowerCase();
      // The outbox (no SMTP_URL) is the mail as sent: the living users' mail carries their
      // addresses there by design; the deleted person's must be gone from it too.
      const sentMail = file.startsWith(join(dataDir, 'outbox'));
      for (const trace of [
        ...[alice.email, aliceNewEmail, alice.name, alice.username],
        ...(sentMail ? [] : [bob.email, carol.email, admin.email]),
      ]) {
        expect(bytes.includes(trace.toLowerCase()), `${trace} in ${file}`).toBe(false);
      }
    }
  });

  it.skipIf(!kafka)(
    'publishes personal fields to Kafka encrypted, so the topics hold no plaintext email or name',
    async () => {
      const kit = new KafkaTestKit();
      const server = await startEventloom({ env: { KAFKA_BROKERS: '127.0.0.1:9092' } });
      try {
        const who = uniqueName('dora')
          .replace(/[^a-z0-9]/gi, '')
          .slice(0, 24)
          .toLowerCase();
        const person = { username: who, email: `${who}@privacy.test`, name: `Name ${who}` };
        const res = await call(server, 'POST', '/api/v1/users', {
          body: { ...person, password: PASSWORD },
        });
        expect(res.status, await res.clone().text()).toBe(201);
        const { user } = (await res.json()) as { user: { id: string } };
        // The shared topic of the user category: this user's message arrives, encrypted.
        await expect
          .poll(
            async () =>
              (await kit.readTopic('eventloom.user')).filter((m) => m.key === `user-${user.id}`),
            { timeout: 30_000, interval: 250 },
          )
          .toHaveLength(1);
        const [message] = (await kit.readTopic('eventloom.user')).filter(
          (m) => m.key === `user-${user.id}`,
        );
        expect(message?.value).toContain('aes256gcm.v2');
        for (const trace of [person.email, person.name, person.username]) {
          expect(message?.value).not.toContain(trace);
        }
      } finally {
        await server.stop();
        await kit.cleanup();
      }
    },
  );
});
