import { createHash } from 'node:crypto';

/**
 * A UUID (version 8, RFC 9562) derived from its parts: the same parts give the same id. An
 * idempotency key thereby names the stream a create command writes, so a retried create
 * finds its original instead of creating a second entity.
 *
 * @example
 * derivedId('order', userId, idempotencyKey); // '3f2a…-8…'
 */
export function derivedId(...parts: string[]): string {
  const hex = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `8${hex.slice(13, 16)}`,
    `${variant}${hex.slice(17, 20)}`,
    hex.slice(20, 32),
  ].join('-');
}
