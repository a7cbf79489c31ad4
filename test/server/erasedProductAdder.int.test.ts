import { describe, expect, it } from 'vitest';
import { ProductEnvelope, ProductList } from '../../src/server/apiSchemas.js';
import { useRealApp } from './realSocket.js';
import { PASSWORD } from './serverHarness.js';

// The app as `eventloom start` wires it (SQLite, personal data encrypted, deletion forgets),
// in-process so the test reads the same zod schemas the OpenAPI document is made from.
const { app } = useRealApp({}, 'eventloom-erased-adder-');

const auth = `Basic ${Buffer.from(`ada:${PASSWORD}`).toString('base64')}`;
const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${app().url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('a product whose adder deleted their account', () => {
  it('is still answered in its documented shape, the adder shown as erased', async () => {
    const registered = await send('POST', '/api/v1/users', {
      username: 'ada',
      email: 'ada@adder.test',
      name: 'Ada Adder',
      password: PASSWORD,
    });
    expect(registered.status).toBe(201);
    const adaId = ((await registered.json()) as { user: { id: string } }).user.id;
    const added = await send(
      'POST',
      '/api/shop/products',
      { name: 'Mug', price_cents: 1500 },
      { authorization: auth },
    );
    expect(added.status).toBe(201);
    const mug = ProductEnvelope.parse(await added.json()).product;

    const deleted = await send('DELETE', `/api/v1/users/${adaId}`, undefined, {
      authorization: auth,
      'if-match': '"1"',
    });
    expect(deleted.status).toBe(204);

    // The event sealed the whole adder, its id too: the product's own stream no longer knows it.
    const one = ProductEnvelope.parse(
      await (await send('GET', `/api/shop/products/${mug.id}`)).json(),
    );
    expect(one.product.added_by).toEqual({
      user_id: '[erased]',
      username: '[erased]',
      role: 'user',
    });
    const list = ProductList.parse(await (await send('GET', '/api/shop/products')).json());
    expect(list.products.find((p) => p.id === mug.id)?.added_by).toEqual({
      user_id: adaId,
      username: '[erased]',
      role: 'user',
    });
  });
});
