import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createCommandHandler,
  type Decider,
  type Logger,
  type SnapshotStore,
  createMemoryEventStore,
} from '../../src/core/index.js';
import { createProcessLogger } from '../../src/node/processLogger.js';

function captured(level = 'debug'): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const logger = createProcessLogger({ level, write: (line) => raw.push(line) });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('the process-edge logger', () => {
  it('writes one JSON object per line with an ISO time, the level as a word and the message', () => {
    const { logger, lines } = captured();
    logger.child({ component: 'test' }).info({ port: 3000 }, 'listening');
    expect(lines()).toEqual([
      expect.objectContaining({ level: 'info', msg: 'listening', component: 'test', port: 3000 }),
    ]);
    expect(new Date(lines()[0]!.time as string).toISOString()).toBe(lines()[0]!.time);
  });

  it('redacts passwords, secrets, master keys, emails and credential headers by path', () => {
    const { logger, lines } = captured();
    logger.warn(
      {
        password: 'pw-top',
        email: 'someone@example.test',
        masterKey: 'master-key-value',
        webhookSecret: 'whsec-value',
        user: { email: 'nested@example.test', password: 'pw-nested', name: 'kept' },
        request: { headers: { authorization: 'Basic c2VjcmV0', cookie: 'sid=abc', accept: '*/*' } },
        headers: { authorization: 'Bearer token-value', 'set-cookie': 'sid=def' },
        config: { secret: 'config-secret' },
      },
      'something happened',
    );
    const text = JSON.stringify(lines());
    for (const secret of [
      'pw-top',
      'someone@example.test',
      'master-key-value',
      'whsec-value',
      'nested@example.test',
      'pw-nested',
      'Basic c2VjcmV0',
      'sid=abc',
      'Bearer token-value',
      'sid=def',
      'config-secret',
    ]) {
      expect(text).not.toContain(secret);
    }
    const [line] = lines();
    expect(line).toMatchObject({
      password: '[redacted]',
      user: { email: '[redacted]', name: 'kept' },
      request: { headers: { authorization: '[redacted]', accept: '*/*' } },
    });
  });

  it('serializes an error field with its message instead of an empty object', () => {
    const { logger, lines } = captured();
    logger.error({ error: new Error('disk full') }, 'write failed');
    expect(lines()[0]).toMatchObject({ error: { message: 'disk full', type: 'Error' } });
  });

  it('drops lines below its level and refuses an unknown level with the allowed ones', () => {
    const { logger, lines } = captured('warn');
    logger.info({}, 'not shown');
    logger.warn({}, 'shown');
    expect(lines().map((l) => l.msg)).toEqual(['shown']);
    expect(() => createProcessLogger({ level: 'verbose' })).toThrow(
      /log level 'verbose' is not one of debug, info, warn, error, silent/,
    );
  });
});

describe('library code', () => {
  afterEach(() => vi.restoreAllMocks());

  it('logs a failed snapshot through the injected logger and writes nothing to the console', async () => {
    const consoleCalls = [
      vi.spyOn(console, 'warn'),
      vi.spyOn(console, 'error'),
      vi.spyOn(console, 'log'),
      vi.spyOn(process, 'emitWarning'),
    ];
    const { logger, lines } = captured();
    const broken: SnapshotStore = {
      load: () => Promise.reject(new Error('snapshot store down')),
      save: () => Promise.reject(new Error('snapshot store down')),
      delete: () => Promise.reject(new Error('snapshot store down')),
    };
    const counter: Decider<number, { type: 'Add' }, { type: 'Added'; data: object }> = {
      initialState: () => 0,
      evolve: (n) => n + 1,
      decide: () => [{ type: 'Added', data: {} }],
    };
    const handle = createCommandHandler({
      store: createMemoryEventStore(),
      decider: counter,
      snapshots: { store: broken, every: 1 },
      logger,
    });
    await handle('counter-1', { type: 'Add' });
    expect(lines()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        streamId: 'counter-1',
        msg: expect.stringContaining('snapshot load failed') as unknown,
      }),
    );
    for (const spy of consoleCalls) expect(spy).not.toHaveBeenCalled();
  });
});
