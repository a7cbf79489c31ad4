import { closestName as closest } from '../core/closestName.js';
import {
  configError,
  describe,
  issuesToProblems,
  joinPath,
  type Problem,
} from './relayConfigProblems.js';
import { filterProblems } from './relayFilterCheck.js';
import {
  type DatabaseConfig,
  type EventloomSourceConfig,
  type HttpStepConfig,
  type MongoSourceConfig,
  type RelayConfig,
  rootSchema,
  SOURCE_SCHEMAS,
  STEP_KINDS,
  STEP_SCHEMAS,
  type StepConfig,
} from './relayConfig.js';

// Validation of a relay config beyond its schema (relayConfig.ts): one step kind per
// step, one source kind, filters, webhook URLs, a pipeline for every namespace. Problems are
// worded by relayConfigProblems.ts; loadRelayConfig.ts reads files and substitutes `${VAR}`.

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
  if (stepKind === 'filter') problems.push(...filterProblems(parsed.data, joinPath(path, kind)));
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
