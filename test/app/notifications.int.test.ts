import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  APP_PERSONAL_DATA,
  createOutboxEmailSender,
  createReferenceApp,
  createSmtpEmailSender,
  type EmailSender,
  emailMessageId,
  type ReferenceApp,
} from '../../src/app/index.js';
import { DEFAULT_APP_SERVICES_CONFIG } from '../../src/app/services/appService.js';
import {
  notificationsService,
  SENT_EMAILS,
  type SentEmailRecord,
  sentEmailsOf,
} from '../../src/app/services/notifications.js';
import {
  createCryptoShredder,
  createMemoryDocuments,
  createMemoryEventStore,
  createMemoryKeyStore,
  type CryptoShreddingEventStore,
  type DocumentStore,
  noopLogger,
  runWorkflow,
  type WorkflowRunner,
  withCryptoShredding,
} from '../../src/core/index.js';
import { testHasher } from '../server/serverHarness.js';
import { mailpitBinary, startOwnMailpit } from '../support/mailpit.js';

let store: CryptoShreddingEventStore;
let app: ReferenceApp;
let documents: DocumentStore;
let outbox: string;
const runners: WorkflowRunner[] = [];

beforeEach(async () => {
  store = withCryptoShredding(
    createMemoryEventStore(),
    createCryptoShredder({
      personalData: APP_PERSONAL_DATA,
      keyStore: createMemoryKeyStore(),
      keyEncryptionKey: { bytes: new Uint8Array(32).fill(3) },
    }),
  );
  documents = createMemoryDocuments().async;
  app = createReferenceApp({
    store,
    readModels: { documents } as never,
    privateDocuments: documents,
    hasher: testHasher(),
    claimKeySecret: 'notify-secret-notify-secret-notify!',
    forget: (userId) => store.forget(userId),
  });
  outbox = await mkdtemp(join(tmpdir(), 'eventloom-notify-'));
});

afterEach(async () => {
  for (const runner of runners.splice(0)) await runner.stop();
  await store.close();
  await rm(outbox, { recursive: true, force: true });
});

/** Counts what reaches the real sender, so a test can tell "sent once" from "written once". */
function counting(sender: EmailSender): EmailSender & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    async send(email) {
      const result = await sender.send(email);
      sent.push(email.messageId);
      return result;
    },
    close: () => sender.close(),
  };
}

function startNotifications(mail: EmailSender, subscription = 'workflow-notifications') {
  const service = notificationsService({ mail, sentLog: documents })({
    store,
    shop: app.shop,
    inventory: app.shop.inventory,
    timers: documents,
    now: () => new Date(),
    config: DEFAULT_APP_SERVICES_CONFIG,
    logger: noopLogger,
  });
  const [only] = service.workflows;
  const runner = runWorkflow({
    store,
    workflow: only!.workflow,
    commands: only!.commands,
    timers: documents,
    subscription,
    retry: { maxAttempts: 5, initialDelayMs: 5, maxDelayMs: 20 },
  });
  runners.push(runner);
  return runner;
}

const register = (username: string) =>
  app.accounts.register({
    username,
    email: `${username}@example.com`,
    name: `${username} Lovelace`,
    password: 'password-123',
  });

async function shippedOrder(userId: string, username: string) {
  const actor = { userId, username, role: 'admin' as const };
  const { value: product } = await app.shop.addProduct(actor, {
    name: 'Loom',
    description: 'weaves',
    priceCents: 1250,
  });
  const { value: order } = await app.shop.placeOrder(actor, {
    items: [{ productId: product.id, quantity: 2 }],
  });
  await app.shop.payOrder(actor, order.id, { amountCents: 2500, method: 'card' });
  await app.shop.orders.markShipped(order.id, 'ship-1');
  const shipped = (await store.readStream(`order-${order.id}`)).find(
    (e) => e.type === 'OrderShipped',
  );
  return { orderId: order.id, shippedEventId: shipped!.id };
}

const outboxFiles = async () => (await readdir(outbox)).filter((f) => f.endsWith('.eml'));

describe('notifications service', () => {
  it('writes one welcome mail to the new user as an .eml named by its Message-ID, and logs it without the address', async () => {
    const mail = counting(createOutboxEmailSender({ dir: outbox }));
    const runner = startNotifications(mail);
    const { value: ada } = await register('ada');
    await runner.waitFor(await store.headPosition(), 5000);

    const registered = (await store.readStream(`user-${ada.id}`))[0]!;
    const messageId = emailMessageId('welcome', registered.id);
    expect(mail.sent).toEqual([messageId]);
    const [file] = await outboxFiles();
    const text = (await readFile(join(outbox, file!), 'utf8')).replace(/\r\n[ \t]+/g, ' ');
    expect(text).toContain(`Message-ID: ${messageId}`);
    expect(text).toContain('ada@example.com');
    expect(text).toContain('Hello ada Lovelace');

    const logged = await documents.get<SentEmailRecord>(SENT_EMAILS, messageId);
    expect(logged).toMatchObject({ status: 'sent', kind: 'welcome', userId: ada.id });
    expect(JSON.stringify(logged)).not.toContain('example.com');
    expect(JSON.stringify(logged)).not.toContain('Lovelace');
    expect(await sentEmailsOf(documents, ada.id)).toHaveLength(1);
  });

  it('sends the shipped mail with the order lines once, even when every input is delivered again', async () => {
    const first = counting(createOutboxEmailSender({ dir: outbox }));
    const runner = startNotifications(first);
    const { value: ada } = await register('ada');
    const { orderId, shippedEventId } = await shippedOrder(ada.id, 'ada');
    await runner.waitFor(await store.headPosition(), 5000);

    const shippedId = emailMessageId('order-shipped', shippedEventId);
    expect(first.sent).toHaveLength(2);
    expect(first.sent).toContain(shippedId);
    const text = await readFile(join(outbox, `${shippedId.slice(1, -1)}.eml`), 'utf8');
    expect(text).toContain(`Subject: Your order ${orderId.slice(0, 8)} has shipped`);
    expect(text).toContain('2 =C3=97 Loom'); // quoted-printable
    expect(text).toContain('Total $25.00');

    // A second subscription replays every input from the start: a redelivery of all of them.
    await runner.stop();
    const again = counting(createOutboxEmailSender({ dir: outbox }));
    const replay = startNotifications(again, 'workflow-notifications-replay');
    await replay.waitFor(await store.headPosition(), 5000);
    expect(again.sent).toEqual([]);
    expect(await outboxFiles()).toHaveLength(2);
  });

  it('sends nothing to a user erased before the mail went out, and records why', async () => {
    const mail = counting(createOutboxEmailSender({ dir: outbox }));
    const { value: ada } = await register('ada');
    const registered = (await store.readStream(`user-${ada.id}`))[0]!;
    await app.accounts.delete(app.accounts.actorOf(ada), ada.id);

    const runner = startNotifications(mail);
    await runner.waitFor(await store.headPosition(), 5000);
    expect(mail.sent).toEqual([]);
    expect(await outboxFiles()).toEqual([]);
    const messageId = emailMessageId('welcome', registered.id);
    expect(await documents.get<SentEmailRecord>(SENT_EMAILS, messageId)).toMatchObject({
      status: 'skipped',
      reason: 'recipient-erased',
      userId: ada.id,
    });
  });

  const binary = mailpitBinary();
  it.skipIf(binary === undefined)(
    'over SMTP, a failure between the server accepting the mail and the sent-log sends the same Message-ID again, which a deduplicating receiver keeps once',
    async () => {
      const mailpit = await startOwnMailpit(binary!);
      try {
        const smtp = createSmtpEmailSender({ url: mailpit.smtpUrl });
        let attempts = 0;
        const crashy = counting({
          async send(email) {
            attempts += 1;
            const result = await smtp.send(email);
            // As if the process died after the server's 250 and before the sent-log write.
            if (attempts === 1) throw new Error('lost after the SMTP accept');
            return result;
          },
          close: () => smtp.close(),
        });
        const runner = startNotifications(crashy);
        const { value: ada } = await register('ada');
        await runner.waitFor(await store.headPosition(), 10_000);
        await smtp.close();

        const registered = (await store.readStream(`user-${ada.id}`))[0]!;
        const messageId = emailMessageId('welcome', registered.id);
        expect(attempts).toBe(2); // the first try threw after the accept
        expect(crashy.sent).toEqual([messageId]);
        expect(await documents.get(SENT_EMAILS, messageId)).toMatchObject({ status: 'sent' });
        expect(await mailpit.countByMessageId(messageId)).toBe(1);
      } finally {
        await mailpit.stop();
      }
    },
  );
});
