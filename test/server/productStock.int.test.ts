import { describe, expect, it } from 'vitest';
import { ProductEnvelope, ProductList } from '../../src/server/apiSchemas.js';
import { useRealApp } from './realSocket.js';
import { PASSWORD } from './serverHarness.js';

// Over a real socket, with the app as `eventloom start` wires it (SQLite, read models).
const { app } = useRealApp({}, 'eventloom-stock-');

let auth = '';
const send = (method: string, path: string, body?: unknown) =>
  fetch(`${app().url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(auth === '' ? {} : { authorization: auth }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function ensureUser(): Promise<void> {
  if (auth !== '') return;
  const res = await send('POST', '/api/v1/users', {
    username: 'stocker',
    email: 'stocker@stock.test',
    name: 'Stock Keeper',
    password: PASSWORD,
  });
  expect(res.status).toBe(201);
  auth = `Basic ${Buffer.from(`stocker:${PASSWORD}`).toString('base64')}`;
}

describe('product stock over HTTP', () => {
  it('shows the stock a product was added with, and null for one added without', async () => {
    await ensureUser();
    const limited = await send('POST', '/api/shop/products', {
      name: 'Lamp',
      price_cents: 900,
      stock: 3,
    });
    expect(limited.status).toBe(201);
    const lamp = ProductEnvelope.parse(await limited.json()).product;
    expect(lamp.stock).toBe(3);
    const unlimited = await send('POST', '/api/shop/products', { name: 'Ebook', price_cents: 500 });
    const ebook = ProductEnvelope.parse(await unlimited.json()).product;
    expect(ebook.stock).toBeNull();

    const one = ProductEnvelope.parse(
      await (await send('GET', `/api/shop/products/${lamp.id}`)).json(),
    );
    expect(one.product.stock).toBe(3);
    const list = ProductList.parse(
      await (await send('GET', `/api/shop/products?min_position=0`)).json(),
    );
    expect(list.products.find((p) => p.id === lamp.id)?.stock).toBe(3);
    expect(list.products.find((p) => p.id === ebook.id)?.stock).toBeNull();
  });

  it.each([
    ['negative', -1],
    ['not an integer', 1.5],
    ['too large', 1_000_000_001],
    ['a string', '3'],
  ])(
    'refuses a stock that is %s with a problem naming /stock, and adds nothing',
    async (_, stock) => {
      await ensureUser();
      const before = ProductList.parse(await (await send('GET', '/api/shop/products')).json());
      const res = await send('POST', '/api/shop/products', {
        name: 'Bad',
        price_cents: 100,
        stock,
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await res.json()) as {
        type: string;
        errors: { pointer: string; message: string }[];
      };
      expect(problem.type).toBe('urn:eventloom:problem:validation-failed');
      expect(problem.errors.map((e) => e.pointer)).toEqual(['/stock']);
      // Refused for its value, not as a field the API does not know.
      expect(problem.errors[0]?.message).not.toMatch(/unrecognized|unknown/i);
      const after = ProductList.parse(await (await send('GET', '/api/shop/products')).json());
      expect(after.products).toHaveLength(before.products.length);
    },
  );
});
