// The values a relay filter compares. Messages are relaxed Extended JSON, so an ObjectId, a
// date, an int64 or a Decimal128 arrives as a one-key object ({ $oid }, { $date },
// { $numberLong }, { $numberDecimal }); the filter turns those (in the message and in the
// filter alike) into the typed values below and compares them as MongoDB compares BSON:
// numbers of every kind by value, dates with dates, ObjectIds with ObjectIds, and no
// ordering across types (`{ $gt: 0 }` never matches a date).

/** An ObjectId, by its lower-case hex. */
export class FilterObjectId {
  constructor(readonly hex: string) {}
}

/** A date, in ms since the epoch. */
export class FilterDate {
  constructor(readonly ms: number) {}
}

/** An int64 or a Decimal128, kept as its exact decimal text. */
export class FilterDecimal {
  constructor(
    readonly bsonType: 'long' | 'decimal',
    readonly text: string,
  ) {}
}

const WRAPPERS = ['$oid', '$date', '$numberLong', '$numberDecimal', '$numberInt', '$numberDouble'];

/** Whether `value` is one Extended JSON value such as `{ $oid: '…' }` (not an operator). */
export function isExtendedJsonValue(value: unknown): value is Record<string, unknown> {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && WRAPPERS.includes(keys[0] as string);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * What is wrong with an Extended JSON value, or undefined when it is well-formed. The sentence
 * goes after the path of the wrapper key, e.g. `….$oid: must be 24 hex digits`.
 */
export function extendedJsonProblem(value: Record<string, unknown>): string | undefined {
  const [key, inner] = Object.entries(value)[0] as [string, unknown];
  switch (key) {
    case '$oid':
      return typeof inner === 'string' && /^[0-9a-fA-F]{24}$/.test(inner)
        ? undefined
        : `must be 24 hex digits, e.g. { $oid: '65a1b2c3d4e5f60718293a4b' }`;
    case '$date':
      return toFilterValue(value) instanceof FilterDate
        ? undefined
        : `must be an ISO date ('2024-05-01T10:00:00Z') or { $numberLong: '<ms since 1970>' }`;
    case '$numberLong':
      return typeof inner === 'string' && /^-?\d+$/.test(inner)
        ? undefined
        : `must be the integer as a string, e.g. { $numberLong: '42' }`;
    default:
      return typeof inner === 'string' && parseDecimal(inner) !== undefined
        ? undefined
        : `must be the number as a string, e.g. { ${key}: '19.99' }`;
  }
}

/** The value with every Extended JSON value in it typed (see the classes above). */
export function toFilterValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toFilterValue);
  if (!isPlainObject(value)) return value;
  if (isExtendedJsonValue(value)) {
    const [key, inner] = Object.entries(value)[0] as [string, unknown];
    const typed = typedScalar(key, inner);
    if (typed !== undefined) return typed;
  }
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) out[key] = toFilterValue(inner);
  return out;
}

function typedScalar(key: string, inner: unknown): unknown {
  if (key === '$oid' && typeof inner === 'string') return new FilterObjectId(inner.toLowerCase());
  if (key === '$date') {
    const ms =
      typeof inner === 'string'
        ? Date.parse(inner)
        : isPlainObject(inner) && typeof inner.$numberLong === 'string'
          ? Number(inner.$numberLong)
          : typeof inner === 'number'
            ? inner
            : Number.NaN;
    return Number.isNaN(ms) ? undefined : new FilterDate(ms);
  }
  if (typeof inner !== 'string') return undefined;
  if (key === '$numberLong' && /^-?\d+$/.test(inner)) return new FilterDecimal('long', inner);
  if (key === '$numberDecimal' && parseDecimal(inner) !== undefined)
    return new FilterDecimal('decimal', inner);
  if (key === '$numberInt' || key === '$numberDouble') {
    const n = Number(inner);
    return Number.isNaN(n) && inner !== 'NaN' ? undefined : n;
  }
  return undefined;
}

type Decimal =
  | { kind: 'nan' }
  | { kind: 'infinity'; sign: 1 | -1 }
  /** sign × 0.digits × 10^magnitude, digits without leading or trailing zeros ('' is zero). */
  | { kind: 'finite'; sign: 1 | -1; digits: string; magnitude: number };

function parseDecimal(text: string): Decimal | undefined {
  const t = text.trim();
  if (/^[+-]?NaN$/i.test(t)) return { kind: 'nan' };
  const inf = /^([+-])?Inf(inity)?$/i.exec(t);
  if (inf) return { kind: 'infinity', sign: inf[1] === '-' ? -1 : 1 };
  const m = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(t);
  if (m === null || (m[2] ?? '') + (m[3] ?? '') === '') return undefined;
  const whole = m[2] ?? '';
  const all = whole + (m[3] ?? '');
  const leading = /^0*/.exec(all)?.[0].length ?? 0;
  const digits = all.slice(leading).replace(/0+$/, '');
  const magnitude = whole.length - leading + Number(m[4] ?? '0');
  return { kind: 'finite', sign: m[1] === '-' ? -1 : 1, digits, magnitude };
}

function decimalOf(value: unknown): Decimal | undefined {
  if (typeof value === 'number') return parseDecimal(String(value));
  if (value instanceof FilterDecimal) return parseDecimal(value.text);
  return undefined;
}

/** MongoDB's numeric order: NaN first, then -Infinity, the numbers, Infinity. */
function compareDecimals(a: Decimal, b: Decimal): number {
  const rank = (d: Decimal) =>
    d.kind === 'nan'
      ? 0
      : d.kind === 'infinity'
        ? 2 + d.sign
        : d.digits === ''
          ? 2
          : 2 + d.sign / 2;
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (a.kind !== 'finite' || b.kind !== 'finite' || a.digits === '') return 0;
  // Same sign, both non-zero: compare magnitudes, then digits.
  const magnitude = a.magnitude - b.magnitude;
  const order =
    magnitude !== 0 ? magnitude : a.digits < b.digits ? -1 : a.digits > b.digits ? 1 : 0;
  return order * a.sign;
}

/**
 * The order of two values of one BSON type bracket (numbers, strings, dates, ObjectIds,
 * booleans), or undefined when they are not comparable: `$gt`, `$lt` … then do not match.
 */
export function compareFilterValues(a: unknown, b: unknown): number | undefined {
  const da = decimalOf(a);
  const db = decimalOf(b);
  if (da !== undefined || db !== undefined)
    return da !== undefined && db !== undefined ? compareDecimals(da, db) : undefined;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a instanceof FilterDate && b instanceof FilterDate) return a.ms - b.ms;
  if (a instanceof FilterObjectId && b instanceof FilterObjectId)
    return a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : 0;
  return undefined;
}

/**
 * MongoDB equality: numbers by value across int, int64, double and decimal; an embedded
 * document equals one with the same fields in the same order; null equals a missing field.
 * One addition to MongoDB: an ObjectId also equals its hex string.
 */
export function filterValuesEqual(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined || b === null || b === undefined)
    return (a ?? null) === (b ?? null);
  const order = compareFilterValues(a, b);
  if (order !== undefined) return order === 0;
  if (a instanceof FilterObjectId && typeof b === 'string') return a.hex === b.toLowerCase();
  if (b instanceof FilterObjectId && typeof a === 'string') return b.hex === a.toLowerCase();
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((x, i) => filterValuesEqual(x, b[i]))
    );
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length && ka.every((k, i) => k === kb[i] && filterValuesEqual(a[k], b[k]))
    );
  }
  return a === b;
}

/** `$type` aliases, as MongoDB names them, of the types a relaxed Extended JSON message holds. */
export const FILTER_TYPES: Record<string, (value: unknown) => boolean> = {
  number: (v) => typeof v === 'number' || v instanceof FilterDecimal,
  long: (v) => v instanceof FilterDecimal && v.bsonType === 'long',
  decimal: (v) => v instanceof FilterDecimal && v.bsonType === 'decimal',
  string: (v) => typeof v === 'string',
  bool: (v) => typeof v === 'boolean',
  null: (v) => v === null,
  object: isPlainObject,
  array: Array.isArray,
  objectId: (v) => v instanceof FilterObjectId,
  date: (v) => v instanceof FilterDate,
};
