/**
 * String serializers for our producers that encode what repeats only once. The client's
 * `stringSerializers` call `Buffer.from` for every key, value, header name and header value
 * of every message; header names are a handful of constants and a stream's events share a
 * key, and a produce request of 2000 events spent about a tenth of its client time there.
 * The client copies these bytes into the request and never changes them, so one Buffer can
 * serve every message.
 */

/** Distinct header names kept: every message carries the same few. */
const MAX_HEADER_NAMES = 64;
/** Keys kept: about the streams of one produce request (events of a stream come in runs). */
const MAX_KEYS = 4096;

const headerNames = new Map<string, Buffer>();

/** A header name as bytes, encoded once. */
export function headerNameBytes(name: string | undefined): Buffer | undefined {
  if (typeof name !== 'string') return undefined;
  let bytes = headerNames.get(name);
  if (bytes === undefined) {
    bytes = Buffer.from(name, 'utf8');
    if (headerNames.size < MAX_HEADER_NAMES) headerNames.set(name, bytes);
  }
  return bytes;
}

/** A serializer of message keys that encodes each of the last few thousand keys once. */
export function cachedKeySerializer(): (key: string | undefined) => Buffer | undefined {
  let keys = new Map<string, Buffer>();
  return (key) => {
    if (typeof key !== 'string') return undefined;
    let bytes = keys.get(key);
    if (bytes === undefined) {
      bytes = Buffer.from(key, 'utf8');
      // Dropping all at once costs less per key than an LRU, and the next runs refill it.
      if (keys.size >= MAX_KEYS) keys = new Map();
      keys.set(key, bytes);
    }
    return bytes;
  };
}
