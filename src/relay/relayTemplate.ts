import jsonata from 'jsonata';
import { ConfigurationError } from '../core/errors.js';

/**
 * Templates and expressions in relay configs use JSONata (a kept, sandboxed JSON query
 * language: config text can compute values but cannot reach Node): `{{ expr }}` inside a
 * string is replaced by the expression's value. A string that is exactly one `{{ expr }}`
 * yields the raw value (a number stays a number). Plain dotted paths skip JSONata.
 */
export type Template = ((message: unknown) => Promise<unknown>) & {
  /** The same value at once, when no JSONata is involved (constants and plain paths). */
  readonly sync?: (message: unknown) => unknown;
};

/** A template that needs no JSONata: its value is known at once, too. */
function syncTemplate(evaluate: (message: unknown) => unknown): Template {
  return Object.assign((message: unknown) => Promise.resolve(evaluate(message)), {
    sync: evaluate,
  });
}

const SIMPLE_PATH = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;
const PART = /\{\{([\s\S]+?)\}\}/g;

export function getPath(value: unknown, path: string): unknown {
  return getSegments(value, path.split('.'));
}

/** A dotted path split once, for paths read per change (keys, topic names). */
export function pathReader(path: string): (value: unknown) => unknown {
  const segments = path.split('.');
  return (value) => getSegments(value, segments);
}

function getSegments(value: unknown, segments: readonly string[]): unknown {
  let current = value;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.split('.');
  let current: Record<string, unknown> = target;
  for (const segment of segments.slice(0, -1)) {
    const next = current[segment];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      const created: Record<string, unknown> = {};
      current[segment] = created;
      current = created;
    } else current = next as Record<string, unknown>;
  }
  current[segments.at(-1) as string] = value;
}

export function deletePath(target: unknown, path: string): void {
  const segments = path.split('.');
  const parent = segments.length === 1 ? target : getPath(target, segments.slice(0, -1).join('.'));
  if (parent !== null && typeof parent === 'object')
    delete (parent as Record<string, unknown>)[segments.at(-1) as string];
}

/** Compiles one JSONata expression; config errors name `where`. */
export function compileExpression(source: string, where: string): Template {
  const text = source.trim();
  if (SIMPLE_PATH.test(text) && !text.startsWith('$')) {
    return syncTemplate(pathReader(text));
  }
  let expression: jsonata.Expression;
  try {
    expression = jsonata(text);
  } catch (error) {
    const e = error as { message?: string; position?: number };
    throw new ConfigurationError(
      `relay config ${where}: expression '${text}' does not parse (${e.message ?? String(error)}${
        e.position !== undefined ? ` at character ${e.position}` : ''
      }); see https://docs.jsonata.org for the syntax`,
      { cause: error },
    );
  }
  return (message) => expression.evaluate(message) as Promise<unknown>;
}

/** Compiles a `{{ }}` template string; a string without `{{` is a constant. */
export function compileTemplate(source: string, where: string): Template {
  const parts: (string | Template)[] = [];
  let last = 0;
  for (const m of source.matchAll(PART)) {
    if (m.index > last) parts.push(source.slice(last, m.index));
    parts.push(compileExpression(m[1] as string, where));
    last = m.index + m[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  if (parts.length === 0) return syncTemplate(() => '');
  if (parts.length === 1) {
    const only = parts[0] as string | Template;
    return typeof only === 'string' ? syncTemplate(() => only) : only;
  }
  if (parts.every((part) => typeof part === 'string' || part.sync !== undefined)) {
    const syncParts = parts.map((part) => (typeof part === 'string' ? part : part.sync));
    return syncTemplate((message) => {
      let out = '';
      for (const part of syncParts)
        out +=
          typeof part === 'string' ? part : stringify((part as (m: unknown) => unknown)(message));
      return out;
    });
  }
  return async (message) => {
    let out = '';
    for (const part of parts)
      out += typeof part === 'string' ? part : stringify(await part(message));
    return out;
  };
}

/** How a value appears inside a string (topics, keys, URLs). */
export function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    // Relaxed Extended JSON: {$oid: '…'} → the hex string.
    if (
      entries.length === 1 &&
      typeof entries[0]?.[1] === 'string' &&
      entries[0][0].startsWith('$')
    )
      return entries[0][1];
  }
  return JSON.stringify(value);
}
