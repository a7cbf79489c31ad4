import { closestName } from '../core/closestName.js';
import { isRegexLiteral, OPERATION_TYPES } from './relayConfig.js';
import { describe, joinPath, type Problem } from './relayConfigProblems.js';
import {
  FILTER_OPERATOR_NAMES,
  FILTER_OPERATORS,
  type FilterOperator,
  isOperatorObject,
  patternOf,
} from './relayFilterOperators.js';
import {
  extendedJsonProblem,
  FILTER_TYPES,
  isExtendedJsonValue,
  isPlainObject,
} from './relayFilterValues.js';

// The config-time check of a filter: every operator known (with a did-you-mean), in its place,
// with the operand it takes — so a typo fails at start-up instead of filtering everything out.

const suggestion = (word: string, names: readonly string[]): string => {
  const guess = closestName(word, names);
  return guess === undefined ? '' : ` (did you mean '${guess}'?)`;
};

/** Every problem of `filter`, the filter at `path`. */
export function filterProblems(filter: unknown, path: string): Problem[] {
  const problems: Problem[] = [];
  checkFilter(filter, path, problems);
  return problems;
}

function checkFilter(filter: unknown, path: string, problems: Problem[]): void {
  if (!isPlainObject(filter)) {
    problems.push({
      path,
      message: `must be a filter object, e.g. { operationType: insert }; got ${describe(filter)}`,
    });
    return;
  }
  for (const [key, condition] of Object.entries(filter)) {
    const here = joinPath(path, key);
    if (!key.startsWith('$')) {
      if (key === 'operationType') checkOperationTypes(condition, here, problems);
      checkCondition(condition, here, problems);
      continue;
    }
    const op = operatorAt(key, here, problems);
    if (op === undefined) continue;
    if (op.place === 'field') {
      problems.push({
        path: here,
        message: `'${key}' compares a field: write { <field path>: { ${key}: … } }`,
      });
      continue;
    }
    checkOperand(key, op, condition, filter, here, problems);
  }
}

function operatorAt(name: string, path: string, problems: Problem[]): FilterOperator | undefined {
  const op = FILTER_OPERATORS[name];
  if (op === undefined)
    problems.push({
      path,
      message: `unknown operator '${name}'; use one of ${FILTER_OPERATOR_NAMES.join(', ')}${suggestion(
        name,
        FILTER_OPERATOR_NAMES,
      )}`,
    });
  return op;
}

/** What a field is tested with: a value, a list (one of), a /regex/ or an object of operators. */
function checkCondition(condition: unknown, path: string, problems: Problem[]): void {
  if (Array.isArray(condition)) {
    condition.forEach((value, i) => checkValue(value, `${path}[${i}]`, problems));
    return;
  }
  if (!isPlainObject(condition) || isExtendedJsonValue(condition)) {
    checkValue(condition, path, problems);
    return;
  }
  const keys = Object.keys(condition);
  const operators = keys.filter((k) => k.startsWith('$'));
  if (operators.length === 0) return;
  if (operators.length !== keys.length) {
    problems.push({
      path,
      message: `mixes operators and field names (${keys.map((k) => `'${k}'`).join(', ')}); operators test the value, fields describe a document it must equal exactly — use one kind`,
    });
    return;
  }
  for (const key of keys) {
    const here = joinPath(path, key);
    const op = operatorAt(key, here, problems);
    if (op === undefined) continue;
    if (op.place === 'filter') {
      problems.push({
        path: here,
        message: `'${key}' combines filters, so it goes at the top of a filter: { ${key}: [{ … }, { … }] }`,
      });
      continue;
    }
    checkOperand(key, op, condition[key], condition, here, problems);
  }
}

function checkValue(value: unknown, path: string, problems: Problem[]): void {
  if (!isExtendedJsonValue(value)) return;
  const [key] = Object.keys(value) as [string];
  const problem = extendedJsonProblem(value);
  if (problem !== undefined) problems.push({ path: joinPath(path, key), message: problem });
}

function checkOperand(
  name: string,
  op: FilterOperator,
  operand: unknown,
  siblings: Record<string, unknown>,
  path: string,
  problems: Problem[],
): void {
  const problem = (message: string) => problems.push({ path, message });
  switch (op.operand) {
    case 'value':
      return checkValue(operand, path, problems);
    case 'list':
      if (!Array.isArray(operand)) return void problem(`must be a list, e.g. { ${name}: [a, b] }`);
      return operand.forEach((value, i) => checkValue(value, `${path}[${i}]`, problems));
    case 'boolean':
      if (typeof operand !== 'boolean') problem(`must be true or false; got ${describe(operand)}`);
      return;
    case 'regex':
      if (typeof operand !== 'string')
        return void problem(`must be a pattern string, e.g. '^ord' or '/^ord/i'`);
      try {
        patternOf(operand, siblings.$options);
      } catch (error) {
        problem(`is not a valid regular expression (${(error as Error).message})`);
      }
      return;
    case 'regexOptions':
      if (!('$regex' in siblings))
        return void problem(`goes beside $regex: { $regex: '^ord', $options: 'i' }`);
      if (typeof operand !== 'string' || !/^[imsu]*$/.test(operand))
        problem(`must be flags among i, m, s and u; got ${describe(operand)}`);
      return;
    case 'condition':
      return checkCondition(operand, path, problems);
    case 'elemMatch':
      if (!isPlainObject(operand))
        return void problem(
          'must be an object: a filter on each element ({ sku: a }) or operators ({ $gt: 1 })',
        );
      return isOperatorObject(operand)
        ? checkCondition(operand, path, problems)
        : checkFilter(operand, path, problems);
    case 'size':
      if (typeof operand !== 'number' || !Number.isInteger(operand) || operand < 0)
        problem(`must be a whole number >= 0 (the list's length); got ${describe(operand)}`);
      return;
    case 'type':
      return checkTypes(operand, path, problems);
    case 'filters':
      if (!Array.isArray(operand) || operand.length === 0)
        return void problem('must be a non-empty list of filters');
      return operand.forEach((f, i) => checkFilter(f, `${path}[${i}]`, problems));
    case 'expr':
      if (typeof operand !== 'string')
        problem('must be a JSONata expression string, e.g. "fullDocument.total > 100"');
      return;
  }
}

function checkTypes(operand: unknown, path: string, problems: Problem[]): void {
  const names = Object.keys(FILTER_TYPES);
  for (const alias of Array.isArray(operand) ? operand : [operand]) {
    if (typeof alias === 'string' && alias in FILTER_TYPES) continue;
    const numeric = alias === 'int' || alias === 'double';
    problems.push({
      path,
      message: `unknown type ${describe(alias).replaceAll('"', "'")}; use ${names.join(', ')}${
        numeric
          ? ` ('number': messages are relaxed Extended JSON, where int and double are both plain numbers)`
          : typeof alias === 'string'
            ? suggestion(alias, names)
            : ''
      }`,
    });
  }
}

function checkOperationTypes(condition: unknown, path: string, problems: Problem[]): void {
  const values =
    typeof condition === 'string'
      ? [condition]
      : Array.isArray(condition)
        ? condition
        : isPlainObject(condition)
          ? Object.values(condition).flat()
          : [];
  for (const v of values) {
    if (
      typeof v === 'string' &&
      !isRegexLiteral(v) &&
      !(OPERATION_TYPES as readonly string[]).includes(v)
    ) {
      problems.push({
        path,
        message: `unknown operation type '${v}'; use ${OPERATION_TYPES.join(', ')}${suggestion(
          v,
          OPERATION_TYPES,
        )}`,
      });
    }
  }
}
