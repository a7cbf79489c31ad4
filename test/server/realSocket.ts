/**
 * HTTP requests over a real socket from a chosen loopback address (127.0.0.2, 127.0.0.3…
 * all reach a server on 127.0.0.1 on Linux), so the server sees distinct client addresses
 * the way it does in production — unlike in-process requests, which have no peer at all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { noopLogger } from '../../src/core/index.js';
import { createProcessLogger } from '../../src/node/processLogger.js';
import { createNodeServer } from '../../src/server/nodeServer.js';
import { loadAppConfig, runApp, type RunningApp } from '../../src/server/index.js';
import { testHasher } from './serverHarness.js';

export interface SocketResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): unknown;
}

export function sendFrom(
  localAddress: string,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<SocketResponse> {
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: init.method ?? 'GET',
        localAddress,
        agent: false,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...init.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as unknown,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Runs the app as `eventloom start` wires it (SQLite in a temporary data folder, any free
 * port) in-process for the tests of the calling file; `app()` is the running app.
 */
export function useRealApp(
  env: Record<string, string> = {},
  tempPrefix = 'eventloom-app-',
): { app: () => RunningApp } {
  let app: RunningApp | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), tempPrefix));
    app = await runApp({
      config: loadAppConfig({ PORT: '0', EVENTLOOM_DATA: dir, SEED_SAMPLE_DATA: 'false', ...env }),
      logger: createProcessLogger({ level: 'error', write: () => undefined }),
      hasher: testHasher(),
    });
  });
  afterAll(async () => {
    await app?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  return {
    app: () => {
      if (app === undefined)
        throw new Error('the app is not running: call useRealApp at file level');
      return app;
    },
  };
}

/** Serves `fetch` (a server's handler) on a free port of 127.0.0.1; `close` stops it. */
export async function serveOnSocket(
  fetch: (request: Request, env: unknown) => Response | Promise<Response>,
): Promise<{ base: string; close(): Promise<void> }> {
  const http = createNodeServer(fetch, noopLogger);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
