import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { emailMessageId } from '../../src/app/index.js';
import { noopLogger } from '../../src/core/index.js';
import { loadAppConfig, runApp, type RunningApp } from '../../src/server/index.js';
import { mailpitBinary, startOwnMailpit } from '../support/mailpit.js';
import { testHasher } from './serverHarness.js';

const PASSWORD = 'correct horse battery';
const dirs: string[] = [];
const running: RunningApp[] = [];

afterEach(async () => {
  for (const app of running.splice(0)) await app.close();
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<{ app: RunningApp; data: string }> {
  const data = mkdtempSync(join(tmpdir(), 'eventloom-mail-'));
  dirs.push(data);
  const config = loadAppConfig({
    PORT: '0',
    EVENTLOOM_DATA: data,
    SEED_SAMPLE_DATA: 'false',
    ADMIN_USERNAMES: 'root',
    ...env,
  });
  const app = await runApp({ config, logger: noopLogger, hasher: testHasher() });
  running.push(app);
  return { app, data };
}

async function signUp(url: string, username: string) {
  const reg = await fetch(`${url}/api/v1/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      username,
      email: `${username}@example.com`,
      name: username,
      password: PASSWORD,
    }),
  });
  expect(reg.status).toBe(201);
  const { id } = ((await reg.json()) as { user: { id: string } }).user;
  const basic = `Basic ${Buffer.from(`${username}:${PASSWORD}`).toString('base64')}`;
  return {
    id,
    get: (path: string) => fetch(`${url}${path}`, { headers: { authorization: basic } }),
  };
}

async function welcomeIdOf(app: RunningApp, userId: string): Promise<string> {
  const [registered] = await app.app.store.readStream(`user-${userId}`);
  return emailMessageId('welcome', registered!.id);
}

interface DevEmails {
  emails: { message_id: string; status: string; subject: string | null; raw: string | null }[];
}

describe('notifications in eventloom start', () => {
  const binary = mailpitBinary();
  it.skipIf(binary === undefined)(
    'sends the welcome mail over SMTP_URL once, found by its Message-ID, and keeps the dev mailbox off',
    async () => {
      const mailpit = await startOwnMailpit(binary!);
      try {
        const { app } = await start({ SMTP_URL: mailpit.smtpUrl });
        const ada = await signUp(app.url, 'ada');
        const messageId = await welcomeIdOf(app, ada.id);
        await expect.poll(() => mailpit.countByMessageId(messageId), { timeout: 10_000 }).toBe(1);
        expect((await ada.get('/api/dev/emails')).status).toBe(404);
      } finally {
        await mailpit.stop();
      }
    },
  );

  it('without SMTP_URL writes the welcome mail to <data>/outbox and lists it in the user’s dev mailbox only', async () => {
    const { app, data } = await start({});
    const ada = await signUp(app.url, 'ada');
    const bob = await signUp(app.url, 'bob');
    const root = await signUp(app.url, 'root');
    const messageId = await welcomeIdOf(app, ada.id);

    await expect
      .poll(async () => ((await (await ada.get('/api/dev/emails')).json()) as DevEmails).emails)
      .toHaveLength(1);
    const { emails } = (await (await ada.get('/api/dev/emails')).json()) as DevEmails;
    expect(emails[0]).toMatchObject({
      message_id: messageId,
      status: 'sent',
      subject: 'Welcome to the Eventloom Shop',
    });
    expect(emails[0]!.raw).toContain('ada@example.com');
    // Bob's and root's welcome mails are sent by then or moments later (one subscription).
    await expect
      .poll(() => readdirSync(join(data, 'outbox')).filter((f) => f.endsWith('.eml')))
      .toHaveLength(3);

    const theirs = (await (await bob.get('/api/dev/emails')).json()) as DevEmails;
    expect(theirs.emails.map((e) => e.raw).join()).not.toContain('ada@example.com');
    expect((await bob.get(`/api/dev/emails?user=${ada.id}`)).status).toBe(403);
    const asAdmin = await root.get(`/api/dev/emails?user=${ada.id}`);
    expect(((await asAdmin.json()) as DevEmails).emails[0]?.message_id).toBe(messageId);
  });
});
