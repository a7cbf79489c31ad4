import type { Payment } from '../app/index.js';
import {
  AddProductBody,
  EntityParams,
  ListQuery,
  OrderEnvelope,
  OrderList,
  PaymentList,
  PaymentResult,
  PlaceOrderBody,
  ProcessPaymentBody,
  ProductEnvelope,
  ProductList,
} from './apiSchemas.js';
import {
  afterWrite,
  etagOf,
  IDEMPOTENCY_KEY as IDEMPOTENCY_KEY_PATTERN,
  IF_MATCH,
  readModelsAt,
  writeOptionsOf,
} from './httpHelpers.js';
import { HttpProblem } from './problem.js';
import type { RouteDeps } from './routeDeps.js';
import { toApiOrder, toApiPayment, toApiProduct } from './wireFormat.js';

const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  description:
    'A retry with the same key and body answers the original result and writes nothing; the same key with another body answers 422',
  pattern: IDEMPOTENCY_KEY_PATTERN,
};

/** `/api/shop`: products, orders and their payments. */
export function registerShopRoutes({ router, app, readYourWritesMs }: RouteDeps): void {
  const { shop, queries } = app;

  router.route(
    {
      method: 'get',
      path: '/api/shop/products',
      operationId: 'listProducts',
      summary: 'List products',
      tags: ['shop'],
      auth: 'none',
      query: ListQuery,
      responses: { 200: { description: 'The products', schema: ProductList } },
    },
    async (c, { query }) => {
      await readModelsAt(app, query.min_position);
      const products = await queries.products({ limit: query.limit ?? 100 });
      return c.json({ products: products.map(toApiProduct) });
    },
  );

  router.route(
    {
      method: 'post',
      path: '/api/shop/products',
      operationId: 'addProduct',
      summary: 'Add a product',
      description: 'Any user or admin; the ProductAdded event records who, and as what role.',
      tags: ['shop'],
      auth: 'required',
      body: AddProductBody,
      headers: [IDEMPOTENCY_KEY],
      responses: { 201: { description: 'Added', schema: ProductEnvelope } },
    },
    async (c, { body, actor }) => {
      const result = await shop.addProduct(
        actor,
        {
          name: body.name,
          description: body.description ?? '',
          priceCents: body.price_cents,
          stock: body.stock ?? null,
        },
        writeOptionsOf(c, actor),
      );
      const headers = await afterWrite(c, app, result, readYourWritesMs);
      return c.json({ product: toApiProduct(result.value) }, 201, {
        ...headers,
        location: `/api/shop/products/${result.value.id}`,
      });
    },
  );

  router.route(
    {
      method: 'get',
      path: '/api/shop/products/:id',
      operationId: 'getProduct',
      summary: 'Get a product',
      tags: ['shop'],
      auth: 'none',
      params: EntityParams,
      responses: {
        200: { description: 'The product', schema: ProductEnvelope },
        404: { description: 'No such product' },
      },
    },
    async (c, { params }) => {
      const product = await shop.getProduct(params.id);
      if (product === undefined) {
        throw new HttpProblem('not-found', { detail: `There is no product ${params.id}` });
      }
      return c.json({ product: toApiProduct(product) }, 200, { etag: etagOf(product.version) });
    },
  );

  router.route(
    {
      method: 'get',
      path: '/api/shop/orders',
      operationId: 'listOrders',
      summary: 'List your orders (admins: all orders)',
      tags: ['shop'],
      auth: 'required',
      query: ListQuery,
      responses: { 200: { description: 'The orders', schema: OrderList } },
    },
    async (c, { query, actor }) => {
      await readModelsAt(app, query.min_position);
      const orders = await queries.orders({
        ...(actor.role === 'admin' ? {} : { userId: actor.userId }),
        limit: query.limit ?? 100,
      });
      return c.json({ orders: orders.map(toApiOrder) });
    },
  );

  router.route(
    {
      method: 'post',
      path: '/api/shop/orders',
      operationId: 'placeOrder',
      summary: 'Place an order',
      description:
        'Appends OrderPlaced with the products\u2019 current prices. The inventory service then reserves their stock: the order, answered placed, becomes reserved, or rejected when a line is short (nothing held). An app without the services answers it reserved or rejected at once.',
      tags: ['shop'],
      auth: 'required',
      body: PlaceOrderBody,
      headers: [IDEMPOTENCY_KEY],
      responses: {
        201: { description: 'Placed', schema: OrderEnvelope },
        422: { description: 'An item names a product that does not exist' },
      },
    },
    async (c, { body, actor }) => {
      const result = await shop.placeOrder(
        actor,
        { items: body.items.map((i) => ({ productId: i.product_id, quantity: i.quantity })) },
        writeOptionsOf(c, actor),
      );
      const headers = await afterWrite(c, app, result, readYourWritesMs);
      return c.json({ order: toApiOrder(result.value) }, 201, {
        ...headers,
        location: `/api/shop/orders/${result.value.id}`,
      });
    },
  );

  router.route(
    {
      method: 'get',
      path: '/api/shop/orders/:id',
      operationId: 'getOrder',
      summary: 'Get one of your orders',
      tags: ['shop'],
      auth: 'required',
      params: EntityParams,
      responses: {
        200: { description: 'The order', schema: OrderEnvelope, headers: { ETag: 'Its version' } },
        404: { description: 'No such order (or not yours)' },
      },
    },
    async (c, { params, actor }) => {
      const order = await shop.getOrder(actor, params.id);
      if (order === undefined) {
        throw new HttpProblem('not-found', { detail: `There is no order ${params.id}` });
      }
      return c.json({ order: toApiOrder(order) }, 200, { etag: etagOf(order.version) });
    },
  );

  router.route(
    {
      method: 'post',
      path: '/api/shop/orders/:id/payments',
      operationId: 'payOrder',
      summary: 'Pay an order',
      description:
        'Appends PaymentProcessed. Only a reserved order can be paid; the amount must equal the order\u2019s total; an order is paid once.',
      tags: ['shop'],
      auth: 'required',
      params: EntityParams,
      body: ProcessPaymentBody,
      headers: [
        IDEMPOTENCY_KEY,
        {
          name: 'If-Match',
          description: 'The order\u2019s ETag: a changed order answers 412',
          pattern: IF_MATCH,
        },
      ],
      responses: {
        201: { description: 'Paid', schema: PaymentResult },
        404: { description: 'No such order (or not yours)' },
        409: {
          description:
            'Already paid (`already_paid`), not reserved (`not_reserved`), or cancelled (`order_cancelled`)',
        },
        412: { description: 'If-Match does not match the order\u2019s version' },
        422: { description: 'The amount is not the order\u2019s total' },
      },
    },
    async (c, { params, body, actor }) => {
      const result = await shop.payOrder(
        actor,
        params.id,
        { amountCents: body.amount_cents, method: body.method },
        writeOptionsOf(c, actor),
      );
      // An idempotent replay of some other write to this order (a key reused from before keys
      // were remembered per request) has no payment to answer with.
      if ((result.value.payment as Payment | undefined) === undefined) {
        throw new HttpProblem('idempotency-key-reused', {
          detail:
            'This Idempotency-Key was already used for another write to this order; send a new key to pay it',
        });
      }
      const headers = await afterWrite(c, app, result, readYourWritesMs);
      return c.json(
        { payment: toApiPayment(result.value.payment), order: toApiOrder(result.value.order) },
        201,
        headers,
      );
    },
  );

  router.route(
    {
      method: 'get',
      path: '/api/shop/payments',
      operationId: 'listPayments',
      summary: 'List your payments (admins: all payments)',
      tags: ['shop'],
      auth: 'required',
      query: ListQuery,
      responses: { 200: { description: 'The payments', schema: PaymentList } },
    },
    async (c, { query, actor }) => {
      await readModelsAt(app, query.min_position);
      const payments = await queries.payments({
        ...(actor.role === 'admin' ? {} : { userId: actor.userId }),
        limit: query.limit ?? 100,
      });
      return c.json({ payments: payments.map(toApiPayment) });
    },
  );
}
