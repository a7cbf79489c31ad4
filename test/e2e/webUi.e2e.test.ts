import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, chromiumAvailable, launchChromium } from './chromium.js';
import { type EventloomProcess, startEventloom } from './eventloomProcess.js';

// The explorer needs a login here, so the live stream is authorized by the session cookie.
// The carrier is slow, so the paid order stays paid while the tests look at it.
const SERVER_ENV = { EXPLORER_ACCESS: 'authenticated', SHIPPING_DELAY_MS: '600000' };
const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));
const run = Date.now().toString(36);
const user = {
  username: `ada_${run}`,
  name: 'Ada Lovelace',
  email: `ada_${run}@example.org`,
  password: 'correct horse battery',
};
const productName = `Replay kit ${run}`;
/** API clients (here: another device of the user) authenticate with HTTP Basic. */
const basicAuth = () =>
  `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
const tweetText = `Hello from the browser test ${run}: every change is an event.`;

describe.skipIf(!chromiumAvailable())('the web UI in Chromium', () => {
  let server: EventloomProcess;
  let dataDir: string | undefined;
  let browser: Browser;
  let page: Page;
  /** A second tab on the event explorer, watching the live tail while the first one acts. */
  let explorer: Page;
  const pageErrors: string[] = [];

  const shot = async (p: Page, name: string) => {
    await p.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };

  const watch = (p: Page, tab: string) => {
    p.on('pageerror', (error) => pageErrors.push(`${tab}: ${error.message}`));
    p.on('console', (message) => {
      // A 4xx the UI shows as a problem is logged by Chromium too; anything else is a bug.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        pageErrors.push(`${tab}: ${message.text()}`);
      }
    });
  };

  beforeAll(async () => {
    // Only this run's screenshots (CI keeps the folder as an artifact).
    await rm(SCREENSHOTS, { recursive: true, force: true });
    await mkdir(SCREENSHOTS, { recursive: true });
    dataDir = await mkdtemp(join(tmpdir(), 'eventloom-e2e-'));
    server = await startEventloom({ env: SERVER_ENV, dataDir });
    browser = await launchChromium();
    page = await browser.context.newPage();
    watch(page, 'main tab');
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('shows the feed and a sign-up link to a visitor', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.title()).toBe('Feed · Eventloom');
    await page.getByRole('heading', { name: 'Feed' }).waitFor();
    await page
      .getByRole('navigation', { name: 'Account' })
      .getByRole('link', { name: 'Sign up' })
      .waitFor();
    await shot(page, '01-visitor-feed');
  });

  it('signs a new user up, then refuses the same username again next to the form', async () => {
    await page.getByRole('link', { name: 'Sign up' }).first().click();
    const form = page.getByRole('form', { name: 'Sign up' });
    await form.getByLabel('Username', { exact: true }).fill(user.username);
    await form.getByLabel('Name', { exact: true }).fill(user.name);
    await form.getByLabel('Email', { exact: true }).fill(user.email);
    await form.getByLabel('Password', { exact: true }).fill(user.password);
    await shot(page, '02-sign-up-form');
    await form.getByRole('button', { name: 'Create account' }).click();

    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByText(`Welcome, ${user.name}!`).waitFor();
    expect(await page.getByLabel('Username', { exact: true }).inputValue()).toBe(user.username);
    await shot(page, '03-signed-up');

    await page.goto(`${server.url}/signup`);
    const again = page.getByRole('form', { name: 'Sign up' });
    await again.getByLabel('Username', { exact: true }).fill(user.username);
    await again.getByLabel('Name', { exact: true }).fill('Someone Else');
    await again.getByLabel('Email', { exact: true }).fill(`other_${run}@example.org`);
    await again.getByLabel('Password', { exact: true }).fill('another password');
    await again.getByRole('button', { name: 'Create account' }).click();
    const problem = again.getByRole('alert');
    await problem.waitFor();
    expect(await problem.textContent()).toContain('Conflict');
    // The field at fault is marked and says why.
    await expect
      .poll(() => again.getByLabel('Username', { exact: true }).getAttribute('aria-invalid'))
      .toBe('true');
    await shot(page, '04-sign-up-conflict');
  });

  it('logs in after refusing a wrong password', async () => {
    await page.goto(`${server.url}/login`);
    const form = page.getByRole('form', { name: 'Log in' });
    await form.getByLabel('Username', { exact: true }).fill(user.username);
    await form.getByLabel('Password', { exact: true }).fill('not the password');
    await form.getByRole('button', { name: 'Log in' }).click();
    await form.getByRole('alert').getByText('The username or password is wrong').waitFor();
    await shot(page, '05-log-in-wrong-password');

    await form.getByLabel('Password', { exact: true }).fill(user.password);
    await form.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Feed' }).waitFor();
    await page.getByRole('link', { name: `@${user.username}` }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await shot(page, '06-logged-in');
  });

  it('posts a tweet that shows in the feed with a relative time and live in the explorer', async () => {
    explorer = await browser.context.newPage();
    watch(explorer, 'explorer tab');
    await explorer.goto(`${server.url}/explorer`);
    const live = explorer.getByRole('region', { name: 'Live events' });
    await live.locator('[data-live-status="open"]').waitFor();

    // Hidden tabs get no animation frames: act in the front one.
    await page.bringToFront();
    const form = page.getByRole('form', { name: 'Post a tweet' });
    await form.getByLabel('What’s happening?', { exact: true }).fill(tweetText);
    await form.getByRole('button', { name: 'Tweet' }).click();
    const tweet = page
      .getByRole('list', { name: 'Tweets' })
      .getByRole('listitem')
      .filter({ hasText: tweetText });
    await tweet.waitFor();
    expect(await tweet.getByRole('link', { name: `@${user.username}` }).count()).toBe(1);
    expect(await tweet.locator('time').textContent()).toMatch(/^(now|\d+ seconds? ago)$/);
    await shot(page, '07-tweet-in-feed');

    // The explorer tab was not reloaded: the event came over server-sent events.
    const row = live.locator('tr[data-event-type="TweetPosted"]');
    await row.waitFor();
    await explorer.bringToFront();
    expect(await row.getByRole('link').nth(1).textContent()).toMatch(/^tweet-/);
    await shot(explorer, '08-explorer-live-tweet');

    await row.getByRole('link', { name: 'TweetPosted' }).click();
    await explorer.getByRole('heading', { name: /^Stream tweet-/ }).waitFor();
    await explorer
      .getByLabel('Aggregate state', { exact: true })
      .getByText(tweetText, { exact: false })
      .waitFor();
    await shot(explorer, '09-tweet-stream');
  });

  it('buys a product: adds it to the shop, fills the cart, places the order and pays', async () => {
    await page.bringToFront();
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Shop' })
      .click();
    await page.getByRole('heading', { name: 'Shop' }).waitFor();

    const add = page.getByRole('form', { name: 'Add a product' });
    await add.getByLabel('Product name', { exact: true }).fill(productName);
    await add
      .getByLabel('Description', { exact: true })
      .fill('Rebuilds any read model from scratch.');
    await add.getByLabel('Price (USD)', { exact: true }).fill('12.50');
    await add.getByLabel('Stock', { exact: true }).fill('5');
    await add.getByRole('button', { name: 'Add product' }).click();
    const addToCart = page.getByRole('button', { name: `Add ${productName} to cart` });
    await addToCart.waitFor();
    const stock = page
      .getByRole('list', { name: 'Products' })
      .getByRole('listitem')
      .filter({ hasText: productName })
      .getByTestId('stock');
    expect(await stock.textContent()).toBe('5 left');
    // The shop follows its live feed (server-sent events), so nothing below reloads the page.
    await page.locator('[data-live-status="open"]').waitFor();

    await addToCart.click();
    await addToCart.click();
    const cart = page.getByRole('region', { name: 'Cart' });
    expect(await cart.getByLabel(`Quantity of ${productName}`, { exact: true }).inputValue()).toBe(
      '2',
    );
    expect(await cart.getByTestId('cart-total').textContent()).toBe('$25.00');
    await shot(page, '10-cart');

    await cart.getByRole('button', { name: 'Place order' }).click();
    const orders = page.getByRole('list', { name: 'Orders' });
    const order = orders.getByRole('listitem').filter({ hasText: productName }).first();
    // The inventory service reserves the stock after the order is placed; the page follows
    // live: the timeline gets its `reserved` step and the product two units fewer.
    await order.getByText('Awaiting payment').waitFor({ timeout: 15_000 });
    await page.getByText('Your cart is empty.').waitFor();
    const timeline = order.getByRole('list', { name: /^Timeline of order/ });
    await timeline.locator('li[data-status="reserved"]').waitFor();
    const steps = await timeline.locator('li').all();
    expect(await Promise.all(steps.map((li) => li.getAttribute('data-status')))).toEqual([
      'placed',
      'reserved',
    ]);
    await expect.poll(() => stock.textContent()).toBe('3 left');
    const reservedBy = timeline
      .locator('li[data-status="reserved"]')
      .getByRole('link', { name: 'event' });
    expect(await reservedBy.getAttribute('href')).toMatch(
      /^\/explorer\/streams\/order-[0-9a-f-]+\?event=/,
    );
    await shot(page, '11-order-placed');

    // The order workflow's instance waits for the payment on a durable timer.
    const orderId = /order-([0-9a-f-]+)/.exec((await reservedBy.getAttribute('href')) ?? '')?.[1];
    expect(orderId).toBeDefined();
    await explorer.bringToFront();
    await explorer.getByRole('link', { name: '← Event explorer' }).click();
    await explorer
      .getByRole('navigation', { name: 'Explorer' })
      .getByRole('link', { name: 'Workflows' })
      .click();
    const instances = explorer.getByRole('region', { name: 'Workflow instances' });
    const instance = instances
      .locator(`tr[data-instance="${orderId}"]`)
      .filter({ hasText: 'orders' });
    await instance.waitFor();
    await instance.getByRole('link', { name: orderId }).click();
    await explorer.getByRole('heading', { name: /^Workflow orders/ }).waitFor();
    const timers = explorer.getByRole('list', { name: 'Pending timers' });
    await timers.locator('li[data-timer="payment-timeout"]').waitFor();
    await explorer
      .locator('li[data-input-type="ReservationConfirmed"] li[data-output-kind="schedule"]')
      .waitFor();
    await shot(explorer, '11b-order-workflow-instance');
    // Back on a stream page, where the next steps expect the tab (it never reloaded).
    await explorer.getByRole('link', { name: `workflow-orders-${orderId}` }).click();
    await explorer.getByRole('heading', { name: /^Stream workflow-orders-/ }).waitFor();
    await page.bringToFront();

    await order.getByRole('combobox', { name: 'Pay with' }).selectOption('card');
    await order.getByRole('button', { name: 'Pay $25.00' }).click();
    await order.getByText('Paid', { exact: true }).first().waitFor();
    await order.getByText(/Paid \$25\.00 by Card/).waitFor();
    await timeline.locator('li[data-status="paid"]').waitFor();
    await shot(page, '12-order-paid');
  });

  it('shows OrderPlaced and PaymentProcessed live in the explorer, and the order before and after payment', async () => {
    await explorer.bringToFront();
    await explorer.getByRole('link', { name: '← Event explorer' }).click();
    const live = explorer.getByRole('region', { name: 'Live events' });
    // Events that arrived while the tab showed a stream are there too: the tail resumed.
    await live.locator('tr[data-event-type="ProductAdded"]').first().waitFor();
    await live.locator('tr[data-event-type="OrderPlaced"]').waitFor();
    const paid = live.locator('tr[data-event-type="PaymentProcessed"]');
    await paid.waitFor();

    const subscriptions = explorer.getByRole('region', { name: 'Subscriptions' });
    const shopProjection = subscriptions
      .getByRole('row')
      .filter({ has: explorer.getByRole('rowheader', { name: 'app-shop' }) });
    // The shop's projection has caught up with the payment.
    await expect.poll(() => shopProjection.getAttribute('data-lag')).toBe('0');
    await explorer.getByRole('img', { name: /^Events per 5 seconds/ }).waitFor();
    await shot(explorer, '13-explorer-order-and-payment');

    await paid.getByRole('link', { name: 'PaymentProcessed' }).click();
    await explorer.getByRole('heading', { name: /^Stream order-/ }).waitFor();
    const state = explorer.getByLabel('Aggregate state', { exact: true });
    // OrderPlaced, OrderReserved (by the order workflow), PaymentProcessed, ShipmentRequested
    // (the order workflow, on the payment; the slow carrier has not shipped it yet). The link
    // opens the stream at the payment's version.
    await explorer.getByText('Version 3 of 4').waitFor();
    await state.getByText('"paid"', { exact: false }).waitFor();
    await shot(explorer, '14-order-state-v2');
    // The payment's details: no trace id (this server exports no traces) and the events of
    // the same request on a timeline, the payment itself marked.
    await explorer.getByText('none (appended outside a trace)').waitFor();
    const correlated = explorer.getByRole('list', { name: 'Correlated events' });
    await correlated.locator('li.selected', { hasText: 'PaymentProcessed' }).waitFor();

    await explorer.getByRole('button', { name: 'Previous version' }).click();
    await explorer.getByText('Version 2 of 4').waitFor();
    await expect.poll(() => state.textContent()).toContain('"reserved"');
    expect(await state.textContent()).not.toContain('"paid"');
    await shot(explorer, '15-order-state-v1');
  });

  it('resumes the live tail after a server restart with Last-Event-ID, missing no event and repeating none', async () => {
    const tweetByApi = async (body: string) => {
      const response = await fetch(`${server.url}/api/v2/tweets`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        body: JSON.stringify({ body }),
      });
      expect(response.status).toBe(201);
      return Number(response.headers.get('x-eventloom-position'));
    };
    await explorer.bringToFront();
    await explorer.getByRole('link', { name: '← Event explorer' }).click();
    const live = explorer.getByRole('region', { name: 'Live events' });
    await live.locator('[data-live-status="open"]').waitFor();
    const rows = live.locator('tbody tr');
    const before = await rows.count();

    // An event on this connection, so that the browser has a last event id to resume after.
    const last = await tweetByApi(`Seen live before the restart ${run}`);
    await expect.poll(() => rows.first().getAttribute('data-event-type')).toBe('TweetPosted');
    expect(await rows.first().locator('td').first().textContent()).toBe(String(last));

    const reconnects: Promise<Record<string, string>>[] = [];
    explorer.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/events/live') {
        reconnects.push(request.allHeaders());
      }
    });
    await server.stop();
    await live.locator('[data-live-status="reconnecting"]').waitFor();
    // Same data folder and port: the page reconnects by itself.
    server = await startEventloom({ env: SERVER_ENV, dataDir, port: server.port });
    const missed = await tweetByApi(`Written while the page was away ${run}`);

    await live.locator('[data-live-status="open"]').waitFor({ timeout: 20_000 });
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(before + 2);
    expect(await rows.first().locator('td').first().textContent()).toBe(String(missed));
    const positions = await live.locator('tbody tr td:first-child').allTextContents();
    expect(new Set(positions).size).toBe(positions.length);
    const sent = (await Promise.all(reconnects)).map((headers) => headers['last-event-id']);
    expect(sent).toContain(String(last));
    await shot(explorer, '16-explorer-resumed-after-restart');
  });

  it('lists the welcome mail in the signed-in user\u2019s mailbox (a development server keeps one)', async () => {
    await page.bringToFront();
    await page
      .getByRole('navigation', { name: 'Account' })
      .getByRole('link', { name: 'Mailbox' })
      .click();
    await page.getByRole('heading', { name: 'Mailbox' }).waitFor();
    const emails = page.getByRole('list', { name: 'Emails' });
    await emails.locator('li[data-kind="welcome"][data-status="sent"]').waitFor();
    await shot(page, '16b-mailbox');
  });

  it('edits the profile, then logs out', async () => {
    await page.bringToFront();
    await page.getByRole('link', { name: `@${user.username}` }).click();
    const form = page.getByRole('form', { name: 'Edit profile' });
    await form.getByLabel('Name', { exact: true }).fill('Ada King');
    await form.getByRole('button', { name: 'Save profile' }).click();
    await page.getByText('Your profile is saved.').waitFor();
    expect(await form.getByLabel('Name', { exact: true }).inputValue()).toBe('Ada King');
    await shot(page, '17-profile-saved');

    // Someone changes the account elsewhere: saving the page's older version is refused.
    const elsewhere = await fetch(`${server.url}/api/v1/users/${user.username}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: basicAuth() },
      body: JSON.stringify({ name: 'Countess of Lovelace' }),
    });
    expect(elsewhere.status).toBe(200);
    await form.getByLabel('Email', { exact: true }).fill(`ada.king_${run}@example.org`);
    await form.getByRole('button', { name: 'Save profile' }).click();
    await form.getByRole('alert').getByText('The resource changed since you read it').waitFor();
    // The page shows the account as it is now, keeping the user's own edit to save again.
    await expect
      .poll(() => form.getByLabel('Name', { exact: true }).inputValue())
      .toBe('Countess of Lovelace');
    expect(await form.getByLabel('Email', { exact: true }).inputValue()).toBe(
      `ada.king_${run}@example.org`,
    );
    await shot(page, '18-profile-changed-elsewhere');
    await form.getByRole('button', { name: 'Save profile' }).click();
    const stored = async () => {
      const response = await fetch(`${server.url}/api/v1/users/${user.username}`, {
        headers: { authorization: basicAuth() },
      });
      const { user_details } = (await response.json()) as {
        user_details: { name: string; email: string; version: number }[];
      };
      return user_details[0];
    };
    await expect.poll(stored).toEqual(
      expect.objectContaining({
        name: 'Countess of Lovelace',
        email: `ada.king_${run}@example.org`,
        version: 4,
      }),
    );
    expect(await form.getByRole('alert').count()).toBe(0);

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You are logged out.').waitFor();
    await page
      .getByRole('navigation', { name: 'Account' })
      .getByRole('link', { name: 'Log in' })
      .waitFor();
    await shot(page, '19-logged-out');
  });

  it('had no script errors in any tab', () => {
    expect(pageErrors).toEqual([]);
  });
});
