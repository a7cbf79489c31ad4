import { z } from 'zod';
import { MAX_TIMER_MS } from '../core/optionChecks.js';

/**
 * The relay's configuration, validated. Every option documents its default; the YAML/JSON
 * shape is the same (see README, "Relay").
 */

export const OPERATION_TYPES = [
  'insert',
  'update',
  'replace',
  'delete',
  'drop',
  'rename',
  'dropDatabase',
  'invalidate',
  'snapshot',
  'event',
] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];

/** A collection or database name, or a `/regex/flags` string. */
const namePattern = z
  .string()
  .min(1, 'must be a name or a /regex/ (an empty string matches nothing)')
  .superRefine((value, ctx) => {
    if (!isRegexLiteral(value)) return;
    try {
      toRegExp(value);
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `is not a valid regular expression (${(error as Error).message}); write /pattern/flags`,
      });
    }
  });

export function isRegexLiteral(value: string): boolean {
  return /^\/.+\/[dgimsuy]*$/s.test(value);
}

export function toRegExp(value: string): RegExp {
  const m = /^\/(.+)\/([dgimsuy]*)$/s.exec(value);
  if (m === null) throw new Error(`'${value}' is not a /regex/`);
  return new RegExp(m[1] as string, (m[2] ?? '').replace('g', ''));
}

/**
 * `${VAR}` substitution yields text, so numeric and yes/no options also take the text of a
 * number (`"5000"`) or of `true` / `false`.
 */
function numberFromText<T extends z.ZodType>(schema: T) {
  return z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v),
    schema,
  );
}
const booleanFromText = z.preprocess(
  (v) => (v === 'true' ? true : v === 'false' ? false : v),
  z.boolean(),
);

const positiveInt = numberFromText(z.number().int().positive());

/** A delay in ms: JavaScript fires a longer timer at once, so a huge value would spin. */
const durationMs = (min: number) =>
  numberFromText(
    z
      .number()
      .int()
      .min(min)
      .max(MAX_TIMER_MS, {
        message: `must be at most ${MAX_TIMER_MS} ms (about 24.8 days): JavaScript fires a longer timer at once`,
      }),
  );

const retrySchema = z.strictObject({
  /** Attempts per change before it goes to the dead-letter store. */
  maxAttempts: positiveInt.optional(),
  initialDelayMs: durationMs(1).optional(),
  maxDelayMs: durationMs(1).optional(),
});
export type RetryOptions = z.infer<typeof retrySchema>;

const filterSchema = z.record(z.string(), z.unknown());
const mapSchema = z.strictObject({
  /** Keep only these dotted paths (applied first). */
  pick: z.array(z.string().min(1)).optional(),
  /** Remove these dotted paths. */
  omit: z.array(z.string().min(1)).optional(),
  /** Move a path to another: `{ fullDocument: doc }`. */
  rename: z.record(z.string().min(1), z.string().min(1)).optional(),
  /** Set paths: strings are templates (`{{ JSONata }}`), other values literals. Applied last. */
  set: z.record(z.string().min(1), z.unknown()).optional(),
});
const logSchema = z.strictObject({
  /** Default `info`. */
  level: z.enum(['debug', 'info', 'warn', 'error']).optional(),
  /** Log the whole message (default) or only these dotted paths. */
  fields: z.array(z.string().min(1)).optional(),
  /** Log line text. Default `relay change`. */
  message: z.string().optional(),
});
const httpSchema = z.strictObject({
  /** Webhook URL (a template: `{{ns.coll}}` works). */
  url: z.string().min(1),
  /** Default `POST`. */
  method: z.enum(['POST', 'PUT', 'PATCH']).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** Standard Webhooks signing secret (`whsec_<base64>` or any string). No signature when absent. */
  secret: z.string().min(1).optional(),
  /** Per-request timeout. Default 10 000 ms. */
  timeoutMs: durationMs(1).optional(),
  /** Requests in flight to this endpoint. Default 16. Changes of one document stay in order. */
  concurrency: positiveInt.optional(),
  retry: retrySchema.optional(),
});
const kafkaSchema = z.strictObject({
  /** Brokers: `host:port` list or comma-separated string. Default `KAFKA_BROKERS` or 127.0.0.1:9092. */
  brokers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** Topic template. Default `cdc.{{ns.db}}.{{ns.coll}}`. */
  topic: z.string().min(1).optional(),
  /** Dotted path of the message key. Default `documentKey._id`. */
  key: z.string().min(1).optional(),
  clientId: z.string().min(1).optional(),
  /** Create missing topics (the broker may refuse auto-creation). Default true. */
  createTopics: booleanFromText.optional(),
  /** Partitions of created topics. Default 3. */
  partitions: positiveInt.optional(),
  replicationFactor: positiveInt.optional(),
  /** Messages per produce request. Default 500. */
  batchSize: positiveInt.optional(),
  /** Wait this long for a batch to fill. Default 2 ms. */
  lingerMs: durationMs(0).optional(),
  /**
   * Largest record batch the topic takes. Default: the topic's `max.message.bytes` as the
   * broker reports it. A bigger message is dead-lettered at once.
   */
  maxMessageBytes: positiveInt.optional(),
  retry: retrySchema.optional(),
});
const customSchema = z.strictObject({
  /** Path of an ES module (relative to the config file) whose default export makes the step. */
  module: z.string().min(1),
  /** Passed to the module's factory. */
  options: z.unknown().optional(),
  /** Name in logs and dead letters. Default the module's file name. */
  name: z.string().min(1).optional(),
  retry: retrySchema.optional(),
});

export type FilterStepConfig = z.infer<typeof filterSchema>;
export type MapStepConfig = z.infer<typeof mapSchema>;
export type LogStepConfig = z.infer<typeof logSchema>;
export type HttpStepConfig = z.infer<typeof httpSchema>;
export type KafkaStepConfig = z.infer<typeof kafkaSchema>;
export type CustomStepConfig = z.infer<typeof customSchema>;

/** One pipeline step: an object with exactly one of these keys. */
export type StepConfig =
  | { filter: FilterStepConfig }
  | { map: MapStepConfig }
  | { log: LogStepConfig }
  | { http: HttpStepConfig }
  | { kafka: KafkaStepConfig }
  | { custom: CustomStepConfig };

export const STEP_SCHEMAS = {
  filter: filterSchema,
  map: mapSchema,
  log: logSchema,
  http: httpSchema,
  kafka: kafkaSchema,
  custom: customSchema,
} as const;
export const STEP_KINDS = Object.keys(STEP_SCHEMAS) as (keyof typeof STEP_SCHEMAS)[];

const pipelineSchema = z.array(z.unknown()).min(1, 'must list at least one step');

const collectionEntrySchema = z.strictObject({ pipeline: pipelineSchema.optional() });
const databaseSchema = z.strictObject({
  /**
   * Collections to watch: a list of names or /regex/, or a map from name (or /regex/) to
   * `{ pipeline }`. Omitted: every collection, including ones created later.
   */
  collections: z
    .union([z.array(namePattern), z.record(namePattern, collectionEntrySchema.nullable())])
    .nullable()
    .optional(),
  /** Collections never watched (names or /regex/). */
  exclude: z.array(namePattern).optional(),
  pipeline: pipelineSchema.optional(),
});

const mongoSourceSchema = z.strictObject({
  /** Connection string. */
  url: z.string().min(1),
  /**
   * Databases to watch: a map from name (or /regex/) to `{ collections, exclude, pipeline }`.
   * Omitted: every database except admin, config, local and the relay's own state database.
   */
  databases: z.record(namePattern, databaseSchema.nullable()).optional(),
  /** Databases never watched (names or /regex/). */
  excludeDatabases: z.array(namePattern).optional(),
  /**
   * How to open change streams. `auto` (default): one stream for the deployment or per
   * database on a replica set; one per collection (re-listed every `discoveryIntervalMs`)
   * where the server has only collection streams.
   */
  watch: z.enum(['auto', 'deployment', 'database', 'collection']).optional(),
  /** Look for new databases/collections this often in `collection` mode. Default 2000 ms. */
  discoveryIntervalMs: durationMs(1).optional(),
  /** `updateLookup` (default): updates carry the current document. `off`: only the delta. */
  fullDocument: z.enum(['updateLookup', 'off']).optional(),
  /** `auto` (default): pre-images where the server has them (6.0+, enabled per collection). */
  preImages: z.enum(['auto', 'off']).optional(),
  /** `initial`: copy existing documents first (when no checkpoint exists). Default `never`. */
  snapshot: z.enum(['never', 'initial']).optional(),
  /** The resume point fell off the oplog. Default `fail`. */
  onHistoryLost: z.enum(['fail', 'resnapshot', 'skip']).optional(),
  /** Server-side wait for new changes per getMore. Default 1000 ms. */
  maxAwaitTimeMS: positiveInt.optional(),
  /** Changes per batch. Default 1000. */
  batchSize: positiveInt.optional(),
});

const eventloomSourceSchema = z.strictObject({
  /** `mongodb://host/db` (or `url` + `dbName`) or the path of a SQLite store file. */
  store: z.string().min(1),
  /** Database of a MongoDB store when the URL has none. */
  dbName: z.string().min(1).optional(),
  /** Where to start without a checkpoint. Default `start`. */
  from: z
    .union([z.enum(['start', 'end']), numberFromText(z.number().int().nonnegative())])
    .optional(),
  /** Only these event types (others still advance the checkpoint). */
  eventTypes: z.array(z.string().min(1)).optional(),
  /** `ns.db` of the changes. Default `eventloom`; `ns.coll` is the stream's category. */
  namespace: z.string().min(1).optional(),
});

export const SOURCE_SCHEMAS = {
  mongodb: mongoSourceSchema,
  eventloom: eventloomSourceSchema,
} as const;

const stateSchema = z.union([
  z.strictObject({
    mongodb: z.strictObject({
      /** Default: the source's URL. */
      url: z.string().min(1).optional(),
      /** Default `eventloom_relay`. */
      database: z.string().min(1).optional(),
    }),
  }),
  z.strictObject({ sqlite: z.strictObject({ path: z.string().min(1) }) }),
]);

export const rootSchema = z.strictObject({
  /** Identifies checkpoints, lease and dead letters. Default: the config file's base name. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _, . and - only')
    .optional(),
  /** Exactly one of `mongodb` or `eventloom` (validated separately for precise messages). */
  source: z.record(z.string(), z.unknown()),
  pipeline: pipelineSchema.optional(),
  delivery: z
    .strictObject({
      /** Changes being delivered at once (the source pauses beyond). Default 1000. */
      maxInFlight: positiveInt.optional(),
      /** Default retry of every step: 10 attempts, 200 ms doubling to 30 s, with jitter. */
      retry: retrySchema.optional(),
      /** Graceful shutdown waits this long for in-flight deliveries. Default 30 000 ms. */
      shutdownTimeoutMs: durationMs(1).optional(),
    })
    .optional(),
  checkpoints: z
    .strictObject({
      /** Store the low-water mark at most this often. Default 1000 ms. */
      intervalMs: durationMs(1).optional(),
      /** Advance idle streams' checkpoints this often. Default 10 000 ms. */
      heartbeatMs: durationMs(1).optional(),
    })
    .optional(),
  /** Where checkpoints, dead letters and the lease live. Default: MongoDB of the source. */
  state: stateSchema.optional(),
  lease: z
    .strictObject({
      /** Default true: of several relays with one name, one is active. */
      enabled: booleanFromText.optional(),
      /** A holder silent this long is replaced. Default 10 000 ms. */
      ttlMs: durationMs(500).optional(),
      /**
       * This relay's identity across restarts, unique per running relay. Default: the host
       * name (or EVENTLOOM_RELAY_INSTANCE). A restarted relay takes its own dead run's lease
       * at once instead of waiting `ttlMs`.
       */
      instanceId: z
        .string()
        .regex(/^[^:]+$/, 'must not contain ":"')
        .optional(),
    })
    .optional(),
  /** `/health` and `/metrics`. Default port 9464 on 127.0.0.1; `false` disables. */
  server: z
    .union([
      z.literal(false),
      z.strictObject({
        port: numberFromText(z.number().int().min(0).max(65535)).optional(),
        host: z.string().min(1).optional(),
      }),
    ])
    .optional(),
});

type RawRoot = z.infer<typeof rootSchema>;
export type MongoSourceConfig = z.infer<typeof mongoSourceSchema>;
export type EventloomSourceConfig = z.infer<typeof eventloomSourceSchema>;
export type StateConfig = z.infer<typeof stateSchema>;

export interface CollectionConfig {
  pipeline?: StepConfig[];
}
export interface DatabaseConfig {
  collections?: string[] | Record<string, CollectionConfig | null>;
  exclude?: string[];
  pipeline?: StepConfig[];
}

/** A validated relay configuration. */
export type RelayConfig = Omit<RawRoot, 'pipeline' | 'source' | 'name'> & {
  name: string;
  pipeline?: StepConfig[];
  source:
    | {
        mongodb: Omit<MongoSourceConfig, 'databases'> & {
          databases?: Record<string, DatabaseConfig | null>;
        };
      }
    | { eventloom: EventloomSourceConfig };
  /** Folder that relative module paths resolve against. */
  baseDir: string;
};

/** Typed helper for `relay.config.ts` files. */
export function defineRelayConfig<T extends Record<string, unknown>>(config: T): T {
  return config;
}
