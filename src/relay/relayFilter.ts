import { isRegexLiteral, toRegExp } from './relayConfig.js';
import { compileExpression, getPath, stringify } from './relayTemplate.js';

export type Predicate = (message: unknown) => Promise<boolean>;

/**
 * Compiles a declarative filter: a MongoDB-style query on the message. Keys are dotted
 * paths (`operationType`, `ns.coll`, `fullDocument.status`) or `$and`/`$or`/`$nor`/`$expr`
 * (a JSONata expression). A list means "one of", a `/regex/` string matches strings, an
 * object holds operators ($eq $ne $in $nin $gt $gte $lt $lte $exists $regex $not).
 *
 * @example
 * compileFilter({ operationType: ['insert', 'update'], 'ns.coll': '/^orders/' }, 'pipeline[0]')
 */
export function compileFilter(filter: Record<string, unknown>, where: string): Predicate {
  const parts: Predicate[] = Object.entries(filter).map(([key, condition]) => {
    if (key === '$and' || key === '$or' || key === '$nor') {
      const subs = (condition as Record<string, unknown>[]).map((c, i) =>
        compileFilter(c, `${where}.${key}[${i}]`),
      );
      if (key === '$and')
        return async (m) => {
          for (const s of subs) if (!(await s(m))) return false;
          return true;
        };
      const any = async (m: unknown): Promise<boolean> => {
        for (const s of subs) if (await s(m)) return true;
        return false;
      };
      return key === '$or' ? any : async (m) => !(await any(m));
    }
    if (key === '$expr') {
      const expr = compileExpression(condition as string, `${where}.$expr`);
      return async (m) => Boolean(await expr(m));
    }
    const test = compileCondition(condition);
    return async (m) => test(getPath(m, key));
  });
  return async (message) => {
    for (const p of parts) if (!(await p(message))) return false;
    return true;
  };
}

type Test = (value: unknown) => boolean;

function compileCondition(condition: unknown): Test {
  if (Array.isArray(condition)) {
    const tests = condition.map(compileCondition);
    return (v) => tests.some((t) => t(v));
  }
  if (typeof condition === 'string' && isRegexLiteral(condition)) {
    const re = toRegExp(condition);
    return (v) => typeof v === 'string' && re.test(v);
  }
  if (condition !== null && typeof condition === 'object' && isOperatorObject(condition)) {
    const tests = Object.entries(condition).map(([op, arg]) => operator(op, arg));
    return (v) => tests.every((t) => t(v));
  }
  return (v) => equals(v, condition);
}

function isOperatorObject(value: object): boolean {
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

function operator(op: string, arg: unknown): Test {
  switch (op) {
    case '$eq':
      return (v) => equals(v, arg);
    case '$ne':
      return (v) => !equals(v, arg);
    case '$in':
      return compileCondition(Array.isArray(arg) ? arg : [arg]);
    case '$nin': {
      const t = compileCondition(Array.isArray(arg) ? arg : [arg]);
      return (v) => !t(v);
    }
    case '$gt':
      return (v) => compare(v, arg) > 0;
    case '$gte':
      return (v) => compare(v, arg) >= 0;
    case '$lt':
      return (v) => compare(v, arg) < 0;
    case '$lte':
      return (v) => compare(v, arg) <= 0;
    case '$exists':
      return (v) => (v !== undefined) === Boolean(arg);
    case '$regex': {
      const re =
        typeof arg === 'string' && isRegexLiteral(arg) ? toRegExp(arg) : new RegExp(String(arg));
      return (v) => typeof v === 'string' && re.test(v);
    }
    case '$not': {
      const t = compileCondition(arg);
      return (v) => !t(v);
    }
    default:
      return () => false;
  }
}

/** Unwraps relaxed Extended JSON scalars ({$oid}, {$date}, {$numberLong}) for comparison. */
function scalar(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length === 1 && (entries[0]?.[0] ?? '').startsWith('$')) {
      const inner: unknown = entries[0]?.[1];
      if (typeof inner === 'string' || typeof inner === 'number') return inner;
    }
  }
  return value;
}

function equals(actual: unknown, expected: unknown): boolean {
  const a = scalar(actual);
  const e = scalar(expected);
  if (Array.isArray(a) && !Array.isArray(e)) return a.some((x) => equals(x, e));
  if (a === e) return true;
  if (typeof a === 'object' || typeof e === 'object') return stringify(a) === stringify(e);
  return false;
}

function compare(actual: unknown, expected: unknown): number {
  const a = scalar(actual);
  const e = scalar(expected);
  if (typeof a === 'number' && typeof e === 'number') return a - e;
  if (typeof a === 'string' && typeof e === 'string') return a < e ? -1 : a > e ? 1 : 0;
  return Number.NaN;
}
