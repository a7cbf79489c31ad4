import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProcessLogger } from '../../src/node/processLogger.js';
import { loadAppConfig, runApp, type RunningApp } from '../../src/server/index.js';
import { sendFrom } from './realSocket.js';
import { PASSWORD, testHasher } from './serverHarness.js';

// DNS rebinding: a page on attacker.example re-points its name at 127.0.0.1 and reads the
// API with the browser's help; the only trace is the foreign Host header.
let app: RunningApp;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'eventloom-host-'));
  app = await runApp({
    config: loadAppConfig({
      PORT: '0',
      EVENTLOOM_DATA: dir,
      SEED_SAMPLE_DATA: 'false',
      PUBLIC_ORIGIN: 'https://shop.example.com',
    }),
    logger: createProcessLogger({ level: 'error', write: () => undefined }),
    hasher: testHasher(),
  });
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends `head` as written (an absolute-form target, say) and answers the status code. */
const rawStatus = (head: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(app.url);
    const socket = connect({ host: hostname, port: Number(port) }, () =>
      socket.write(`${head}Connection: close\r\n\r\n`),
    );
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Number(Buffer.concat(chunks).toString('utf8').split(' ')[1])));
    socket.on('error', reject);
  });

const withHost = (host: string, path = '/health', method = 'GET') =>
  sendFrom('127.0.0.1', `${app.url}${path}`, { method, headers: { host } });

describe('the Host allow-list', () => {
  it('refuses a foreign Host with a 421 problem that says how to allow it, on every route', async () => {
    for (const [path, method] of [
      ['/api/events', 'GET'],
      ['/api/events', 'HEAD'],
      ['/api/openapi.json', 'GET'],
      ['/', 'GET'],
      ['/health', 'GET'],
      ['/api/v1/users', 'POST'],
    ] as const) {
      const res = await withHost(`attacker.example:${new URL(app.url).port}`, path, method);
      expect(res.status, `${method} ${path}`).toBe(421);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      if (method !== 'HEAD') {
        expect(res.json()).toMatchObject({
          type: 'urn:eventloom:problem:misdirected-request',
          status: 421,
        });
        expect(res.text).toContain('PUBLIC_ORIGIN');
      }
    }
  });

  it('answers the listen address, the loopback names and PUBLIC_ORIGIN’s host', async () => {
    const port = new URL(app.url).port;
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      `[::1]:${port}`,
      'shop.example.com',
      'shop.example.com:443',
    ]) {
      const res = await withHost(host);
      expect(res.status, host).toBe(200);
    }
  });

  it('takes pages at PUBLIC_ORIGIN as its own for the cross-site check, even behind a plain-HTTP proxy', async () => {
    const registerFrom = (origin: string, username: string) =>
      sendFrom('127.0.0.1', `${app.url}/api/v1/users`, {
        method: 'POST',
        headers: { host: 'shop.example.com', origin },
        body: { username, email: `${username}@example.com`, name: username, password: PASSWORD },
      });
    const own = await registerFrom('https://shop.example.com', 'pat');
    expect(own.status, own.text).toBe(201);
    const foreign = await registerFrom('https://evil.example', 'eve');
    expect(foreign.status).toBe(403);
  });

  it('judges an absolute-form request target by its own host, which HTTP/1.1 puts before the Host header', async () => {
    const port = new URL(app.url).port;
    expect(
      await rawStatus(
        `GET http://attacker.example/api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`,
      ),
    ).toBe(421);
    expect(
      await rawStatus(
        `GET http://127.0.0.1:${port}/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`,
      ),
    ).toBe(200);
  });

  it('judges an absolute-form target that starts with the Host header but names another host by that host', async () => {
    const port = new URL(app.url).port;
    for (const [target, host] of [
      [`http://127.0.0.1:${port}@attacker.example/api/events`, `127.0.0.1:${port}`],
      ['http://localhost.attacker.example/api/events', 'localhost'],
    ]) {
      expect(await rawStatus(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\n`), target).toBe(421);
    }
  });
});
