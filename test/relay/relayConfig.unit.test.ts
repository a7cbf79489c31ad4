import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isConfigurationError } from '../../src/core/errors.js';
import { loadRelayConfig } from '../../src/relay/loadRelayConfig.js';
import { parseRelayConfig } from '../../src/relay/parseRelayConfig.js';
import { substituteEnv } from '../../src/relay/relayEnv.js';

const minimal = {
  source: { mongodb: { url: 'mongodb://127.0.0.1:27017' } },
  pipeline: [{ log: {} }],
};

function problemOf(input: unknown): string {
  try {
    parseRelayConfig(input);
  } catch (error) {
    expect(isConfigurationError(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('relay config validation', () => {
  it('accepts the DESIGN.md example shape and fills in the name', () => {
    const config = parseRelayConfig(
      {
        source: {
          mongodb: {
            url: 'mongodb://127.0.0.1:27017',
            databases: { shop: { collections: ['orders', 'payments'] } },
          },
        },
        pipeline: [
          { filter: { operationType: ['insert', 'update', 'replace', 'delete'] } },
          { http: { url: 'http://127.0.0.1:8080/hook', secret: 's' } },
          { kafka: { topic: 'cdc.{{ns.db}}.{{ns.coll}}' } },
        ],
      },
      { defaultName: 'orders-relay' },
    );
    expect(config.name).toBe('orders-relay');
    expect(config.pipeline).toHaveLength(3);
  });

  it('names the exact path of an unknown step and suggests the right one', () => {
    const message = problemOf({ ...minimal, pipeline: [{ log: {} }, { htp: { url: 'x' } }] });
    expect(message).toContain("pipeline[1].htp: unknown step 'htp'");
    expect(message).toContain("did you mean 'http'?");
  });

  it('names the path of a wrong option inside a per-collection pipeline', () => {
    const message = problemOf({
      source: {
        mongodb: {
          url: 'mongodb://x',
          databases: {
            shop: { collections: { orders: { pipeline: [{ http: { url: 'u', timeout: 5 } }] } } },
          },
        },
      },
    });
    expect(message).toContain(
      "source.mongodb.databases.shop.collections.orders.pipeline[0].http: unknown option 'timeout'",
    );
  });

  it('rejects a misspelt operation type in a filter with a suggestion', () => {
    const message = problemOf({ ...minimal, pipeline: [{ filter: { operationType: ['insrt'] } }] });
    expect(message).toContain('pipeline[0].filter.operationType');
    expect(message).toContain("did you mean 'insert'?");
  });

  it('rejects an invalid regex and a step with two keys', () => {
    const message = problemOf({
      source: { mongodb: { url: 'mongodb://x', databases: { '/(/': {} } } },
      pipeline: [{ log: {}, http: { url: 'u' } }],
    });
    expect(message).toContain('not a valid regular expression');
    expect(message).toContain('pipeline[0]: a step has exactly one key');
  });

  it('requires a pipeline somewhere for every watched namespace', () => {
    expect(problemOf({ source: { mongodb: { url: 'mongodb://x' } } })).toContain(
      'pipeline: is required',
    );
    expect(() =>
      parseRelayConfig({
        source: {
          mongodb: { url: 'mongodb://x', databases: { shop: { pipeline: [{ log: {} }] } } },
        },
      }),
    ).not.toThrow();
  });

  it('reports a missing url and wrong types with what was found', () => {
    const message = problemOf({
      source: { mongodb: {} },
      pipeline: [{ log: {} }],
      lease: { ttlMs: 'x' },
    });
    expect(message).toMatch(/source/);
    expect(message).toContain('lease.ttlMs: expected number, got "x"');
  });
});

describe('relay config durations', () => {
  it('refuses a duration longer than a JavaScript timer can wait, which would fire at once', () => {
    const message = problemOf({
      ...minimal,
      checkpoints: { intervalMs: 1e10 },
      lease: { ttlMs: '10000000000' },
      pipeline: [{ http: { url: 'http://127.0.0.1:1/hook', timeoutMs: 2 ** 31 } }],
    });
    expect(message).toMatch(/checkpoints\.intervalMs: must be at most 2147483647 ms/);
    expect(message).toMatch(/lease\.ttlMs: must be at most 2147483647 ms/);
    expect(message).toMatch(/pipeline\[0\]\.http\.timeoutMs: must be at most 2147483647 ms/);
  });
});

describe('relay config collections', () => {
  const withCollections = (collections: unknown) => ({
    ...minimal,
    source: { mongodb: { url: 'mongodb://127.0.0.1:27017', databases: { shop: { collections } } } },
  });

  it('an empty collections entry (null, [] or {}) says how to list collections or watch them all', () => {
    for (const empty of [null, [], {}]) {
      expect(problemOf(withCollections(empty))).toContain(
        'source.mongodb.databases.shop.collections: is empty, so nothing would be watched; list collection names or /regex/, or leave collections out to watch every collection of shop',
      );
    }
  });
});

describe('relay config webhook URLs', () => {
  const withUrl = (url: string) => ({ ...minimal, pipeline: [{ http: { url } }] });

  it('a webhook URL without http:// or https:// is a config error naming the step and the fix', () => {
    expect(problemOf(withUrl('localhost:8080/hook'))).toContain(
      "pipeline[0].http.url: 'localhost:8080/hook' has no http:// or https:// scheme; write http://localhost:8080/hook",
    );
    expect(problemOf(withUrl('127.0.0.1:8080/hook'))).toContain('write http://127.0.0.1:8080/hook');
    expect(problemOf(withUrl('ftp://example.com/x'))).toMatch(
      /pipeline\[0\]\.http\.url: 'ftp:\/\/example\.com\/x' has no http:\/\/ or https:\/\/ scheme/,
    );
    expect(problemOf(withUrl('http://'))).toMatch(
      /pipeline\[0\]\.http\.url: 'http:\/\/' is not a URL/,
    );
  });

  it('accepts http and https URLs, and templates whose scheme comes from the message', () => {
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'HTTPS://hooks.example.com/{{ns.coll}}',
      'http://{{ns.db}}.internal/hook',
      '{{fullDocument.callbackUrl}}',
    ])
      expect(() => parseRelayConfig(withUrl(url)), url).not.toThrow();
  });
});

describe('relay config ${ENV} substitution', () => {
  it('substitutes variables, defaults and escapes', () => {
    expect(
      substituteEnv({ a: '${A}', b: ['x-${B:-dflt}'], c: 'cost $${5}', d: 3 }, { A: 'one' }),
    ).toEqual({ a: 'one', b: ['x-dflt'], c: 'cost ${5}', d: 3 });
  });

  it('names the config path and the variable when one is missing', () => {
    expect(() =>
      substituteEnv({ pipeline: [{ http: { secret: '${WEBHOOK_SECRET}' } }] }, {}),
    ).toThrow(
      /pipeline\[0\]\.http\.secret: environment variable WEBHOOK_SECRET is not set; export WEBHOOK_SECRET=/,
    );
  });

  it('substitutes variables in keys too: a database named ${DB_NAME} is the value of DB_NAME', () => {
    const config = parseRelayConfig(
      substituteEnv(
        {
          source: {
            mongodb: {
              url: 'mongodb://127.0.0.1:27017',
              databases: { '${DB_NAME}': { collections: { '${COLL:-orders}': null } } },
            },
          },
          pipeline: [{ log: {} }],
        },
        { DB_NAME: 'shop' },
      ),
    );
    const source = config.source as { mongodb: { databases?: Record<string, unknown> } };
    expect(source.mongodb.databases).toEqual({ shop: { collections: { orders: null } } });
    expect(() => substituteEnv({ databases: { '${MISSING_DB}': {} } }, {})).toThrow(
      /databases: environment variable MISSING_DB is not set/,
    );
  });

  it('takes numbers and booleans from the environment for numeric and yes/no options', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-config-'));
    const file = join(dir, 'numbers.yaml');
    writeFileSync(
      file,
      [
        'source:',
        '  mongodb:',
        '    url: mongodb://127.0.0.1:27017',
        '    maxAwaitTimeMS: "${AWAIT_MS}"',
        'pipeline:',
        '  - kafka:',
        '      topic: t',
        '      createTopics: ${CREATE}',
        '      partitions: ${PARTS}',
        'lease:',
        '  ttlMs: ${TTL}',
        '  enabled: ${LEASE}',
        'server:',
        '  port: ${PORT}',
        'delivery:',
        '  retry:',
        '    maxAttempts: ${ATTEMPTS}',
      ].join('\n'),
    );
    const config = await loadRelayConfig(file, {
      AWAIT_MS: '250',
      CREATE: 'false',
      PARTS: '6',
      TTL: '5000',
      LEASE: 'true',
      PORT: '0',
      ATTEMPTS: '3',
    });
    expect(config.lease).toEqual({ ttlMs: 5000, enabled: true });
    expect(config.server).toEqual({ port: 0 });
    expect(config.delivery?.retry?.maxAttempts).toBe(3);
    expect(config.pipeline?.[0]).toEqual({
      kafka: { topic: 't', createTopics: false, partitions: 6 },
    });
    expect((config.source as { mongodb: { maxAwaitTimeMS?: number } }).mongodb.maxAwaitTimeMS).toBe(
      250,
    );
    await expect(
      loadRelayConfig(file, {
        AWAIT_MS: 'soon',
        CREATE: 'false',
        PARTS: '6',
        TTL: '5000',
        LEASE: 'true',
        PORT: '0',
        ATTEMPTS: '3',
      }),
    ).rejects.toThrow(/source\.mongodb\.maxAwaitTimeMS: expected number, got "soon"/);
  });

  it('leaves pipeline secrets alone when asked to (dlq list runs no step), but not the source', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-config-'));
    const file = join(dir, 'secrets.yaml');
    writeFileSync(
      file,
      [
        'source: { mongodb: { url: "${MONGO_URL}" } }',
        'pipeline:',
        '  - http: { url: "http://127.0.0.1:1/hook", secret: "${WEBHOOK_SECRET}" }',
      ].join('\n'),
    );
    await expect(loadRelayConfig(file, { MONGO_URL: 'mongodb://127.0.0.1:27017' })).rejects.toThrow(
      /WEBHOOK_SECRET is not set/,
    );
    const config = await loadRelayConfig(
      file,
      { MONGO_URL: 'mongodb://127.0.0.1:27017' },
      { pipelineVariables: 'optional' },
    );
    expect(config.pipeline?.[0]).toMatchObject({ http: { secret: '${WEBHOOK_SECRET}' } });
    await expect(loadRelayConfig(file, {}, { pipelineVariables: 'optional' })).rejects.toThrow(
      /source\.mongodb\.url: environment variable MONGO_URL is not set/,
    );
  });

  it('loads YAML files with substitution, names the line of a syntax error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-config-'));
    const good = join(dir, 'orders.yaml');
    writeFileSync(
      good,
      [
        'source:',
        '  mongodb:',
        '    url: ${TEST_RELAY_URL}',
        'pipeline:',
        '  - http: { url: "http://127.0.0.1:1/hook", secret: "${TEST_RELAY_SECRET:-s3cret}" }',
      ].join('\n'),
    );
    const config = await loadRelayConfig(good, { TEST_RELAY_URL: 'mongodb://h:1' });
    expect(config.name).toBe('orders');
    expect('mongodb' in config.source && config.source.mongodb.url).toBe('mongodb://h:1');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'source:\n  mongodb: [\n');
    await expect(loadRelayConfig(bad)).rejects.toThrow(/is not valid YAML at line \d+/);
    await expect(loadRelayConfig(join(dir, 'missing.yaml'))).rejects.toThrow(/cannot be read/);
  });

  it('the shipped example config (README) is valid', async () => {
    const example = join(import.meta.dirname, '../../src/relay/deploy/relay.example.yaml');
    const config = await loadRelayConfig(example, { WEBHOOK_SECRET: 'whsec_c2VjcmV0' });
    expect(config.name).toBe('shop-cdc');
  });

  it('loads a JS module config (default export, or a function returning it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-config-'));
    const file = join(dir, 'relay.config.mjs');
    writeFileSync(
      file,
      `export default async () => ({ name: 'mod', source: { mongodb: { url: 'mongodb://h' } }, pipeline: [{ log: {} }] });`,
    );
    expect((await loadRelayConfig(file)).name).toBe('mod');
  });
});
