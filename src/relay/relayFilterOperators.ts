import sift from 'sift';
import { isRegexLiteral, toRegExp } from './relayConfig.js';
import { compareFilterValues, FILTER_TYPES } from './relayFilterValues.js';

type SiftOptions = NonNullable<Parameters<typeof sift.createQueryTester>[1]>;
export type OperationCreator = NonNullable<SiftOptions['operations']>[string];

/** What an operator takes; the config check (relayFilterCheck) holds each to its kind. */
export type Operand =
  /** A value: `{ $gt: 5 }`, `{ $eq: { $oid: '…' } }`. */
  | 'value'
  /** A list of values: `{ $in: [a, b] }`. */
  | 'list'
  | 'boolean'
  /** A pattern, `'^ord'` or `'/^ord/i'`. */
  | 'regex'
  /** Flags beside `$regex`. */
  | 'regexOptions'
  /** What a field could hold instead: `{ $not: { $gt: 5 } }`. */
  | 'condition'
  /** A filter on each element (`{ sku: a }`) or operators on it (`{ $gt: 1 }`). */
  | 'elemMatch'
  /** A list length. */
  | 'size'
  /** A `FILTER_TYPES` alias or a list of them. */
  | 'type'
  /** A non-empty list of filters: `{ $or: [{ … }, { … }] }`. */
  | 'filters'
  /** A JSONata expression on the whole message. */
  | 'expr';

export interface FilterOperator {
  /** `filter`: a key of a filter (`{ $or: … }`); `field`: tests a field (`{ total: { $gt: 1 } }`). */
  place: 'filter' | 'field';
  operand: Operand;
  /** The sift operation; `$expr`'s operand is prepared into a function (see relayFilter). */
  create: OperationCreator;
}

const ordered =
  (test: (order: number) => boolean): OperationCreator =>
  (param, ownerQuery, options) =>
    sift.createEqualsOperation(
      (value: unknown) => {
        const order = compareFilterValues(value, param);
        return order !== undefined && test(order);
      },
      ownerQuery,
      options,
    );

/** `'^a'` with `$options`, or the relay's `'/^a/i'`. */
export function patternOf(pattern: unknown, options: unknown): RegExp {
  const extra = typeof options === 'string' ? options : '';
  const text = String(pattern);
  const re = isRegexLiteral(text) ? toRegExp(text) : new RegExp(text);
  return new RegExp(re.source, [...new Set(re.flags + extra)].join(''));
}

const regex: OperationCreator = (pattern, ownerQuery: Record<string, unknown>, options) =>
  sift.createEqualsOperation(patternOf(pattern, ownerQuery.$options), ownerQuery, options);

const type: OperationCreator = (aliases, ownerQuery, options) => {
  const tests = (Array.isArray(aliases) ? aliases : [aliases]).flatMap(
    (alias) => FILTER_TYPES[String(alias)] ?? [],
  );
  return sift.createEqualsOperation(
    (value: unknown) => tests.some((t) => t(value)),
    ownerQuery,
    options,
  );
};

const thunk: OperationCreator = (test, ownerQuery, options) =>
  sift.createEqualsOperation(test, ownerQuery, options);

/**
 * Every operator a relay filter knows, in the order error messages list them: the config check
 * and the evaluation both read this table, so an operator is accepted exactly when it works.
 */
export const FILTER_OPERATORS: Readonly<Record<string, FilterOperator>> = {
  $eq: { place: 'field', operand: 'value', create: sift.$eq },
  $ne: { place: 'field', operand: 'value', create: sift.$ne },
  $gt: { place: 'field', operand: 'value', create: ordered((o) => o > 0) },
  $gte: { place: 'field', operand: 'value', create: ordered((o) => o >= 0) },
  $lt: { place: 'field', operand: 'value', create: ordered((o) => o < 0) },
  $lte: { place: 'field', operand: 'value', create: ordered((o) => o <= 0) },
  $in: { place: 'field', operand: 'list', create: sift.$in },
  $nin: { place: 'field', operand: 'list', create: sift.$nin },
  $all: { place: 'field', operand: 'list', create: sift.$all },
  $exists: { place: 'field', operand: 'boolean', create: sift.$exists },
  $type: { place: 'field', operand: 'type', create: type },
  $regex: { place: 'field', operand: 'regex', create: regex },
  $options: { place: 'field', operand: 'regexOptions', create: sift.$options },
  $not: { place: 'field', operand: 'condition', create: sift.$not },
  $elemMatch: { place: 'field', operand: 'elemMatch', create: sift.$elemMatch },
  $size: { place: 'field', operand: 'size', create: sift.$size },
  $and: { place: 'filter', operand: 'filters', create: sift.$and },
  $or: { place: 'filter', operand: 'filters', create: sift.$or },
  $nor: { place: 'filter', operand: 'filters', create: sift.$nor },
  $expr: { place: 'filter', operand: 'expr', create: thunk },
};

export const FILTER_OPERATOR_NAMES = Object.keys(FILTER_OPERATORS);

/** The sift operations of the table. */
export const SIFT_OPERATIONS: Record<string, OperationCreator> = Object.fromEntries(
  Object.entries(FILTER_OPERATORS).map(([name, op]) => [name, op.create]),
);

/** An object of operators (`{ $gt: 1 }`), as opposed to a document or a filter. */
export function isOperatorObject(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => FILTER_OPERATORS[k]?.place === 'field');
}
