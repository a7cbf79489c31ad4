import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { noopLogger } from '../../src/core/logger.js';
import type { RelayChange } from '../../src/relay/relayChange.js';
import { parseRelayConfig } from '../../src/relay/parseRelayConfig.js';
import type { StepConfig } from '../../src/relay/relayConfig.js';
import { StreamTracker } from '../../src/relay/relayDelivery.js';
import { compileFilter } from '../../src/relay/relayFilter.js';
import { signWebhook, webhookKey } from '../../src/relay/relayHttpSink.js';
import { PipelineFactory } from '../../src/relay/relayPipeline.js';
import { Routing } from '../../src/relay/relayRouting.js';
import { compileTemplate } from '../../src/relay/relayTemplate.js';
import { isHistoryLost } from '../../src/relay/relayMongoSource.js';

const message = {
  id: 'k1',
  operationType: 'update',
  ns: { db: 'shop', coll: 'orders' },
  documentKey: { _id: { $oid: '65a1b2c3d4e5f60718293a4b' } },
  fullDocument: { status: 'paid', total: 120, password: 'x', lines: [{ sku: 'a' }] },
};

const silent = noopLogger;

async function runSteps(steps: StepConfig[], input: unknown = message): Promise<unknown> {
  const factory = new PipelineFactory({ baseDir: process.cwd(), log: silent });
  const pipeline = await factory.build(steps, 'pipeline');
  let current: unknown = structuredClone(input);
  for (const step of pipeline.steps) {
    const out = await step.run(current, {
      key: 'k1',
      change: {} as RelayChange,
      attempt: 1,
      signal: new AbortController().signal,
      log: silent,
    });
    if (out === null) return null;
    if (out !== undefined) current = out;
  }
  await factory.close();
  return current;
}

describe('filter step', () => {
  it('matches operation types, namespaces (exact, /regex/) and fields with operators', async () => {
    const pass = (f: Record<string, unknown>) => compileFilter(f, 'f')(message);
    expect(await pass({ operationType: ['insert', 'update'] })).toBe(true);
    expect(await pass({ operationType: 'delete' })).toBe(false);
    expect(await pass({ 'ns.coll': '/^ord/' })).toBe(true);
    expect(await pass({ 'fullDocument.total': { $gte: 100, $lt: 200 } })).toBe(true);
    expect(await pass({ 'fullDocument.status': { $in: ['new'] } })).toBe(false);
    expect(await pass({ 'fullDocument.missing': { $exists: false } })).toBe(true);
    expect(await pass({ 'documentKey._id': '65a1b2c3d4e5f60718293a4b' })).toBe(true);
    expect(
      await pass({ $or: [{ operationType: 'delete' }, { 'fullDocument.status': 'paid' }] }),
    ).toBe(true);
    expect(await pass({ $expr: 'fullDocument.total * 2 > 200' })).toBe(true);
    // As in MongoDB, a path through a list matches any of its elements.
    expect(await pass({ 'fullDocument.lines.sku': 'a' })).toBe(true);
    expect(await pass({ 'fullDocument.lines.sku': 'b' })).toBe(false);
  });
});

describe('map step', () => {
  it('picks, omits, renames and sets with templates (raw value for a lone {{ }})', async () => {
    const out = await runSteps([
      {
        map: {
          pick: ['operationType', 'ns', 'fullDocument'],
          omit: ['fullDocument.password'],
          rename: { fullDocument: 'order' },
          set: {
            topicHint: 'cdc.{{ns.db}}.{{ns.coll}}',
            doubled: '{{order.total * 2}}',
            source: 'mongo',
            version: 2,
          },
        },
      },
    ]);
    expect(out).toEqual({
      operationType: 'update',
      ns: { db: 'shop', coll: 'orders' },
      order: { status: 'paid', total: 120, lines: [{ sku: 'a' }] },
      topicHint: 'cdc.shop.orders',
      doubled: 240,
      source: 'mongo',
      version: 2,
    });
  });

  it('a filter that rejects ends the pipeline with null', async () => {
    expect(
      await runSteps([{ filter: { operationType: 'insert' } }, { map: { set: { x: 1 } } }]),
    ).toBeNull();
  });

  it('a template that does not parse is a configuration error naming the step', () => {
    expect(() => compileTemplate('{{ ns.( }}', 'pipeline[2].kafka.topic')).toThrow(
      /pipeline\[2\]\.kafka\.topic: expression 'ns.\(' does not parse/,
    );
  });
});

describe('http step', () => {
  it('a templated URL that comes out without http(s):// fails the change for good, without a request', async () => {
    const input = { ...message, fullDocument: { callback: 'localhost:8080/hook' } };
    await expect(
      runSteps([{ http: { url: '{{fullDocument.callback}}' } }], input),
    ).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining(
        "gave 'localhost:8080/hook', which is not an http:// or https:// URL",
      ) as unknown,
    });
  });
});

describe('Standard Webhooks signature', () => {
  it('signs id.timestamp.body with the base64 key of a whsec_ secret', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = '{"test": 2432232314}';
    const expected = createHmac('sha256', Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'))
      .update(`msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.${body}`)
      .digest('base64');
    expect(
      signWebhook(webhookKey(secret), 'msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', body),
    ).toBe(`v1,${expected}`);
    // The published Standard Webhooks test vector.
    expect(expected).toBe('g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});

describe('low-water mark', () => {
  it('checkpoints only past changes whose predecessors were all acknowledged', () => {
    const t = new StreamTracker('s', { position: 0 });
    const a = t.push({ position: 1 });
    const b = t.push({ position: 2 });
    const c = t.push({ position: 3 });
    t.complete(c);
    expect(t.committed).toEqual({ position: 0 });
    t.complete(a);
    expect(t.committed).toEqual({ position: 1 });
    t.pushDone({ position: 4 });
    expect(t.committed).toEqual({ position: 1 });
    t.complete(b);
    expect(t.committed).toEqual({ position: 4 });
    expect(t.pending()).toBe(0);
  });
});

describe('routing', () => {
  it('the most specific pipeline wins; excluded and unlisted namespaces are not watched', async () => {
    const config = parseRelayConfig({
      source: {
        mongodb: {
          url: 'mongodb://x',
          databases: {
            shop: {
              collections: {
                orders: { pipeline: [{ log: { message: 'orders' } }] },
                '/^pay/': null,
              },
              pipeline: [{ log: { message: 'shop' } }],
            },
            '/^tenant_/': { exclude: ['/^tmp/'] },
          },
        },
      },
      pipeline: [{ log: { message: 'top' } }],
    });
    const factory = new PipelineFactory({ baseDir: process.cwd(), log: silent });
    const routing = await Routing.build(config, factory, ['eventloom_relay']);
    expect(routing.route('shop', 'orders')?.name).toBe(
      'source.mongodb.databases.shop.collections.orders.pipeline',
    );
    expect(routing.route('shop', 'payments')?.name).toBe('source.mongodb.databases.shop.pipeline');
    expect(routing.route('shop', 'users')).toBeUndefined();
    expect(routing.route('tenant_a', 'things')?.name).toBe('pipeline');
    expect(routing.route('tenant_a', 'tmp1')).toBeUndefined();
    expect(routing.route('other', 'x')).toBeUndefined();
    expect(routing.watchesDatabase('eventloom_relay')).toBe(false);
    expect(routing.watchesDatabase('admin')).toBe(false);
    await factory.close();
  });
});

describe('history lost', () => {
  it('recognises ChangeStreamHistoryLost (286), ChangeStreamFatalError (280) and the message', () => {
    expect(isHistoryLost({ code: 286 })).toBe(true);
    expect(isHistoryLost({ code: 280 })).toBe(true);
    expect(isHistoryLost({ codeName: 'ChangeStreamHistoryLost' })).toBe(true);
    expect(
      isHistoryLost(
        new Error(
          'Resume of change stream was not possible, as the resume point may no longer be in the oplog.',
        ),
      ),
    ).toBe(true);
    expect(isHistoryLost({ code: 11000 })).toBe(false);
  });
});
