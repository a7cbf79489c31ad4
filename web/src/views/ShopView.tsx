import { type FormEvent, useEffect, useState } from 'react';
import { Field } from '../components/Field.tsx';
import { Link } from '../components/Link.tsx';
import { ProblemMessage } from '../components/ProblemMessage.tsx';
import { RelativeTime } from '../components/RelativeTime.tsx';
import {
  type Order,
  type OrderStatus,
  PAYMENT_METHODS,
  type PaymentMethod,
  type Product,
} from '../api/types.ts';
import { formatCents, parseCents } from '../lib/format.ts';
import type { FormState } from '../store/appState.ts';
import { commands, useAppState } from '../store/appStore.ts';
import { useForm } from './useForm.ts';

const STATUS_LABELS: Record<OrderStatus, string> = {
  placed: 'Reserving stock',
  reserved: 'Awaiting payment',
  rejected: 'Rejected',
  paid: 'Paid',
  shipped: 'Shipped',
  cancelled: 'Cancelled',
};

const METHOD_LABELS: Record<PaymentMethod, string> = {
  card: 'Card',
  bank_transfer: 'Bank transfer',
  wallet: 'Wallet',
};

function AddProductForm() {
  const { values, set, pending, problem } = useForm('product', {
    name: '',
    description: '',
    price: '',
  });
  const [priceError, setPriceError] = useState<string>();
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const cents = parseCents(values.price);
    if (cents === undefined) {
      setPriceError('Enter a price like 12.50');
      return;
    }
    setPriceError(undefined);
    void commands.addProduct({
      name: values.name,
      price_cents: cents,
      ...(values.description.trim() !== '' ? { description: values.description } : {}),
    });
  };
  // The price is typed in dollars; the API's errors name `price_cents`.
  const priceProblem =
    priceError !== undefined
      ? {
          type: 'local',
          title: '',
          status: 0,
          detail: '',
          errors: [{ pointer: '/price_cents', field: 'price_cents', message: priceError }],
        }
      : problem;
  return (
    <form onSubmit={onSubmit} aria-label="Add a product" className="card" noValidate>
      <h2>Add a product</h2>
      <Field
        label="Product name"
        name="name"
        value={values.name}
        onChange={set('name')}
        problem={problem}
        required
      />
      <Field
        label="Description"
        name="description"
        value={values.description}
        onChange={set('description')}
        problem={problem}
      />
      <Field
        label="Price (USD)"
        name="price_cents"
        value={values.price}
        onChange={set('price')}
        problem={priceProblem}
        inputMode="decimal"
        placeholder="12.50"
        required
      />
      <ProblemMessage problem={problem} />
      <button type="submit" disabled={pending}>
        {pending ? 'Adding…' : 'Add product'}
      </button>
    </form>
  );
}

function ProductCard({ product, loggedIn }: { product: Product; loggedIn: boolean }) {
  const inCart = useAppState((s) => s.shop.cart[product.id] ?? 0);
  return (
    <li className="card product">
      <h3>{product.name}</h3>
      {product.description !== '' ? <p>{product.description}</p> : null}
      <p className="price">{formatCents(product.price_cents)}</p>
      {product.stock !== null ? (
        <p className="muted">{product.stock === 0 ? 'Sold out' : `${product.stock} left`}</p>
      ) : null}
      <p className="muted small">
        Added by @{product.added_by.username}
        {product.added_by.role === 'admin' ? ' (admin)' : ''},{' '}
        <RelativeTime iso={product.created_at} />
      </p>
      {loggedIn ? (
        <button
          type="button"
          onClick={() => commands.addToCart(product.id)}
          aria-label={`Add ${product.name} to cart`}
        >
          Add to cart{inCart > 0 ? ` (${inCart})` : ''}
        </button>
      ) : null}
    </li>
  );
}

const IDLE: FormState = { pending: false, succeeded: 0 };

function Cart({ products }: { products: readonly Product[] }) {
  const cart = useAppState((s) => s.shop.cart);
  const form = useAppState((s) => s.forms.order ?? IDLE);
  const lines = Object.entries(cart).flatMap(([id, quantity]) => {
    const product = products.find((p) => p.id === id);
    return product === undefined ? [] : [{ product, quantity }];
  });
  const total = lines.reduce((sum, l) => sum + l.quantity * l.product.price_cents, 0);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void commands.placeOrder();
  };
  return (
    <section aria-labelledby="cart-heading" className="card cart">
      <h2 id="cart-heading">Cart</h2>
      {lines.length === 0 ? (
        <p className="muted">Your cart is empty.</p>
      ) : (
        <form onSubmit={onSubmit} aria-label="Place order">
          <table>
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col">Quantity</th>
                <th scope="col" className="num">
                  Amount
                </th>
              </tr>
            </thead>
            <tbody>
              {lines.map(({ product, quantity }) => (
                <tr key={product.id}>
                  <td>{product.name}</td>
                  <td>
                    <input
                      type="number"
                      min={0}
                      max={100}
                      value={quantity}
                      aria-label={`Quantity of ${product.name}`}
                      onChange={(e) => commands.setCartQuantity(product.id, Number(e.target.value))}
                      className="qty"
                    />
                  </td>
                  <td className="num">{formatCents(quantity * product.price_cents)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row" colSpan={2}>
                  Total
                </th>
                <td className="num" data-testid="cart-total">
                  {formatCents(total)}
                </td>
              </tr>
            </tfoot>
          </table>
          <ProblemMessage problem={form.problem} />
          <button type="submit" disabled={form.pending}>
            {form.pending ? 'Placing order…' : 'Place order'}
          </button>
        </form>
      )}
    </section>
  );
}

function PayForm({ order }: { order: Order }) {
  const form = useAppState((s) => s.forms[`pay:${order.id}`] ?? IDLE);
  const [method, setMethod] = useState<PaymentMethod>('card');
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void commands.payOrder(order, method);
  };
  return (
    <form onSubmit={onSubmit} aria-label={`Pay order ${order.id.slice(0, 8)}`} className="pay-form">
      <label>
        Pay with{' '}
        <select value={method} onChange={(e) => setMethod(e.target.value as PaymentMethod)}>
          {PAYMENT_METHODS.map((m) => (
            <option key={m} value={m}>
              {METHOD_LABELS[m]}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={form.pending}>
        {form.pending ? 'Paying…' : `Pay ${formatCents(order.total_cents)}`}
      </button>
      <ProblemMessage problem={form.problem} />
    </form>
  );
}

/** Statuses the shop's services move on by themselves (stock reservation, shipping). */
const MOVING_ON: readonly OrderStatus[] = ['placed', 'paid'];
const ORDER_REFRESH_MS = 1000;

function Orders() {
  const orders = useAppState((s) => s.shop.orders);
  const list = orders.data ?? [];
  // The services answer asynchronously: reload while an order waits for them.
  const waiting = list.some((order) => MOVING_ON.includes(order.status));
  useEffect(() => {
    if (!waiting) return;
    const timer = setInterval(() => void commands.loadOrders(), ORDER_REFRESH_MS);
    return () => clearInterval(timer);
  }, [waiting]);
  return (
    <section aria-labelledby="orders-heading">
      <h2 id="orders-heading">Your orders</h2>
      <ProblemMessage problem={orders.status === 'failed' ? orders.problem : undefined} />
      {orders.status === 'ready' && list.length === 0 ? (
        <p className="muted">No orders yet.</p>
      ) : null}
      <ol className="orders" aria-label="Orders">
        {list.map((order) => (
          <li key={order.id} className="card order" data-status={order.status}>
            <div className="heading-row">
              <h3>
                Order <code>{order.id.slice(0, 8)}</code>
              </h3>
              <span className={`badge badge-${order.status}`}>{STATUS_LABELS[order.status]}</span>
            </div>
            <ul className="order-lines">
              {order.items.map((line) => (
                <li key={line.product_id}>
                  {line.quantity} × {line.name} — {formatCents(line.line_total_cents)}
                </li>
              ))}
            </ul>
            <p>
              Total <strong>{formatCents(order.total_cents)}</strong> · placed{' '}
              <RelativeTime iso={order.placed_at} /> ·{' '}
              <Link to={{ name: 'stream', streamId: `order-${order.id}`, version: undefined }}>
                events
              </Link>
            </p>
            {order.payment !== null ? (
              <p className="muted">
                Paid {formatCents(order.payment.amount_cents)} by{' '}
                {METHOD_LABELS[order.payment.method]},{' '}
                <RelativeTime iso={order.payment.processed_at} />
              </p>
            ) : order.status === 'reserved' ? (
              <PayForm order={order} />
            ) : null}
          </li>
        ))}
      </ol>
    </section>
  );
}

export function ShopView() {
  const products = useAppState((s) => s.shop.products);
  const session = useAppState((s) => s.session);
  const loggedIn = session.status === 'authenticated';
  const userId = session.user?.id;

  useEffect(() => {
    void commands.loadProducts();
  }, []);
  useEffect(() => {
    if (userId !== undefined) void commands.loadOrders();
  }, [userId]);

  const list = products.data ?? [];
  return (
    <div className="shop">
      <section aria-labelledby="products-heading" className="shop-products">
        <h1 id="products-heading">Shop</h1>
        {!loggedIn && session.status === 'anonymous' ? (
          <p className="card muted">
            <Link to={{ name: 'login' }}>Log in</Link> to add products, fill a cart and order.
          </p>
        ) : null}
        <ProblemMessage problem={products.status === 'failed' ? products.problem : undefined} />
        {products.status === 'ready' && list.length === 0 ? (
          <p className="muted">No products yet.</p>
        ) : null}
        <ul className="products" aria-label="Products">
          {list.map((p) => (
            <ProductCard key={p.id} product={p} loggedIn={loggedIn} />
          ))}
        </ul>
      </section>
      {loggedIn ? (
        <aside className="shop-side" aria-label="Cart and orders">
          <Cart products={list} />
          <AddProductForm />
          <Orders />
        </aside>
      ) : null}
    </div>
  );
}
