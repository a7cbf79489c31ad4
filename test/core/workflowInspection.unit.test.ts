import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import {
  parseWorkflowStreamId,
  readWorkflowInstance,
  WORKFLOW_INSTANCES_COLLECTION,
} from '../../src/core/workflowInspection.js';
import {
  PAYMENT_TIMEOUT_MS,
  paymentWorkflow,
  runPaymentWithInstances,
} from '../support/paymentWorkflow.js';

describe('workflow inspection', () => {
  it('lists every instance with its input count and last input, for the explorer', async () => {
    const store = createMemoryEventStore();
    const { clock, runner, docs, projection, stop } = runPaymentWithInstances(store);
    try {
      await store.appendToStream('shop-a', [{ type: 'OrderPlaced', data: { orderId: 'a-1' } }]);
      await store.appendToStream('shop-b', [{ type: 'OrderPlaced', data: { orderId: 'b-2' } }]);
      await runner.waitFor(await store.headPosition());
      clock.advance(PAYMENT_TIMEOUT_MS);
      expect(await runner.fireDueTimers()).toBe(2);
      await projection.waitFor(await store.headPosition());

      const listed = await docs.async.find(
        WORKFLOW_INSTANCES_COLLECTION,
        { workflow: 'payment' },
        { sort: { field: 'instanceId' } },
      );
      expect(listed.map((d) => [d.instanceId, d.inputs, d.lastInputType])).toEqual([
        ['a-1', 2, 'PaymentTimedOut'],
        ['b-2', 2, 'PaymentTimedOut'],
      ]);
    } finally {
      await stop();
    }
  });

  it('reads an instance that never handled an input as the initial state with no history', async () => {
    const view = await readWorkflowInstance(createMemoryEventStore(), paymentWorkflow, 'nobody');
    expect(view).toEqual({
      workflow: 'payment',
      instanceId: 'nobody',
      streamId: 'workflow-payment-nobody',
      version: 0,
      state: { status: 'new' },
      timers: [],
      inputs: [],
    });
  });

  it('parses instance stream ids, instance ids with dashes included', () => {
    expect(parseWorkflowStreamId('workflow-payment-order-1')).toEqual({
      workflow: 'payment',
      instanceId: 'order-1',
    });
    expect(parseWorkflowStreamId('order-1')).toBeUndefined();
  });
});
