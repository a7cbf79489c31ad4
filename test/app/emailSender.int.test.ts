import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createEmailSender,
  createOutboxEmailSender,
  createSmtpEmailSender,
  emailMessageId,
  isEmailDeliveryError,
  orderShippedEmail,
  outboxFileName,
  welcomeEmail,
} from '../../src/app/index.js';
import { MAILPIT_API_URL, SMTP_URL, serviceAvailable, uniqueName } from '../support/services.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'eventloom-mail-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const registered = {
  id: '0190c2f1-7a4b-7c3d-8e5f-123456789abc',
  recordedAt: new Date('2026-03-01T12:00:00.000Z'),
};
const ada = { email: 'ada@example.test', name: 'Ada Lovelace' };

describe('email templates', () => {
  it('derive the Message-ID from the causing event, so a redelivery is the same message', () => {
    const first = welcomeEmail(ada, 'ada', registered);
    expect(first.messageId).toBe(`<welcome.${registered.id}@eventloom.invalid>`);
    expect(welcomeEmail(ada, 'ada', registered)).toEqual(first);
    expect(first.date).toEqual(registered.recordedAt);
    expect(first.text).toContain('Hello Ada Lovelace');
    const shipped = orderShippedEmail(
      ada,
      {
        id: 'a1b2c3d4-0000-4000-8000-000000000000',
        items: [{ productId: 'p1', name: 'Mug', quantity: 2, unitPriceCents: 1500 }],
        totalCents: 3000,
        shipmentId: 'ship-1',
      },
      registered,
    );
    expect(shipped.messageId).toBe(emailMessageId('order-shipped', registered.id));
    expect(shipped.subject).toBe('Your order a1b2c3d4 has shipped');
    expect(shipped.text).toContain('2 × Mug — $30.00');
  });
});

describe('the outbox email sender', () => {
  it('writes one RFC 5322 .eml file named after the Message-ID, and nothing on a redelivery', async () => {
    const dir = tempDir();
    const mail = createOutboxEmailSender({ dir });
    const email = welcomeEmail(ada, 'ada', registered);
    await expect(mail.send(email)).resolves.toEqual({
      messageId: email.messageId,
      outcome: 'sent',
    });
    const name = outboxFileName(email.messageId);
    expect(name).toBe(`welcome.${registered.id}@eventloom.invalid.eml`);
    expect(readdirSync(dir)).toEqual([name]);
    const bytes = readFileSync(join(dir, name), 'utf8');
    // CRLF line ends as on the wire; long headers may be folded (RFC 5322 2.2.3).
    expect(bytes).not.toMatch(/[^\r]\n/);
    const headers = bytes.slice(0, bytes.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
    expect(headers.split('\r\n')).toEqual(
      expect.arrayContaining([
        `Message-ID: ${email.messageId}`,
        'Subject: Welcome to the Eventloom Shop',
        'To: Ada Lovelace <ada@example.test>',
        'Date: Sun, 01 Mar 2026 12:00:00 +0000',
      ]),
    );

    await expect(mail.send(email)).resolves.toMatchObject({ outcome: 'already-sent' });
    expect(readFileSync(join(dir, name), 'utf8')).toBe(bytes);
    expect(readdirSync(dir)).toEqual([name]);
    await mail.close();
  });

  it('writes a message once when two deliveries race, leaving no temporary file', async () => {
    const dir = tempDir();
    const email = welcomeEmail(ada, 'ada', { ...registered, id: 'race-1' });
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () => createOutboxEmailSender({ dir }).send(email)),
    );
    expect(outcomes.filter((o) => o.outcome === 'sent')).toHaveLength(1);
    expect(readdirSync(dir)).toEqual([outboxFileName(email.messageId)]);
  });

  it('produces the same bytes for the same event on every delivery', async () => {
    const [a, b] = [tempDir(), tempDir()];
    const email = welcomeEmail(ada, 'ada', registered);
    await createOutboxEmailSender({ dir: a }).send(email);
    await createOutboxEmailSender({ dir: b }).send(email);
    const name = outboxFileName(email.messageId);
    expect(readFileSync(join(a, name))).toEqual(readFileSync(join(b, name)));
  });

  it('is what createEmailSender picks without SMTP_URL, under <EVENTLOOM_DATA>/outbox', async () => {
    const data = tempDir();
    const mail = createEmailSender({ smtpUrl: undefined, dataDir: data });
    await mail.send(welcomeEmail(ada, 'ada', registered));
    expect(readdirSync(join(data, 'outbox'))).toHaveLength(1);
  });

  it('fails with a delivery error naming the folder when the outbox cannot be written', async () => {
    const blocked = join(tempDir(), 'blocked');
    // A file where the folder should be.
    writeFileSync(blocked, '');
    const error = await createOutboxEmailSender({ dir: join(blocked, 'outbox') })
      .send(welcomeEmail(ada, 'ada', registered))
      .catch((e: unknown) => e);
    expect(isEmailDeliveryError(error)).toBe(true);
    expect((error as Error).message).toContain(join(blocked, 'outbox'));
  });
});

describe('the SMTP email sender', () => {
  it('fails with a retryable delivery error that does not name the recipient when no server answers', async () => {
    // Nothing listens on port 1.
    const mail = createSmtpEmailSender({ url: 'smtp://127.0.0.1:1', timeoutMs: 2000 });
    const error = await mail.send(welcomeEmail(ada, 'ada', registered)).catch((e: unknown) => e);
    expect(isEmailDeliveryError(error)).toBe(true);
    expect((error as Error).message).toContain('smtp://127.0.0.1:1');
    expect((error as Error).message).not.toContain(ada.email);
    expect((error as Error).cause).toBeDefined();
    await mail.close();
  });
});

const smtpAvailable = await serviceAvailable('smtp');

interface MailpitSummary {
  ID: string;
  MessageID: string;
  Subject: string;
  To: { Name: string; Address: string }[];
}

describe.skipIf(!smtpAvailable)('the SMTP email sender with the real catcher', () => {
  it('delivers a message that the catcher shows with its Message-ID, recipient and text', async () => {
    const address = `${uniqueName('ada')}@example.test`;
    const cause = { id: uniqueName('evt'), recordedAt: new Date() };
    const email = welcomeEmail({ email: address, name: 'Ada Lovelace' }, 'ada', cause);
    const mail = createEmailSender({ smtpUrl: SMTP_URL, dataDir: tempDir() });
    await expect(mail.send(email)).resolves.toMatchObject({ outcome: 'sent' });
    await mail.close();

    const found = await (
      await fetch(`${MAILPIT_API_URL}/api/v1/search?query=${encodeURIComponent(`to:${address}`)}`)
    ).json();
    const messages = (found as { messages: MailpitSummary[] }).messages;
    expect(messages.map((m) => m.MessageID)).toEqual([email.messageId.slice(1, -1)]);
    expect(messages[0]).toMatchObject({
      Subject: 'Welcome to the Eventloom Shop',
      To: [{ Name: 'Ada Lovelace', Address: address }],
    });
    const full = (await (
      await fetch(`${MAILPIT_API_URL}/api/v1/message/${messages[0]?.ID}`)
    ).json()) as { Text: string };
    expect(full.Text).toContain('your account "ada" is ready');
  });
});
