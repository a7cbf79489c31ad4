/**
 * An in-process API on the in-memory store, with cheap argon2 costs and captured logs:
 * requests go through Hono's `app.request`, no socket involved.
 */
import { createArgon2Hasher, createReferenceApp, type ReferenceApp } from '../../src/app/index.js';
import { createProcessLogger } from '../../src/node/processLogger.js';
import {
  createMemoryDocuments,
  createMemoryEventStore,
  type MemoryDocuments,
  type MemoryEventStore,
} from '../../src/core/index.js';
import { createServer, type EventloomServer, type ServerOptions } from '../../src/server/index.js';

/** argon2id with test costs (1 MiB, one pass): the same code path, fast. */
export const testHasher = () => createArgon2Hasher({ memoryCost: 1024, timeCost: 1 });

export interface Harness {
  store: MemoryEventStore;
  app: ReferenceApp;
  server: EventloomServer;
  logs: string[];
  /** Sessions and password hashes (private state). */
  privateDocuments: MemoryDocuments;
  request(path: string, init?: RequestInit): Promise<Response>;
  /** JSON request with optional credentials. */
  call(
    method: string,
    path: string,
    options?: {
      body?: unknown;
      session?: Session;
      basic?: [string, string];
      headers?: Record<string, string>;
    },
  ): Promise<Response>;
  register(username: string, password?: string): Promise<{ id: string; etag: string }>;
  login(username: string, password?: string): Promise<Session>;
  close(): Promise<void>;
}

export interface Session {
  cookie: string;
  csrf: string;
}

export const PASSWORD = 'correct horse battery';

export async function createHarness(overrides: Partial<ServerOptions> = {}): Promise<Harness> {
  const store = createMemoryEventStore();
  const readModels = createMemoryDocuments();
  const privateDocuments = createMemoryDocuments();
  const logs: string[] = [];
  const logger = createProcessLogger({ level: 'debug', write: (line) => logs.push(line) });
  const app = createReferenceApp({
    store,
    readModels: readModels.target,
    privateDocuments: privateDocuments.async,
    hasher: testHasher(),
    admins: ['root'],
    claimKeySecret: 'test-secret-test-secret-test-secret!',
    onWarning: (message, error) => logger.warn({ error }, message),
  });
  app.start();
  const server = createServer({
    app,
    readModels: readModels.target,
    sessionDocuments: privateDocuments.async,
    sessionSecret: 'test-secret-test-secret-test-secret!',
    logger,
    explorerAccess: 'public',
    storeKind: 'memory',
    readModelKind: 'memory',
    ...overrides,
  });
  await server.start();

  const request = async (path: string, init?: RequestInit) =>
    server.app.request(`http://localhost${path}`, init);

  const harness: Harness = {
    store,
    app,
    server,
    logs,
    privateDocuments,
    request,
    call(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.body !== undefined) headers['content-type'] ??= 'application/json';
      if (options.session !== undefined) {
        headers.cookie = options.session.cookie;
        headers['x-csrf-token'] ??= options.session.csrf;
      }
      if (options.basic !== undefined) {
        headers.authorization = `Basic ${Buffer.from(options.basic.join(':')).toString('base64')}`;
      }
      return request(path, {
        method,
        headers,
        ...(options.body !== undefined
          ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }
          : {}),
      });
    },
    async register(username, password = PASSWORD) {
      const res = await harness.call('POST', '/api/v1/users', {
        body: { username, email: `${username}@example.com`, name: `${username} Example`, password },
      });
      if (res.status !== 201)
        throw new Error(`register ${username}: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { user: { id: string } };
      return { id: body.user.id, etag: res.headers.get('etag') ?? '' };
    },
    async login(username, password = PASSWORD) {
      const res = await harness.call('POST', '/api/session', { body: { username, password } });
      if (res.status !== 200)
        throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
      const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const body = (await res.json()) as { csrf_token: string };
      return { cookie, csrf: body.csrf_token };
    },
    async close() {
      await server.close();
      await app.stop();
      await store.close();
    },
  };
  return harness;
}
