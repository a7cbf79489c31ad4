import type { DatabaseConfig, RelayConfig, StepConfig } from './relayConfig.js';
import { isRegexLiteral, toRegExp } from './relayConfig.js';
import type { Pipeline, PipelineFactory } from './relayPipeline.js';

type Matcher = { exact: string } | { regex: RegExp };

const matcher = (pattern: string): Matcher =>
  isRegexLiteral(pattern) ? { regex: toRegExp(pattern) } : { exact: pattern };
const matches = (m: Matcher, name: string): boolean =>
  'exact' in m ? m.exact === name : m.regex.test(name);

/** Databases a relay never watches. */
export const SYSTEM_DATABASES = new Set(['admin', 'config', 'local']);

interface CollectionRule {
  matcher: Matcher;
  pipeline: Pipeline | undefined;
}
interface DatabaseRule {
  matcher: Matcher;
  collections: CollectionRule[] | undefined;
  exclude: Matcher[];
  pipeline: Pipeline | undefined;
}

/**
 * Decides, per namespace, whether it is watched and which pipeline its changes take: the
 * most specific wins — an exact collection entry, then a /regex/ collection entry, then the
 * database's pipeline (exact name before /regex/), then the top-level pipeline.
 */
export class Routing {
  /** Resolved pipelines by database, then collection (no key string built per change). */
  #cache = new Map<string, Map<string, Pipeline | undefined>>();
  #cached = 0;

  private constructor(
    private readonly databases: DatabaseRule[] | undefined,
    private readonly excludeDatabases: Matcher[],
    private readonly fallback: Pipeline | undefined,
  ) {}

  static async build(
    config: RelayConfig,
    factory: PipelineFactory,
    ownDatabases: readonly string[],
  ): Promise<Routing> {
    const top = config.pipeline ? await factory.build(config.pipeline, 'pipeline') : undefined;
    if (!('mongodb' in config.source)) return new Routing(undefined, [], top);
    const mongo = config.source.mongodb;
    const excludeDatabases = [
      ...(mongo.excludeDatabases ?? []).map(matcher),
      ...ownDatabases.map((d) => ({ exact: d })),
    ];
    if (!mongo.databases) return new Routing(undefined, excludeDatabases, top);
    const build = (steps: StepConfig[] | undefined, name: string) =>
      steps ? factory.build(steps, name) : Promise.resolve(undefined);
    const rules: DatabaseRule[] = [];
    for (const [dbPattern, db] of orderBySpecificity(Object.entries(mongo.databases))) {
      const dbName = `source.mongodb.databases.${dbPattern}`;
      rules.push({
        matcher: matcher(dbPattern),
        collections: await collectionRules(db, dbName, build),
        exclude: (db?.exclude ?? []).map(matcher),
        pipeline: await build(db?.pipeline, `${dbName}.pipeline`),
      });
    }
    return new Routing(rules, excludeDatabases, top);
  }

  /** Whether changes of this database may be watched at all. */
  watchesDatabase(db: string): boolean {
    if (SYSTEM_DATABASES.has(db) || this.excludeDatabases.some((m) => matches(m, db))) return false;
    return this.databases === undefined || this.databases.some((r) => matches(r.matcher, db));
  }

  /** Collection names configured exactly (watchable before they exist), per database. */
  exactCollections(db: string): string[] | undefined {
    const rule = this.databases?.find((r) => matches(r.matcher, db));
    if (!rule?.collections) return undefined;
    if (rule.collections.some((c) => 'regex' in c.matcher)) return undefined;
    return rule.collections.map((c) => (c.matcher as { exact: string }).exact);
  }

  /** Whether the configuration names only exact databases (no regex, not "all"). */
  exactDatabases(): string[] | undefined {
    if (!this.databases || this.databases.some((r) => 'regex' in r.matcher)) return undefined;
    return this.databases.map((r) => (r.matcher as { exact: string }).exact);
  }

  /** The pipeline for a namespace, or undefined when it is not watched. */
  route(db: string, coll: string): Pipeline | undefined {
    let byCollection = this.#cache.get(db);
    const hit = byCollection?.get(coll);
    if (hit !== undefined || byCollection?.has(coll)) return hit;
    const pipeline = this.#resolve(db, coll);
    if (this.#cached > 10_000) {
      this.#cache.clear();
      this.#cached = 0;
      byCollection = undefined;
    }
    if (byCollection === undefined) {
      byCollection = new Map();
      this.#cache.set(db, byCollection);
    }
    byCollection.set(coll, pipeline);
    this.#cached++;
    return pipeline;
  }

  #resolve(db: string, coll: string): Pipeline | undefined {
    if (!this.watchesDatabase(db)) return undefined;
    if (coll.startsWith('system.')) return undefined;
    if (this.databases === undefined) return this.fallback;
    const rule = this.databases.find((r) => matches(r.matcher, db));
    if (!rule) return undefined;
    if (rule.exclude.some((m) => matches(m, coll))) return undefined;
    if (rule.collections === undefined) return rule.pipeline ?? this.fallback;
    const entry = rule.collections.find((c) => matches(c.matcher, coll));
    if (!entry) return undefined;
    return entry.pipeline ?? rule.pipeline ?? this.fallback;
  }
}

function orderBySpecificity<T>(entries: [string, T][]): [string, T][] {
  return [
    ...entries.filter(([k]) => !isRegexLiteral(k)),
    ...entries.filter(([k]) => isRegexLiteral(k)),
  ];
}

async function collectionRules(
  db: DatabaseConfig | null,
  dbName: string,
  build: (steps: StepConfig[] | undefined, name: string) => Promise<Pipeline | undefined>,
): Promise<CollectionRule[] | undefined> {
  const collections = db?.collections;
  if (collections === undefined) return undefined;
  if (Array.isArray(collections)) {
    return orderBySpecificity(collections.map((c) => [c, undefined])).map(([c]) => ({
      matcher: matcher(c),
      pipeline: undefined,
    }));
  }
  const rules: CollectionRule[] = [];
  for (const [pattern, entry] of orderBySpecificity(Object.entries(collections))) {
    rules.push({
      matcher: matcher(pattern),
      pipeline: await build(entry?.pipeline, `${dbName}.collections.${pattern}.pipeline`),
    });
  }
  return rules;
}
