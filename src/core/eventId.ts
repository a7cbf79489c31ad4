/**
 * Time-ordered event ids (UUID version 7, RFC 9562): unique like random UUIDs, but new ids
 * sort after old ones, so unique indexes on event ids grow at their right edge instead of
 * splitting pages at random — the difference matters for SQLite and MongoDB alike.
 *
 * @example
 * newEventId(); // '019aa1d2-7c3e-7b1f-9a0c-4f1e2d3c4b5a'
 */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL_SIZE = 16 * 256;
let pool = new Uint8Array(0);
let poolOffset = POOL_SIZE;
let lastMs = 0;
let sequence = 0;

function random16(): Uint8Array {
  if (poolOffset + 16 > pool.length) {
    pool = new Uint8Array(POOL_SIZE);
    crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  return out;
}

export function newEventId(): string {
  let ms = Date.now();
  // Monotonic within this process even when the clock stalls or steps back: a 12-bit
  // counter in rand_a keeps ids generated in the same millisecond in order.
  if (ms <= lastMs) {
    ms = lastMs;
    sequence++;
    if (sequence > 0xfff) {
      ms = ++lastMs;
      sequence = 0;
    }
  } else {
    lastMs = ms;
    sequence = 0;
  }
  const r = random16();
  const b = new Uint8Array(16);
  b[0] = Math.floor(ms / 2 ** 40) & 0xff;
  b[1] = Math.floor(ms / 2 ** 32) & 0xff;
  b[2] = (ms >>> 24) & 0xff;
  b[3] = (ms >>> 16) & 0xff;
  b[4] = (ms >>> 8) & 0xff;
  b[5] = ms & 0xff;
  b[6] = 0x70 | ((sequence >>> 8) & 0x0f);
  b[7] = sequence & 0xff;
  b[8] = 0x80 | ((r[8] as number) & 0x3f);
  for (let i = 9; i < 16; i++) b[i] = r[i] as number;
  let s = '';
  for (let i = 0; i < 16; i++) {
    s += HEX[b[i] as number] as string;
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
  }
  return s;
}
