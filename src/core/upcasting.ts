import { errorMessage } from './async.js';
import { HandlerFailedError, ValidationError } from './errors.js';
import type { EventMetadata, EventStore, RecordedEvent, SubscribeOptions } from './types.js';
import { handlerOf, mapReads, perEventOptions } from './readMapping.js';
import { describe } from './validation.js';

/** What an upcaster sees of a stored event. `metadata.schemaVersion` is the version it is at. */
export interface UpcastInput {
  type: string;
  data: unknown;
  metadata: EventMetadata;
}

/** What an upcaster returns: the new `data`, and optionally a new `type` or `metadata`. */
export interface UpcastOutput {
  /** Default: unchanged. */
  type?: string;
  data: unknown;
  /** Default: unchanged. `schemaVersion` is always set by the upcasting itself. */
  metadata?: EventMetadata;
}

/**
 * Turns one old version of one event type into the next version, so code only ever sees
 * current events while the store keeps what was written. An event's schema version is
 * `metadata.schemaVersion` (absent means 1); write the current version there when appending.
 *
 * @example
 * // v1 had `name`, v2 splits it:
 * const splitName: Upcaster = {
 *   type: 'UserRegistered',
 *   fromSchemaVersion: 1,
 *   upcast: ({ data }) => {
 *     const { name, ...rest } = data as { name: string };
 *     const [givenName = '', ...family] = name.split(' ');
 *     return { data: { ...rest, givenName, familyName: family.join(' ') } };
 *   },
 * };
 * // An old type name feeds into the chain of the new one at its version 1:
 * const rename: Upcaster = {
 *   type: 'UserCreated',
 *   fromSchemaVersion: 1,
 *   toSchemaVersion: 1,
 *   upcast: (e) => ({ type: 'UserRegistered', data: e.data }),
 * };
 */
export interface Upcaster {
  /** The stored event type this upcaster reads. */
  type: string;
  /** The schema version it reads (1 = events without `metadata.schemaVersion`). */
  fromSchemaVersion: number;
  /**
   * The schema version of what it returns. Default `fromSchemaVersion + 1`. Set it when the
   * upcaster renames the type, to the version of the new type its output matches.
   */
  toSchemaVersion?: number;
  upcast: (event: UpcastInput) => UpcastOutput;
}

/** A function giving the current form of any recorded event (unchanged when no upcaster applies). */
export type UpcastFunction = (event: RecordedEvent) => RecordedEvent;

const keyOf = (type: string, version: number): string => `${version}\u0000${type}`;

/**
 * Compiles upcasters into one function that applies them repeatedly (v1 → v2 → v3, across
 * renames) until none applies. The set is checked up front: a malformed upcaster or two for
 * the same type and version throw `ValidationError`; a cycle is detected when it happens.
 *
 * @example
 * const upcast = createUpcaster([splitName, rename]);
 * const current = (await store.readStream('user-42')).map(upcast);
 */
export function createUpcaster(upcasters: readonly Upcaster[]): UpcastFunction {
  if (!Array.isArray(upcasters)) {
    throw new ValidationError(
      'upcasters',
      `must be an array of upcasters; got ${describe(upcasters)}`,
    );
  }
  const byKey = new Map<string, { upcaster: Upcaster; index: number }>();
  upcasters.forEach((upcaster: Upcaster, index) => {
    const at = `upcasters[${index}]`;
    if (typeof upcaster !== 'object' || upcaster === null) {
      throw new ValidationError(
        at,
        `must be an object { type, fromSchemaVersion, upcast }; got ${describe(upcaster)}`,
      );
    }
    if (typeof upcaster.type !== 'string' || upcaster.type.length === 0) {
      throw new ValidationError(
        `${at}.type`,
        `must be a non-empty event type; got ${describe(upcaster.type)}`,
      );
    }
    checkVersion(upcaster.fromSchemaVersion, `${at}.fromSchemaVersion`);
    if (upcaster.toSchemaVersion !== undefined) {
      checkVersion(upcaster.toSchemaVersion, `${at}.toSchemaVersion`);
    }
    if (typeof upcaster.upcast !== 'function') {
      throw new ValidationError(
        `${at}.upcast`,
        `must be a function (event) => ({ data, type?, metadata? }); got ${describe(upcaster.upcast)}`,
      );
    }
    const key = keyOf(upcaster.type, upcaster.fromSchemaVersion);
    const clash = byKey.get(key);
    if (clash !== undefined) {
      throw new ValidationError(
        at,
        `upcasts '${upcaster.type}' from schema version ${upcaster.fromSchemaVersion}, like upcasters[${clash.index}]; keep exactly one upcaster per type and version`,
      );
    }
    byKey.set(key, { upcaster, index });
  });

  return (event: RecordedEvent): RecordedEvent => {
    let type = event.type;
    let data = event.data;
    let metadata = event.metadata ?? {};
    let version = schemaVersionOf(event);
    const seen = new Set<string>();
    for (;;) {
      const key = keyOf(type, version);
      const entry = byKey.get(key);
      if (entry === undefined) break;
      if (seen.has(key)) {
        throw new ValidationError(
          'upcasters',
          `upcasting event ${event.id} ('${event.type}') loops back to '${type}' schema version ${version}; check the upcasters' type renames and toSchemaVersion`,
        );
      }
      seen.add(key);
      const { upcaster } = entry;
      let out: UpcastOutput;
      try {
        out = upcaster.upcast({ type, data, metadata });
      } catch (error) {
        throw new HandlerFailedError(
          `Upcaster for '${type}' schema version ${version} failed on event ${event.id} (stream '${event.streamId}' version ${event.version}): ${errorMessage(error)}`,
          { cause: error, details: { eventId: event.id, type, schemaVersion: version } },
        );
      }
      if (typeof out !== 'object' || out === null || out.data === undefined) {
        throw new ValidationError(
          `upcasters[${entry.index}].upcast`,
          `must return { data, type?, metadata? } with data set; got ${describe(out)} for event ${event.id}`,
        );
      }
      if (out.type !== undefined && (typeof out.type !== 'string' || out.type.length === 0)) {
        throw new ValidationError(
          `upcasters[${entry.index}].upcast`,
          `returned an invalid type ${describe(out.type)} for event ${event.id}`,
        );
      }
      version = upcaster.toSchemaVersion ?? version + 1;
      type = out.type ?? type;
      data = out.data;
      metadata = { ...(out.metadata ?? metadata), schemaVersion: version };
    }
    return seen.size === 0 ? event : { ...event, type, data, metadata };
  };
}

/**
 * Wraps a store so that everything read from it — `readStream`, `readAll` and the events a
 * `subscribe` handler receives — is upcast; writes and everything else go straight through.
 * A subscription's `eventTypes` filter applies to the upcast type, so a renamed event is
 * delivered under its new name.
 *
 * @example
 * const store = withUpcasting(createMemoryEventStore(), [splitName, rename]);
 * const handle = createCommandHandler({ store, decider });   // deciders see only v2 events
 */
export function withUpcasting(
  store: EventStore,
  upcasters: readonly Upcaster[] | UpcastFunction,
): EventStore {
  const upcast = typeof upcasters === 'function' ? upcasters : createUpcaster(upcasters);
  return {
    ...mapReads(store, (events) => events.map(upcast)),
    subscribe(options: SubscribeOptions) {
      const handler = handlerOf(options);
      const { eventTypes, ...rest } = options;
      // The filter moves after upcasting: the inner store only knows the stored type names.
      const types = eventTypes === undefined ? undefined : new Set(eventTypes);
      return store.subscribe(
        perEventOptions(rest, async (event, context) => {
          const current = upcast(event);
          if (types !== undefined && !types.has(current.type)) return;
          await handler(current, context);
        }),
      );
    },
  };
}

function checkVersion(value: unknown, path: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError(path, `must be an integer >= 1; got ${describe(value)}`);
  }
}

function schemaVersionOf(event: RecordedEvent): number {
  const version = event.metadata?.schemaVersion;
  if (version === undefined) return 1;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new ValidationError(
      'metadata.schemaVersion',
      `of event ${event.id} (stream '${event.streamId}' version ${event.version}) must be an integer >= 1; got ${describe(version)}`,
    );
  }
  return version;
}
