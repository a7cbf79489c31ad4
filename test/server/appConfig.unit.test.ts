import { describe, expect, it } from 'vitest';
import { isConfigurationError } from '../../src/core/index.js';
import { loadAppConfig } from '../../src/server/index.js';

describe('loadAppConfig', () => {
  it('sends mail to SMTP_URL with the dev mailbox off, or to the outbox with it on, and refuses a malformed SMTP_URL naming it without its password', () => {
    expect(loadAppConfig({})).toMatchObject({ smtpUrl: undefined, devMailbox: true });
    expect(loadAppConfig({ SMTP_URL: 'smtp://127.0.0.1:1025' })).toMatchObject({
      smtpUrl: 'smtp://127.0.0.1:1025',
      devMailbox: false,
    });
    expect(loadAppConfig({ SMTP_URL: 'smtp://mx:25', DEV_MAILBOX: 'true' }).devMailbox).toBe(true);
    expect(() => loadAppConfig({ SMTP_URL: 'http://user:secret@mx/path' })).toThrow(
      'SMTP_URL="http://***@mx/path" is not valid: give the SMTP server as smtp://host:port',
    );
  });

  it('defaults to the embedded store in ./data on 127.0.0.1:3000 with an admin-only explorer', () => {
    const config = loadAppConfig({});
    expect(config.store).toMatchObject({ kind: 'sqlite' });
    expect(config.store.kind === 'sqlite' && config.store.path).toMatch(/data[/\\]eventloom\.db$/);
    expect(config.readModels).toEqual({ kind: 'sqlite' });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      explorerAccess: 'admin',
      seedSampleData: true,
    });
  });

  it('gives the shop services a 15-minute payment timeout and a 2-second carrier unless told otherwise', () => {
    expect(loadAppConfig({}).services).toEqual({
      orderPaymentTimeoutMs: 900_000,
      shippingDelayMs: 2000,
    });
    expect(
      loadAppConfig({ ORDER_PAYMENT_TIMEOUT_MS: '500', SHIPPING_DELAY_MS: '0' }).services,
    ).toEqual({ orderPaymentTimeoutMs: 500, shippingDelayMs: 0 });
  });

  it('switches to MongoDB with EVENTLOOM_STORE, taking the database from the URL or EVENTLOOM_DB', () => {
    expect(loadAppConfig({ EVENTLOOM_STORE: 'mongodb://h:27017/shop?x=1' }).store).toEqual({
      kind: 'mongodb',
      url: 'mongodb://h:27017/shop?x=1',
      dbName: 'shop',
    });
    const named = loadAppConfig({ EVENTLOOM_STORE: 'mongodb://h', EVENTLOOM_DB: 'other' });
    expect(named.store).toMatchObject({ dbName: 'other' });
    expect(named.readModels).toEqual({ kind: 'mongodb' });
  });

  it('selects PostgreSQL read models with READ_MODELS=postgres and DATABASE_URL', () => {
    const config = loadAppConfig({
      READ_MODELS: 'postgres',
      DATABASE_URL: 'postgres://u:p@db/app',
    });
    expect(config.readModels).toEqual({
      kind: 'postgres',
      connectionString: 'postgres://u:p@db/app',
      schema: 'public',
    });
  });

  it('keeps the explorer admin-only on any HOST unless EXPLORER_ACCESS opens it', () => {
    expect(loadAppConfig({ HOST: '0.0.0.0' }).explorerAccess).toBe('admin');
    expect(loadAppConfig({ HOST: '127.0.0.1', EXPLORER_ACCESS: '' }).explorerAccess).toBe('admin');
    expect(loadAppConfig({ EXPLORER_ACCESS: 'public' }).explorerAccess).toBe('public');
    expect(
      loadAppConfig({ HOST: '0.0.0.0', EXPLORER_ACCESS: 'authenticated' }).explorerAccess,
    ).toBe('authenticated');
  });

  it.each([
    [{ EVENTLOOM_STORE: 'postgres://x' }, /EVENTLOOM_STORE/],
    [{ READ_MODELS: 'redis' }, /READ_MODELS/],
    [{ READ_MODELS: 'mongodb' }, /mongodb read models live in the mongodb event store/],
    [{ PORT: 'eighty' }, /PORT/],
    [{ SESSION_SECRET: 'short' }, /at least 32 characters/],
    [{ COOKIE_SECURE: 'maybe' }, /COOKIE_SECURE/],
    [{ ALLOWED_ORIGINS: 'localhost:5173' }, /ALLOWED_ORIGINS/],
    [{ PUBLIC_ORIGIN: 'https://shop.example.com/app' }, /PUBLIC_ORIGIN.*no path/],
    [{ EXPLORER_ACCESS: 'everyone' }, /EXPLORER_ACCESS/],
    [{ EVENTLOOM_MASTER_KEY: 'not-a-key' }, /EVENTLOOM_MASTER_KEY is malformed.*randomBytes\(32\)/],
    [{ ORDER_PAYMENT_TIMEOUT_MS: '15m' }, /ORDER_PAYMENT_TIMEOUT_MS="15m".*whole number of milli/],
    [{ ORDER_PAYMENT_TIMEOUT_MS: '0' }, /ORDER_PAYMENT_TIMEOUT_MS="0".*from 1 to/],
    [{ SHIPPING_DELAY_MS: '-5' }, /SHIPPING_DELAY_MS="-5".*from 0 to 2147483647/],
    [{ SHIPPING_DELAY_MS: '9999999999' }, /SHIPPING_DELAY_MS.*24\.8 days/],
  ])('refuses %j with a configuration error naming the variable', (env, message) => {
    let error: unknown;
    try {
      loadAppConfig(env);
    } catch (e) {
      error = e;
    }
    expect(isConfigurationError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it('never repeats a MongoDB password in its error message', () => {
    expect(() => loadAppConfig({ EVENTLOOM_STORE: 'mongo://user:secret@host/db' })).toThrow(
      /\*\*\*@/,
    );
    expect(() => loadAppConfig({ EVENTLOOM_STORE: 'mongo://user:secret@host/db' })).not.toThrow(
      /secret/,
    );
  });

  it('runs the services in-process by default, even with Kafka, and refuses EVENTLOOM_SERVICES=workers without KAFKA_BROKERS', () => {
    expect(loadAppConfig({ KAFKA_BROKERS: '127.0.0.1:9092' }).serviceMode).toBe('in-process');
    const workers = loadAppConfig({ KAFKA_BROKERS: 'k:9092', EVENTLOOM_SERVICES: 'workers' });
    expect(workers.serviceMode).toBe('workers');
    expect(workers.kafkaTopicPrefix).toBe('eventloom');
    expect(() => loadAppConfig({ EVENTLOOM_SERVICES: 'workers' })).toThrow(
      /EVENTLOOM_SERVICES=workers needs KAFKA_BROKERS/,
    );
    expect(() => loadAppConfig({ EVENTLOOM_SERVICES: 'wrkers' })).toThrow(
      /EVENTLOOM_SERVICES="wrkers" is not valid: use in-process \(the default\) or workers/,
    );
    expect(loadAppConfig({ EVENTLOOM_KEY_STORE: 'mongodb://h/app' }).keyStore).toEqual({
      kind: 'mongodb',
      url: 'mongodb://h/app',
      dbName: 'app',
    });
  });
});
