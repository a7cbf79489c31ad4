import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMemoryDocuments,
  defineWorkflow,
  createWorkflowProcessor,
} from '../../src/core/index.js';
import type {
  ApiWorkflowInstance,
  ApiWorkflowInstanceList,
} from '../../src/server/apiResponseSchemas.js';
import { sendFrom, serveOnSocket } from './realSocket.js';
import { createHarness, type Harness, PASSWORD, type Session } from './serverHarness.js';

interface PlacedData {
  orderId: string;
  userId: string;
  username: string;
}

// A workflow that keeps a personal field (the username) in its state, as a careless one might.
const delivery = defineWorkflow<
  { placedBy?: string; status: string },
  { type: 'OrderPlaced'; data: PlacedData } | { type: 'DeliveryDue'; data: { orderId: string } },
  { type: 'PrepareDelivery'; data: { orderId: string } }
>({
  name: 'delivery',
  inputs: ['OrderPlaced'],
  instanceOf: (input) => input.data.orderId,
  initialState: () => ({ status: 'new' }),
  evolve: (state, input) =>
    input.type === 'OrderPlaced' ? { placedBy: input.data.username, status: 'waiting' } : state,
  decide: (input) =>
    input.type === 'OrderPlaced'
      ? [
          { kind: 'command', type: 'PrepareDelivery', data: { orderId: input.data.orderId } },
          {
            kind: 'schedule',
            timerId: 'due',
            afterMs: 3_600_000,
            message: { type: 'DeliveryDue', data: { orderId: input.data.orderId } },
          },
        ]
      : [],
});

const ORDER_ID = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

/** A harness served over a real socket, with the delivery workflow and one instance of it. */
function useServedHarness(explorerAccess: 'admin' | 'authenticated') {
  const ctx = {} as {
    harness: Harness;
    socket: { base: string; close(): Promise<void> };
    ada: { id: string };
  };
  beforeAll(async () => {
    const harness = await createHarness({ explorerAccess, workflows: [delivery] });
    const ada = await harness.register('ada');
    await harness.register('bob');
    await harness.register('root');
    const [placed] = await harness.store
      .appendToStream(`order-${ORDER_ID}`, [
        {
          type: 'OrderPlaced',
          data: { orderId: ORDER_ID, userId: ada.id, username: 'ada', items: [], totalCents: 0 },
        },
      ])
      .then(async () => harness.store.readStream(`order-${ORDER_ID}`));
    const processor = createWorkflowProcessor({
      store: harness.store,
      workflow: delivery,
      commands: { PrepareDelivery: async () => undefined },
      timers: createMemoryDocuments().async,
    });
    await processor.handle(placed!);
    await harness.app.waitForReadModels(await harness.store.headPosition());
    Object.assign(ctx, { harness, ada, socket: await serveOnSocket(harness.server.fetch) });
  });
  afterAll(async () => {
    await ctx.socket?.close();
    await ctx.harness?.close();
  });
  const get = (path: string, session?: Session) =>
    sendFrom('127.0.0.1', `${ctx.socket.base}${path}`, {
      headers: session === undefined ? {} : { cookie: session.cookie },
    });
  return { ctx, get, login: (name: string) => ctx.harness.login(name, PASSWORD) };
}

describe('workflow routes with EXPLORER_ACCESS=admin', () => {
  const { get, login } = useServedHarness('admin');

  it('refuse anonymous callers with 401 and other users with 403', async () => {
    expect((await get('/api/workflows')).status).toBe(401);
    expect((await get(`/api/workflows/delivery/${ORDER_ID}`)).status).toBe(401);
    const bob = await login('bob');
    const list = await get('/api/workflows', bob);
    expect(list.status).toBe(403);
    expect(list.headers['content-type']).toContain('application/problem+json');
    expect((await get(`/api/workflows/delivery/${ORDER_ID}`, bob)).status).toBe(403);
  });

  it('list the instances for an admin, filtered by workflow', async () => {
    const root = await login('root');
    const res = await get('/api/workflows', root);
    expect(res.status).toBe(200);
    const body = res.json() as ApiWorkflowInstanceList;
    expect(body.workflows).toEqual(['delivery']);
    expect(body.instances).toEqual([
      expect.objectContaining({
        workflow: 'delivery',
        instanceId: ORDER_ID,
        streamId: `workflow-delivery-${ORDER_ID}`,
        inputs: 1,
        lastInputType: 'OrderPlaced',
      }),
    ]);
    const other = (await get('/api/workflows?workflow=payment', root)).json();
    expect(other).toEqual({ workflows: ['delivery'], instances: [] });
  });

  it('show an admin the state, the pending timer and the outputs each input caused', async () => {
    const root = await login('root');
    const res = await get(`/api/workflows/delivery/${ORDER_ID}`, root);
    expect(res.status).toBe(200);
    const view = res.json() as ApiWorkflowInstance;
    expect(view.state).toEqual({ placedBy: 'ada', status: 'waiting' });
    expect(view.timers.map((t) => [t.timerId, t.message.type])).toEqual([['due', 'DeliveryDue']]);
    expect(Date.parse(view.timers[0]!.dueAt)).toBeGreaterThan(Date.now());
    expect(view.inputs).toHaveLength(1);
    const [input] = view.inputs;
    expect(input).toMatchObject({
      type: 'OrderPlaced',
      source: { kind: 'event', streamId: `order-${ORDER_ID}` },
      data: { username: 'ada' },
    });
    expect(input!.outputs.map((o) => [o.kind, o.type ?? o.timerId])).toEqual([
      ['command', 'PrepareDelivery'],
      ['schedule', 'due'],
    ]);
  });

  it('answer bad parameters, unknown workflows and unknown instances with problem+json', async () => {
    const root = await login('root');
    const badName = await get(`/api/workflows/no%20such/${ORDER_ID}`, root);
    // A path that names nothing is a 404 throughout the API, with the reason.
    expect(badName.status).toBe(404);
    expect(badName.headers['content-type']).toContain('application/problem+json');
    expect((badName.json() as { detail: string }).detail).toContain('workflow name');
    const badLimit = await get('/api/workflows?limit=0', root);
    expect(badLimit.status).toBe(400);
    expect(badLimit.json()).toMatchObject({
      errors: [expect.objectContaining({ field: 'query.limit' })],
    });
    const unknown = await get(`/api/workflows/payment/${ORDER_ID}`, root);
    expect(unknown.status).toBe(404);
    expect((unknown.json() as { detail: string }).detail).toContain('it runs: delivery');
    const missing = await get('/api/workflows/delivery/no-such-order', root);
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
  });
});

describe('workflow routes with EXPLORER_ACCESS=authenticated', () => {
  const { get, login } = useServedHarness('authenticated');

  it('show another user the instance with the subject\u2019s personal fields redacted, state included', async () => {
    const bob = await login('bob');
    const view = (
      await get(`/api/workflows/delivery/${ORDER_ID}`, bob)
    ).json() as ApiWorkflowInstance;
    expect(view.inputs[0]!.data).toMatchObject({ username: '[redacted]' });
    expect(view.state).toEqual({ placedBy: '[redacted]', status: 'waiting' });
    expect(JSON.stringify(view)).not.toContain('"ada"');
  });

  it('show the subject their own personal fields', async () => {
    const ada = await login('ada');
    const view = (
      await get(`/api/workflows/delivery/${ORDER_ID}`, ada)
    ).json() as ApiWorkflowInstance;
    expect(view.state).toEqual({ placedBy: 'ada', status: 'waiting' });
  });
});
