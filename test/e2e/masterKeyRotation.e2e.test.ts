// Rotating the key-encryption key of a running installation, the way an operator would: real
// `eventloom start` processes on one data folder, with the old and new EVENTLOOM_MASTER_KEY.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type EventloomOptions, startEventloom } from './eventloomProcess.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const newKey = (): string => randomBytes(32).toString('base64');
const user = {
  username: 'rotator',
  email: 'rotator@kek.test',
  name: 'Rota Tor',
  password: 'correct horse battery',
};
const basic = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;

/** Why the server refused to start, or `'started'` (after stopping it) when it did not refuse. */
const refusal = (options: EventloomOptions): Promise<string> =>
  startEventloom(options).then(
    async (server) => {
      await server.stop();
      return 'started';
    },
    (error: Error) => error.message,
  );

async function ownEmail(url: string): Promise<unknown> {
  const response = await fetch(`${url}/api/v1/users/${user.username}`, {
    headers: { authorization: basic },
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { user_details: { email?: string }[] };
  return body.user_details[0]?.email;
}

describe('rotating EVENTLOOM_MASTER_KEY', () => {
  it('refuses a new key alone with how to rotate, rotates with EVENTLOOM_PREVIOUS_MASTER_KEYS, and then needs only the new key', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'eventloom-kek-'));
    dirs.push(dataDir);
    const oldKey = newKey();
    const currentKey = newKey();

    const first = await startEventloom({ dataDir, env: { EVENTLOOM_MASTER_KEY: oldKey } });
    try {
      const created = await fetch(`${first.url}/api/v1/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(user),
      });
      expect(created.status).toBe(201);
    } finally {
      await first.stop();
    }

    // A new key alone cannot open the data keys: the operator is told which variable to use.
    expect(await refusal({ dataDir, env: { EVENTLOOM_MASTER_KEY: currentKey } })).toMatch(
      /EVENTLOOM_PREVIOUS_MASTER_KEYS/,
    );

    const rotating = await startEventloom({
      dataDir,
      env: { EVENTLOOM_MASTER_KEY: currentKey, EVENTLOOM_PREVIOUS_MASTER_KEYS: oldKey },
    });
    try {
      expect(await ownEmail(rotating.url)).toBe(user.email);
    } finally {
      await rotating.stop();
    }

    // The start above re-wrapped every data key: the old key can go.
    const rotated = await startEventloom({ dataDir, env: { EVENTLOOM_MASTER_KEY: currentKey } });
    try {
      expect(await ownEmail(rotated.url)).toBe(user.email);
    } finally {
      await rotated.stop();
    }
  });

  it('refuses a malformed EVENTLOOM_PREVIOUS_MASTER_KEYS entry with its position and how to make a key', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'eventloom-kek-'));
    dirs.push(dataDir);
    const why = await refusal({
      dataDir,
      env: { EVENTLOOM_MASTER_KEY: newKey(), EVENTLOOM_PREVIOUS_MASTER_KEYS: `${newKey()},short` },
    });
    expect(why).toMatch(/EVENTLOOM_PREVIOUS_MASTER_KEYS\[1\] is malformed.*randomBytes\(32\)/);
  });
});
