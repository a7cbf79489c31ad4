import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The Mailpit binary `scripts/services.sh up smtp` built: MAILPIT_BIN, this checkout's
 * `.services/bin`, or that of the checkout whose node_modules this one uses (a worktree).
 */
export function mailpitBinary(): string | undefined {
  const candidates = [
    process.env.MAILPIT_BIN,
    join(REPO, '.services/bin/mailpit'),
    join(dirname(realpathSync(join(REPO, 'node_modules'))), '.services/bin/mailpit'),
  ];
  return candidates.find((c): c is string => c !== undefined && existsSync(c));
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface OwnMailpit {
  smtpUrl: string;
  apiUrl: string;
  /** The messages Mailpit holds with this Message-ID (angle brackets optional). */
  countByMessageId(messageId: string): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A private Mailpit (in-memory database, free ports) started with `--ignore-duplicate-ids`,
 * which drops a message whose Message-ID it already holds, as real receivers do. The shared
 * catcher on :1025 is left alone.
 */
export async function startOwnMailpit(binary: string): Promise<OwnMailpit> {
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(
    binary,
    [
      '--database',
      '',
      '--smtp',
      `127.0.0.1:${smtpPort}`,
      '--listen',
      `127.0.0.1:${httpPort}`,
      '--ignore-duplicate-ids',
      '--disable-version-check',
      '--smtp-auth-accept-any',
      '--smtp-auth-allow-insecure',
      '--smtp-disable-rdns',
    ],
    { stdio: 'ignore' },
  );
  const apiUrl = `http://127.0.0.1:${httpPort}`;
  await expect
    .poll(
      () =>
        fetch(`${apiUrl}/api/v1/info`).then(
          (r) => r.ok,
          () => false,
        ),
      {
        timeout: 15_000,
      },
    )
    .toBe(true);
  return {
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    apiUrl,
    async countByMessageId(messageId) {
      const bare = messageId.replace(/^<|>$/g, '');
      const response = await fetch(
        `${apiUrl}/api/v1/search?query=${encodeURIComponent(`message-id:"${bare}"`)}`,
      );
      const body = (await response.json()) as { messages_count: number };
      return body.messages_count;
    },
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
