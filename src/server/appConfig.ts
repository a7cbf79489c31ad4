import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigurationError, parseKeyEncryptionKey } from '../core/index.js';
import { type AppServicesConfig, DEFAULT_APP_SERVICES_CONFIG } from '../app/services/index.js';
import type { ExplorerAccess } from './apiRouter.js';

export type StoreConfig =
  { kind: 'sqlite'; path: string } | { kind: 'mongodb'; url: string; dbName: string };

export type ReadModelConfig =
  | { kind: 'sqlite' }
  | { kind: 'mongodb' }
  | { kind: 'postgres'; connectionString: string; schema: string };

/** Everything `eventloom start` is configured with (environment variables, see `loadAppConfig`). */
export interface AppConfig {
  dataDir: string;
  store: StoreConfig;
  readModels: ReadModelConfig;
  host: string;
  port: number;
  /** From SESSION_SECRET; else generated once and kept in the data folder. */
  sessionSecret: string | undefined;
  /** The key-encryption key from EVENTLOOM_MASTER_KEY (checked); else generated once into the data folder. */
  masterKey: string | undefined;
  /** Earlier key-encryption keys (EVENTLOOM_PREVIOUS_MASTER_KEYS, checked): data keys they wrap are re-wrapped at start. */
  previousMasterKeys: string[];
  admins: string[];
  explorerAccess: ExplorerAccess;
  allowedOrigins: string[];
  /** The origin clients reach the server at (behind a proxy, a tunnel, a port mapping), if any. */
  publicOrigin: string | undefined;
  secureCookies: boolean;
  trustProxy: boolean;
  seedSampleData: boolean;
  /** How long a write waits for the read models to include it (0: answer at once). */
  readYourWritesMs: number;
  webRoot: string;
  /** For the Kafka publisher (another module); the app itself does not use it. */
  kafkaBrokers: string | undefined;
  /** `SMTP_URL`: the notifications' mail goes there; unset: `.eml` files in `<dataDir>/outbox/`. */
  smtpUrl: string | undefined;
  /** `GET /api/dev/emails` answers (`DEV_MAILBOX`; default: on exactly when there is no `SMTP_URL`). */
  devMailbox: boolean;
  /** The shop's services (ORDER_PAYMENT_TIMEOUT_MS, SHIPPING_DELAY_MS). */
  services: AppServicesConfig;
  /**
   * `EVENTLOOM_SERVICES`: `in-process` (default, also with Kafka) runs the services in `start`;
   * `workers` leaves them to `eventloom worker <name>` processes and runs only their commands.
   */
  serviceMode: 'in-process' | 'workers';
  /** `KAFKA_TOPIC_PREFIX` (default `eventloom`): topics `<prefix>.<category>`, `<prefix>.commands`. */
  kafkaTopicPrefix: string;
  /**
   * `EVENTLOOM_KEY_STORE`: where a worker finds the app's data keys (the app's SQLite file or
   * its `mongodb://` URL); unset: this process's own store.
   */
  keyStore: StoreConfig | undefined;
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres:postgres@127.0.0.1:5432/eventloom';

/** The package's root folder (from src/server or dist/server alike). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const bad = (variable: string, value: string, expected: string): ConfigurationError =>
  new ConfigurationError(`${variable}=${JSON.stringify(value)} is not valid: ${expected}`, {
    details: { variable },
  });

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw bad(name, value, 'use true or false');
}

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Longest timer delay: JavaScript fires a longer timer at once. */
const MAX_DELAY_MS = 2_147_483_647;

function millis(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > MAX_DELAY_MS) {
    throw bad(
      name,
      text,
      `use a whole number of milliseconds from ${min} to ${MAX_DELAY_MS} (about 24.8 days); default ${fallback}`,
    );
  }
  return value;
}

function mongoDbName(url: string, env: NodeJS.ProcessEnv): string {
  const explicit = env.EVENTLOOM_DB;
  if (explicit !== undefined && explicit !== '') return explicit;
  const match = /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(url);
  return match?.[1] !== undefined ? decodeURIComponent(match[1]) : 'eventloom';
}

/** One environment variable of `eventloom start` (the configuration reference is generated from these). */
export interface AppEnvironmentVariable {
  /** The variables (several when they share a default and meaning). */
  names: readonly string[];
  /** The default, as markdown. */
  default: string;
  /** What it sets, as markdown. */
  meaning: string;
}

/** The environment variables `loadAppConfig` reads; flags (`--data`, `--port`, `--host`) override. */
export const APP_ENVIRONMENT: readonly AppEnvironmentVariable[] = [
  {
    names: ['EVENTLOOM_DATA'],
    default: '`./data`',
    meaning: 'embedded store folder (also holds the session secret)',
  },
  {
    names: ['EVENTLOOM_STORE'],
    default: 'embedded SQLite',
    meaning:
      "`mongodb://…` for MongoDB (`EVENTLOOM_DB` or the URL's path names the database, default `eventloom`)",
  },
  {
    names: ['EVENTLOOM_DB'],
    default: "the `EVENTLOOM_STORE` URL's path, else `eventloom`",
    meaning: 'the MongoDB database of the store',
  },
  {
    names: ['READ_MODELS'],
    default: "the store's kind",
    meaning: '`sqlite` (SQLite store only), `mongodb` (MongoDB store only) or `postgres`',
  },
  {
    names: ['DATABASE_URL'],
    default: '`postgres://postgres:postgres@127.0.0.1:5432/eventloom`',
    meaning: 'PostgreSQL for `READ_MODELS=postgres`',
  },
  {
    names: ['DATABASE_SCHEMA'],
    default: '`public`',
    meaning: 'its schema (created when missing)',
  },
  {
    names: ['PORT', 'HOST'],
    default: '`3000`, `127.0.0.1`',
    meaning: 'where the API listens',
  },
  {
    names: ['SESSION_SECRET'],
    default: 'generated into the data folder',
    meaning: 'CSRF-token key, 32+ characters',
  },
  {
    names: ['EVENTLOOM_MASTER_KEY'],
    default: 'generated into the data folder (`master-key`)',
    meaning: 'key-encryption key of the personal data: 32 bytes, base64 or hex',
  },
  {
    names: ['EVENTLOOM_PREVIOUS_MASTER_KEYS'],
    default: 'none',
    meaning:
      'comma-separated earlier master keys: the start re-wraps the data keys they wrap under the current one, after which they can go',
  },
  {
    names: ['ADMIN_USERNAMES'],
    default: 'none',
    meaning: 'comma-separated usernames with the admin role',
  },
  {
    names: ['EXPLORER_ACCESS'],
    default: '`admin`',
    meaning:
      'who may use the store API (events, streams, live feed): `admin` (`ADMIN_USERNAMES`), `authenticated` (any user), `public` (anyone)',
  },
  {
    names: ['ALLOWED_ORIGINS'],
    default: 'none',
    meaning: 'other origins allowed to call the API (e.g. `http://localhost:5173`)',
  },
  {
    names: ['PUBLIC_ORIGIN'],
    default: 'none',
    meaning:
      'the origin clients use (e.g. `https://shop.example.com`); its host is answered besides addresses, `localhost` and `HOST`, and its pages may call the API',
  },
  {
    names: ['COOKIE_SECURE', 'TRUST_PROXY'],
    default: '`false`',
    meaning: 'behind HTTPS / a reverse proxy',
  },
  {
    names: ['SEED_SAMPLE_DATA'],
    default: '`true`',
    meaning: 'add three sample products to an empty shop',
  },
  {
    names: ['READ_YOUR_WRITES_MS'],
    default: '`2000`',
    meaning: 'how long a write waits for the read models to include it (`0`: not at all)',
  },
  {
    names: ['WEB_ROOT'],
    default: '`<package>/dist/web`',
    meaning: 'the built web UI',
  },
  {
    names: ['KAFKA_BROKERS'],
    default: 'none',
    meaning: 'handed to the Kafka publisher when one is installed',
  },
  {
    names: ['SMTP_URL'],
    default: 'none',
    meaning:
      'where the notifications send mail (`smtp://127.0.0.1:1025`); unset: `.eml` files in `<EVENTLOOM_DATA>/outbox/`',
  },
  {
    names: ['DEV_MAILBOX'],
    default: 'on without `SMTP_URL`, else off',
    meaning: "`GET /api/dev/emails`: the signed-in user's sent mail (admins: anyone's)",
  },
  {
    names: ['ORDER_PAYMENT_TIMEOUT_MS'],
    default: '`900000`',
    meaning:
      'how long a reserved order waits for its payment before it is cancelled and its stock released',
  },
  {
    names: ['SHIPPING_DELAY_MS'],
    default: '`2000`',
    meaning:
      "the simulated carrier's delay between a paid order's shipment request and its dispatch",
  },
  {
    names: ['EVENTLOOM_SERVICES'],
    default: '`in-process`',
    meaning:
      '`workers`: the services run as `eventloom worker <name>` processes over Kafka (needs `KAFKA_BROKERS`)',
  },
  {
    names: ['KAFKA_TOPIC_PREFIX'],
    default: '`eventloom`',
    meaning: "the topics' prefix (`<prefix>.order`, `<prefix>.commands`) and the consumer groups'",
  },
  {
    names: ['EVENTLOOM_KEY_STORE'],
    default: 'the own store',
    meaning: "a worker's way to the app's data keys: the app's SQLite file or `mongodb://` URL",
  },
];

/** Reads the configuration of `eventloom start` from the environment (the variables in `APP_ENVIRONMENT`; flags override). */
export function loadAppConfig(
  env: NodeJS.ProcessEnv,
  flags: { data?: string; port?: number; host?: string } = {},
): AppConfig {
  const dataDir = resolve(flags.data ?? env.EVENTLOOM_DATA ?? 'data');

  const storeUrl = env.EVENTLOOM_STORE ?? '';
  let store: StoreConfig;
  if (storeUrl === '' || storeUrl === 'sqlite') {
    store = { kind: 'sqlite', path: join(dataDir, 'eventloom.db') };
  } else if (/^mongodb(\+srv)?:\/\//.test(storeUrl)) {
    store = { kind: 'mongodb', url: storeUrl, dbName: mongoDbName(storeUrl, env) };
  } else {
    throw bad(
      'EVENTLOOM_STORE',
      storeUrl.replace(/\/\/[^@/]*@/, '//***@'),
      'leave it unset for the embedded SQLite store, or give a mongodb:// URL',
    );
  }

  const readModelsName = env.READ_MODELS ?? '';
  let readModels: ReadModelConfig;
  if (readModelsName === '') {
    readModels = { kind: store.kind };
  } else if (readModelsName === 'postgres' || readModelsName === 'postgresql') {
    const schema = env.DATABASE_SCHEMA ?? 'public';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,50}$/.test(schema)) {
      throw bad('DATABASE_SCHEMA', schema, 'use a plain schema name (letters, digits, _)');
    }
    readModels = {
      kind: 'postgres',
      connectionString: env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
      schema,
    };
  } else if (readModelsName === 'sqlite' || readModelsName === 'mongodb') {
    if (readModelsName !== store.kind) {
      throw bad(
        'READ_MODELS',
        readModelsName,
        `${readModelsName} read models live in the ${readModelsName} event store's database; with this store use ${store.kind} or postgres`,
      );
    }
    readModels = { kind: readModelsName };
  } else {
    throw bad('READ_MODELS', readModelsName, 'use sqlite, mongodb or postgres');
  }

  const portText = flags.port !== undefined ? String(flags.port) : (env.PORT ?? '3000');
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw bad('PORT', portText, 'use a port number from 0 to 65535');
  }
  const host = flags.host ?? env.HOST ?? '127.0.0.1';

  // Events carry people's emails and names: the explorer is for admins unless opted out.
  const access =
    env.EXPLORER_ACCESS === undefined || env.EXPLORER_ACCESS === '' ? 'admin' : env.EXPLORER_ACCESS;
  if (access !== 'public' && access !== 'authenticated' && access !== 'admin') {
    throw bad('EXPLORER_ACCESS', access, 'use public, authenticated or admin');
  }

  const sessionSecret = env.SESSION_SECRET;
  if (sessionSecret !== undefined && sessionSecret.length < 32) {
    throw new ConfigurationError(
      'SESSION_SECRET must be at least 32 characters (or leave it unset to generate one in the data folder)',
      { details: { variable: 'SESSION_SECRET' } },
    );
  }

  const masterKey = env.EVENTLOOM_MASTER_KEY === '' ? undefined : env.EVENTLOOM_MASTER_KEY;
  if (masterKey !== undefined) parseKeyEncryptionKey(masterKey, 'EVENTLOOM_MASTER_KEY');
  const previousMasterKeys = list(env.EVENTLOOM_PREVIOUS_MASTER_KEYS);
  previousMasterKeys.forEach((key, i) =>
    parseKeyEncryptionKey(key, `EVENTLOOM_PREVIOUS_MASTER_KEYS[${i}]`),
  );

  for (const origin of list(env.ALLOWED_ORIGINS)) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw bad(
        'ALLOWED_ORIGINS',
        origin,
        'list origins like http://localhost:5173 (scheme, host, port; no path)',
      );
    }
  }

  const publicOrigin = env.PUBLIC_ORIGIN === '' ? undefined : env.PUBLIC_ORIGIN;
  if (publicOrigin !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(publicOrigin)) {
    throw bad(
      'PUBLIC_ORIGIN',
      publicOrigin,
      'give the origin clients use, like https://shop.example.com (scheme, host, port; no path)',
    );
  }

  const smtpUrl = env.SMTP_URL === '' ? undefined : env.SMTP_URL;
  if (smtpUrl !== undefined && !/^smtps?:\/\/[^/\s]+\/?$/.test(smtpUrl)) {
    throw bad(
      'SMTP_URL',
      smtpUrl.replace(/\/\/[^@/]*@/, '//***@'),
      'give the SMTP server as smtp://host:port (or smtps://user:password@host:465)',
    );
  }

  const kafkaBrokers = env.KAFKA_BROKERS === '' ? undefined : env.KAFKA_BROKERS;
  const serviceMode =
    env.EVENTLOOM_SERVICES === undefined || env.EVENTLOOM_SERVICES === ''
      ? 'in-process'
      : env.EVENTLOOM_SERVICES;
  if (serviceMode !== 'in-process' && serviceMode !== 'workers') {
    throw bad('EVENTLOOM_SERVICES', serviceMode, 'use in-process (the default) or workers');
  }
  if (serviceMode === 'workers' && kafkaBrokers === undefined) {
    throw new ConfigurationError(
      'EVENTLOOM_SERVICES=workers needs KAFKA_BROKERS: the workers get their events and send their commands over Kafka; set KAFKA_BROKERS=host:port, or leave EVENTLOOM_SERVICES unset to run the services in this process',
      { details: { variable: 'EVENTLOOM_SERVICES' } },
    );
  }
  const kafkaTopicPrefix =
    env.KAFKA_TOPIC_PREFIX === undefined || env.KAFKA_TOPIC_PREFIX === ''
      ? 'eventloom'
      : env.KAFKA_TOPIC_PREFIX;
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(kafkaTopicPrefix)) {
    throw bad('KAFKA_TOPIC_PREFIX', kafkaTopicPrefix, 'use 1-100 of letters, digits, ., _ and -');
  }
  const keyStoreText = env.EVENTLOOM_KEY_STORE ?? '';
  let keyStore: StoreConfig | undefined;
  if (/^mongodb(\+srv)?:\/\//.test(keyStoreText)) {
    keyStore = { kind: 'mongodb', url: keyStoreText, dbName: mongoDbName(keyStoreText, {}) };
  } else if (keyStoreText !== '') {
    keyStore = { kind: 'sqlite', path: resolve(keyStoreText) };
  }

  const rywText = env.READ_YOUR_WRITES_MS ?? '2000';
  if (!/^\d{1,6}$/.test(rywText)) {
    throw bad(
      'READ_YOUR_WRITES_MS',
      rywText,
      'use a number of milliseconds (0 to answer writes at once)',
    );
  }

  return {
    dataDir,
    store,
    readModels,
    host,
    port,
    sessionSecret,
    masterKey,
    previousMasterKeys,
    admins: list(env.ADMIN_USERNAMES),
    explorerAccess: access,
    allowedOrigins: list(env.ALLOWED_ORIGINS),
    publicOrigin: publicOrigin?.replace(/\/$/, ''),
    secureCookies: flag(env, 'COOKIE_SECURE', false),
    trustProxy: flag(env, 'TRUST_PROXY', false),
    seedSampleData: flag(env, 'SEED_SAMPLE_DATA', true),
    readYourWritesMs: Number(rywText),
    webRoot: resolve(env.WEB_ROOT ?? join(PACKAGE_ROOT, 'dist', 'web')),
    kafkaBrokers,
    serviceMode,
    kafkaTopicPrefix,
    keyStore,
    smtpUrl,
    devMailbox: flag(env, 'DEV_MAILBOX', smtpUrl === undefined),
    services: {
      orderPaymentTimeoutMs: millis(
        env,
        'ORDER_PAYMENT_TIMEOUT_MS',
        DEFAULT_APP_SERVICES_CONFIG.orderPaymentTimeoutMs,
        1,
      ),
      shippingDelayMs: millis(
        env,
        'SHIPPING_DELAY_MS',
        DEFAULT_APP_SERVICES_CONFIG.shippingDelayMs,
        0,
      ),
    },
  };
}
