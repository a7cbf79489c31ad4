import { z } from 'zod';
import { closestName as closest } from '../core/closestName.js';
import { ConfigurationError } from '../core/errors.js';
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

const STEP_SCHEMAS = {
  filter: filterSchema,
  map: mapSchema,
  log: logSchema,
  http: httpSchema,
  kafka: kafkaSchema,
  custom: customSchema,
} as const;
const STEP_KINDS = Object.keys(STEP_SCHEMAS) as (keyof typeof STEP_SCHEMAS)[];

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

const SOURCE_SCHEMAS = { mongodb: mongoSourceSchema, eventloom: eventloomSourceSchema } as const;

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

const rootSchema = z.strictObject({
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

interface Problem {
  path: string;
  message: string;
}

function joinPath(base: string, segment: string | number): string {
  if (typeof segment === 'number') return `${base}[${segment}]`;
  if (/^[A-Za-z_$][\w$-]*$/.test(segment)) return base === '' ? segment : `${base}.${segment}`;
  return `${base}[${JSON.stringify(segment)}]`;
}

function issuesToProblems(base: string, issues: readonly z.core.$ZodIssue[]): Problem[] {
  return issues.map((issue) => {
    let path = base;
    for (const seg of issue.path) path = joinPath(path, typeof seg === 'symbol' ? '?' : seg);
    return { path: path || '(root)', message: explain(issue) };
  });
}

function explain(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys
        .map((k) => `'${k}'`)
        .join(', ')}; remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling`;
    case 'invalid_type':
      return `expected ${issue.expected}${
        issue.input === undefined ? ' (it is missing)' : `, got ${describe(issue.input)}`
      }`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}; got ${describe(
        issue.input,
      )}`;
    case 'invalid_key':
      return `key ${describe(issue.origin === 'map' ? undefined : (issue as { input?: unknown }).input)} ${issue.issues
        .map((i) => i.message)
        .join('; ')}`;
    case 'invalid_union':
      return `does not match any allowed form: ${issue.errors
        .map((errs) =>
          errs
            .map((e) => `${e.path.map(String).join('.') || 'value'} ${explain(e)}`)
            .slice(0, 2)
            .join('; '),
        )
        .join(' | or | ')}`;
    default:
      return issue.message;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return `${typeof value} ${value}`;
  return typeof value === 'object' || typeof value === 'function' ? 'an object' : typeof value;
}

function validateStep(raw: unknown, path: string, problems: Problem[]): StepConfig | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push({
      path,
      message: `a step must be an object with one of ${STEP_KINDS.join(', ')} as its key, e.g. { log: {} }; got ${describe(raw)}`,
    });
    return undefined;
  }
  const keys = Object.keys(raw);
  if (keys.length !== 1) {
    problems.push({
      path,
      message: `a step has exactly one key (${STEP_KINDS.join(', ')}); got ${
        keys.length === 0 ? 'none' : keys.map((k) => `'${k}'`).join(', ')
      } — split it into ${keys.length > 1 ? 'separate steps' : 'a step like { log: {} }'}`,
    });
    return undefined;
  }
  const kind = keys[0] as string;
  if (!(kind in STEP_SCHEMAS)) {
    const guess = closest(kind, STEP_KINDS);
    problems.push({
      path: joinPath(path, kind),
      message: `unknown step '${kind}'; use one of ${STEP_KINDS.join(', ')}${
        guess ? ` (did you mean '${guess}'?)` : ''
      }`,
    });
    return undefined;
  }
  const stepKind = kind as keyof typeof STEP_SCHEMAS;
  const body = (raw as Record<string, unknown>)[kind] ?? {};
  const parsed = STEP_SCHEMAS[stepKind].safeParse(body, { reportInput: true });
  if (!parsed.success) {
    problems.push(...issuesToProblems(joinPath(path, kind), parsed.error.issues));
    return undefined;
  }
  if (stepKind === 'filter') validateFilter(parsed.data, joinPath(path, kind), problems);
  if (stepKind === 'http')
    validateWebhookUrl(
      (parsed.data as HttpStepConfig).url,
      `${joinPath(path, kind)}.url`,
      problems,
    );
  return { [stepKind]: parsed.data } as StepConfig;
}

/**
 * The part of a webhook URL before its first `{{ }}` must be an http(s) URL (or empty: the
 * message supplies it), so a missing scheme fails at start-up, not once per change.
 */
function validateWebhookUrl(url: string, path: string, problems: Problem[]): void {
  const fixed = url.split('{{')[0] as string;
  if (fixed === '') return;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(fixed)?.[1]?.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') {
    problems.push({
      path,
      message: `'${url}' has no http:// or https:// scheme; write http://${url.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '')} (or https://)`,
    });
    return;
  }
  if (fixed !== url) return;
  try {
    new URL(url);
  } catch {
    problems.push({
      path,
      message: `'${url}' is not a URL; write e.g. http://127.0.0.1:8080/hook`,
    });
  }
}

const FILTER_OPERATORS = [
  '$eq',
  '$ne',
  '$in',
  '$nin',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$exists',
  '$regex',
  '$not',
];

function validateFilter(filter: Record<string, unknown>, path: string, problems: Problem[]): void {
  for (const [key, condition] of Object.entries(filter)) {
    const here = joinPath(path, key);
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(condition) || condition.length === 0) {
        problems.push({ path: here, message: `must be a non-empty list of filters` });
        continue;
      }
      condition.forEach((c, i) => {
        if (c === null || typeof c !== 'object' || Array.isArray(c))
          problems.push({ path: `${here}[${i}]`, message: 'must be a filter object' });
        else validateFilter(c as Record<string, unknown>, `${here}[${i}]`, problems);
      });
      continue;
    }
    if (key === '$expr') {
      if (typeof condition !== 'string')
        problems.push({
          path: here,
          message: 'must be a JSONata expression string, e.g. "fullDocument.total > 100"',
        });
      continue;
    }
    if (key.startsWith('$')) {
      problems.push({
        path: here,
        message: `unknown filter operator '${key}'; use $and, $or, $nor, $expr or a field path`,
      });
      continue;
    }
    if (key === 'operationType') {
      const values =
        typeof condition === 'string'
          ? [condition]
          : Array.isArray(condition)
            ? condition
            : condition !== null && typeof condition === 'object'
              ? Object.values(condition).flat()
              : [];
      values.forEach((v) => {
        if (typeof v === 'string' && !(OPERATION_TYPES as readonly string[]).includes(v)) {
          const guess = closest(v, OPERATION_TYPES);
          problems.push({
            path: here,
            message: `unknown operation type '${v}'; use ${OPERATION_TYPES.join(', ')}${
              guess ? ` (did you mean '${guess}'?)` : ''
            }`,
          });
        }
      });
    }
    if (condition !== null && typeof condition === 'object' && !Array.isArray(condition)) {
      for (const op of Object.keys(condition)) {
        if (op.startsWith('$') && !FILTER_OPERATORS.includes(op)) {
          const guess = closest(op, FILTER_OPERATORS);
          problems.push({
            path: joinPath(here, op),
            message: `unknown operator '${op}'; use ${FILTER_OPERATORS.join(', ')}${
              guess ? ` (did you mean '${guess}'?)` : ''
            }`,
          });
        }
      }
    }
  }
}

function validatePipeline(
  raw: unknown,
  path: string,
  problems: Problem[],
): StepConfig[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push({
      path,
      message: 'must be a non-empty list of steps, e.g. [{ log: {} }, { http: { url: … } }]',
    });
    return undefined;
  }
  const steps: StepConfig[] = [];
  raw.forEach((step, i) => {
    const s = validateStep(step, `${path}[${i}]`, problems);
    if (s) steps.push(s);
  });
  return steps;
}

/**
 * Validates a parsed configuration (after `${ENV}` substitution). Throws one
 * ConfigurationError listing every problem as `path: what is wrong; how to fix it`.
 */
export function parseRelayConfig(
  input: unknown,
  options: { defaultName?: string; baseDir?: string } = {},
): RelayConfig {
  const problems: Problem[] = [];
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    problems.push({
      path: '(root)',
      message: `the config must be an object with source and pipeline; got ${describe(input)}`,
    });
    throw configError(problems);
  }
  const raw = input as Record<string, unknown>;
  const parsed = rootSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) problems.push(...issuesToProblems('', parsed.error.issues));
  const rawSource = raw.source;
  const sourceKinds =
    rawSource !== null && typeof rawSource === 'object' && !Array.isArray(rawSource)
      ? Object.keys(rawSource)
      : [];
  let rootSource: { mongodb: MongoSourceConfig } | { eventloom: EventloomSourceConfig } | undefined;
  if (sourceKinds.length !== 1 || !((sourceKinds[0] as string) in SOURCE_SCHEMAS)) {
    const unknown = sourceKinds.find((k) => !(k in SOURCE_SCHEMAS));
    const guess = unknown ? closest(unknown, Object.keys(SOURCE_SCHEMAS)) : undefined;
    if (rawSource !== undefined || parsed.success)
      problems.push({
        path: unknown ? `source.${unknown}` : 'source',
        message: `the source is exactly one of mongodb: { url, databases? } or eventloom: { store }; got ${
          sourceKinds.length === 0 ? 'none' : sourceKinds.map((k) => `'${k}'`).join(', ')
        }${guess ? ` (did you mean '${guess}'?)` : ''}`,
      });
  } else {
    const sourceKind = sourceKinds[0] as keyof typeof SOURCE_SCHEMAS;
    const sourceParsed = SOURCE_SCHEMAS[sourceKind].safeParse(
      (rawSource as Record<string, unknown>)[sourceKind],
      { reportInput: true },
    );
    if (!sourceParsed.success)
      problems.push(...issuesToProblems(`source.${sourceKind}`, sourceParsed.error.issues));
    else
      rootSource =
        sourceKind === 'mongodb'
          ? { mongodb: sourceParsed.data as MongoSourceConfig }
          : { eventloom: sourceParsed.data as EventloomSourceConfig };
  }
  const pipeline = validatePipeline(raw.pipeline, 'pipeline', problems);
  if (!parsed.success || rootSource === undefined) throw configError(problems);
  const root = parsed.data;
  let source: RelayConfig['source'];
  if ('mongodb' in rootSource) {
    const mongo = rootSource.mongodb;
    let databases: Record<string, DatabaseConfig | null> | undefined;
    if (mongo.databases) {
      databases = {};
      for (const [dbName, db] of Object.entries(mongo.databases)) {
        const dbPath = joinPath('source.mongodb.databases', dbName);
        if (db === null) {
          databases[dbName] = null;
          continue;
        }
        const dbPipeline = validatePipeline(db.pipeline, `${dbPath}.pipeline`, problems);
        let collections: DatabaseConfig['collections'];
        if (
          db.collections === null ||
          (db.collections !== undefined && Object.keys(db.collections).length === 0)
        ) {
          problems.push({
            path: `${dbPath}.collections`,
            message: `is empty, so nothing would be watched; list collection names or /regex/, or leave collections out to watch every collection of ${dbName}`,
          });
        } else if (Array.isArray(db.collections)) collections = db.collections;
        else if (db.collections) {
          collections = {};
          for (const [coll, entry] of Object.entries(db.collections)) {
            const collPipeline = validatePipeline(
              entry?.pipeline,
              `${joinPath(`${dbPath}.collections`, coll)}.pipeline`,
              problems,
            );
            collections[coll] = collPipeline ? { pipeline: collPipeline } : null;
          }
        }
        databases[dbName] = {
          ...(collections ? { collections } : {}),
          ...(db.exclude ? { exclude: db.exclude } : {}),
          ...(dbPipeline ? { pipeline: dbPipeline } : {}),
        };
      }
    }
    source = { mongodb: { ...mongo, databases } };
    if (!pipeline) requireEveryNamespaceHasPipeline(databases, problems);
  } else {
    source = { eventloom: rootSource.eventloom };
    if (!pipeline)
      problems.push({
        path: 'pipeline',
        message: 'is required: list the steps every event goes through',
      });
  }
  if (problems.length > 0) throw configError(problems);
  const { pipeline: _raw, source: _source, ...rest } = root;
  return {
    ...rest,
    name: root.name ?? options.defaultName ?? 'relay',
    source,
    ...(pipeline ? { pipeline } : {}),
    baseDir: options.baseDir ?? process.cwd(),
  };
}

function requireEveryNamespaceHasPipeline(
  databases: Record<string, DatabaseConfig | null> | undefined,
  problems: Problem[],
): void {
  if (!databases) {
    problems.push({
      path: 'pipeline',
      message:
        'is required when source.mongodb.databases is omitted: list the steps every change goes through',
    });
    return;
  }
  for (const [dbName, db] of Object.entries(databases)) {
    if (db?.pipeline) continue;
    const collections = db?.collections;
    const everyCollectionHasOne =
      collections !== undefined &&
      !Array.isArray(collections) &&
      Object.values(collections).every((c) => c?.pipeline !== undefined);
    if (!everyCollectionHasOne) {
      problems.push({
        path: 'pipeline',
        message: `is required: database '${dbName}' has collections without a pipeline of their own; add a top-level pipeline or one under source.mongodb.databases.${dbName}.pipeline`,
      });
    }
  }
}

function configError(problems: Problem[]): ConfigurationError {
  const lines = problems.map((p) => `  - ${p.path}: ${p.message}`);
  return new ConfigurationError(
    `invalid relay config (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n${lines.join('\n')}`,
    { details: { problems } },
  );
}
