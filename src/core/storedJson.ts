import type { RecordedEvent } from './types.js';

/** Where an event read with `storedJson` keeps the JSON text it was stored as. */
const STORED_JSON = Symbol('eventloom.storedJson');

/** The JSON text of an event's data and metadata, as its store holds them. */
export interface StoredJson {
  readonly data: string;
  readonly metadata: string;
}

interface Held extends StoredJson {
  /** The values parsed from that text, as the event was read. */
  readonly dataValue: unknown;
  readonly metadataValue: unknown;
}

type WithStoredJson = RecordedEvent & { [STORED_JSON]?: Held };

/**
 * An event as a store that keeps JSON text read it for a subscriber that asked for
 * `storedJson`: its data and metadata parsed as usual, and the text they were parsed from.
 */
export function eventWithStoredJson(
  event: RecordedEvent,
  dataJson: string,
  metadataJson: string,
): RecordedEvent {
  const held: Held = {
    data: dataJson,
    metadata: metadataJson,
    dataValue: event.data,
    metadataValue: event.metadata,
  };
  (event as WithStoredJson)[STORED_JSON] = held;
  return event;
}

/**
 * The JSON text `event`'s data and metadata were stored as, if its store handed it on (see
 * `SubscribeOptions.storedJson`) and the event still holds the values read from that text. A
 * copy with other data or metadata (an upcast, a decryption, a redaction: `{ ...event, data }`)
 * gets undefined, and so does anything a wrapper made. Changing the data in place is not
 * noticed: whoever asks for stored JSON copies it before handing the event to other code.
 */
export function storedJsonOf(event: RecordedEvent): StoredJson | undefined {
  const held = (event as WithStoredJson)[STORED_JSON];
  return held !== undefined &&
    held.dataValue === event.data &&
    held.metadataValue === event.metadata
    ? held
    : undefined;
}
