// Its own file so the command handler and the shared write code (commandOptions.ts) both use
// it without an import cycle; public through commandHandler.ts.

/** Namespace of Eventloom's name-based event ids (a random v4 UUID, fixed forever). */
const EVENT_ID_NAMESPACE = '97a97fde-8c8b-4c6d-ab82-893426298894';

/**
 * The id of the `index`-th event appended to `streamId` by the command with `idempotencyKey`:
 * a name-based UUID (RFC 9562 version 5) of `streamId + "\0" + key + "\0" + index`, so any
 * process — or any language with a UUIDv5 function — derives the same id, and the store's
 * idempotent re-append turns a duplicate into a no-op.
 *
 * @example
 * idempotentEventId('cart-42', 'req-7f3a', 0); // → '…-5…-…' (the same every time)
 */
export function idempotentEventId(streamId: string, idempotencyKey: string, index: number): string {
  return uuidV5(`${streamId}\u0000${idempotencyKey}\u0000${index}`, EVENT_ID_NAMESPACE);
}

function uuidV5(name: string, namespace: string): string {
  const ns = namespace.replace(/-/g, '');
  const nameBytes = new TextEncoder().encode(name);
  const input = new Uint8Array(16 + nameBytes.length);
  for (let i = 0; i < 16; i++) input[i] = parseInt(ns.slice(i * 2, i * 2 + 2), 16);
  input.set(nameBytes, 16);
  const hash = sha1(input);
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = Array.from(hash.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// SHA-1 (FIPS 180-4) in plain TypeScript because the core may not import node:crypto and
// WebCrypto's digest is async. Its collision weakness does not matter here: a forged
// collision can only make the forger's own append fail with an idempotency conflict.
function sha1(message: Uint8Array): Uint8Array {
  const paddedLength = Math.ceil((message.length + 9) / 64) * 64;
  const bytes = new Uint8Array(paddedLength);
  bytes.set(message);
  bytes[message.length] = 0x80;
  const view = new DataView(bytes.buffer);
  const bitLength = message.length * 8;
  view.setUint32(paddedLength - 8, Math.floor(bitLength / 0x1_0000_0000));
  view.setUint32(paddedLength - 4, bitLength >>> 0);

  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const w = new Uint32Array(80);
  const wAt = (i: number): number => w[i] as number;
  for (let offset = 0; offset < paddedLength; offset += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(offset + i * 4);
    for (let i = 16; i < 80; i++) {
      const x = wAt(i - 3) ^ wAt(i - 8) ^ wAt(i - 14) ^ wAt(i - 16);
      w[i] = (x << 1) | (x >>> 31);
    }
    let [a, b, c, d, e] = h as [number, number, number, number, number];
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + wAt(i)) >>> 0;
      e = d;
      d = c;
      c = ((b << 30) | (b >>> 2)) >>> 0;
      b = a;
      a = t;
    }
    h[0] = ((h[0] as number) + a) >>> 0;
    h[1] = ((h[1] as number) + b) >>> 0;
    h[2] = ((h[2] as number) + c) >>> 0;
    h[3] = ((h[3] as number) + d) >>> 0;
    h[4] = ((h[4] as number) + e) >>> 0;
  }
  const out = new Uint8Array(20);
  const outView = new DataView(out.buffer);
  h.forEach((word, i) => outView.setUint32(i * 4, word));
  return out;
}
