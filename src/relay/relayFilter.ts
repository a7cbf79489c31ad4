import sift from 'sift';
import { isRegexLiteral, toRegExp } from './relayConfig.js';
import { configError } from './relayConfigProblems.js';
import { filterProblems } from './relayFilterCheck.js';
import { isOperatorObject, SIFT_OPERATIONS } from './relayFilterOperators.js';
import { filterValuesEqual, isPlainObject, toFilterValue } from './relayFilterValues.js';
import { compileExpression, type Template } from './relayTemplate.js';

/** A filter without `$expr` decides at once; one with JSONata expressions answers a promise. */
export type Predicate = (message: unknown) => boolean | Promise<boolean>;

/**
 * Compiles a declarative filter: a MongoDB query on the message (evaluated by sift, with
 * MongoDB's comparison of BSON values: see relayFilterValues). Keys are dotted paths
 * (`operationType`, `ns.coll`, `fullDocument.lines.sku`, reaching into lists) or `$and`,
 * `$or`, `$nor` and `$expr` (a JSONata expression). The relay's shorthands: a list means
 * `$in`, a `/regex/flags` string is a regular expression. The operators are those of
 * `FILTER_OPERATORS`; an unknown one is a ConfigurationError naming its path.
 *
 * @example
 * compileFilter({ operationType: ['insert', 'update'], 'ns.coll': '/^orders/' }, 'pipeline[0]')
 */
export function compileFilter(filter: Record<string, unknown>, where: string): Predicate {
  const problems = filterProblems(filter, where);
  if (problems.length > 0) throw configError(problems);
  const expressions: Template[] = [];
  let results: unknown[] = [];
  const prepareFilter = (query: Record<string, unknown>, path: string): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(query).map(([key, condition]) => {
        if (key === '$and' || key === '$or' || key === '$nor')
          return [
            key,
            (condition as Record<string, unknown>[]).map((f, i) =>
              prepareFilter(f, `${path}.${key}[${i}]`),
            ),
          ];
        if (key === '$expr') {
          const index = expressions.push(compileExpression(condition as string, `${path}.$expr`));
          return [key, () => Boolean(results[index - 1])];
        }
        return [key, prepareCondition(condition, (f) => prepareFilter(f, path))];
      }),
    );
  const test = sift.createQueryTester(prepareFilter(filter, where), {
    operations: SIFT_OPERATIONS,
    compare: filterValuesEqual,
  });
  const roots = rootFields(filter);
  const decide = (message: unknown): boolean =>
    test(toFilterValue(roots === undefined ? message : pickRoots(message, roots)));
  if (expressions.length === 0) return decide;
  return async (message) => {
    // JSONata is asynchronous and sift is not: evaluate the expressions first, then test
    // synchronously, so no other message's results can come in between.
    results = await Promise.all(expressions.map((e) => e(message)));
    return decide(message);
  };
}

/**
 * The top-level fields a filter reads (`ns` for `ns.coll`), or `undefined` when it may read
 * any (an `$expr`): only those are typed for sift, not the whole document, per change.
 */
function rootFields(query: Record<string, unknown>): Set<string> | undefined {
  const roots = new Set<string>();
  for (const [key, condition] of Object.entries(query)) {
    if (key === '$and' || key === '$or' || key === '$nor') {
      for (const sub of condition as Record<string, unknown>[]) {
        const inner = rootFields(sub);
        if (inner === undefined) return undefined;
        for (const r of inner) roots.add(r);
      }
    } else if (key.startsWith('$')) return undefined;
    else roots.add(key.split('.')[0] as string);
  }
  return roots;
}

function pickRoots(message: unknown, roots: ReadonlySet<string>): unknown {
  if (!isPlainObject(message)) return message;
  const picked: Record<string, unknown> = {};
  for (const root of roots) if (Object.hasOwn(message, root)) picked[root] = message[root];
  return picked;
}

type PrepareFilter = (filter: Record<string, unknown>) => Record<string, unknown>;

/** A field's condition as sift takes it: shorthands expanded, Extended JSON values typed. */
function prepareCondition(condition: unknown, prepareFilter: PrepareFilter): unknown {
  if (Array.isArray(condition)) return { $in: condition.map(prepareListItem) };
  if (typeof condition === 'string' && isRegexLiteral(condition)) return toRegExp(condition);
  if (!isPlainObject(condition) || !isOperatorObject(condition)) return toFilterValue(condition);
  return Object.fromEntries(
    Object.entries(condition).map(([op, operand]) => [
      op,
      prepareOperand(op, operand, prepareFilter),
    ]),
  );
}

function prepareOperand(op: string, operand: unknown, prepareFilter: PrepareFilter): unknown {
  switch (op) {
    case '$in':
    case '$nin':
    case '$all':
      return (operand as unknown[]).map(prepareListItem);
    case '$not':
      return prepareCondition(operand, prepareFilter);
    case '$elemMatch': {
      const query = operand as Record<string, unknown>;
      return isOperatorObject(query)
        ? prepareCondition(query, prepareFilter)
        : prepareFilter(query);
    }
    case '$regex':
    case '$options':
    case '$exists':
    case '$size':
    case '$type':
      return operand;
    default:
      return toFilterValue(operand);
  }
}

function prepareListItem(value: unknown): unknown {
  return typeof value === 'string' && isRegexLiteral(value)
    ? toRegExp(value)
    : toFilterValue(value);
}
