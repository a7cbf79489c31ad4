import { type AppServiceFactory, serviceWorkflow } from './appService.js';
import { shippingWorkflow } from './shippingWorkflow.js';

/** The `shipping` service: the simulated carrier, then `Shop.orders.markShipped`. */
export const shippingService: AppServiceFactory = ({ shop, config }) => ({
  name: 'shipping',
  workflows: [
    serviceWorkflow(shippingWorkflow(config), {
      MarkShipped: async ({ id, data, metadata }) => {
        await shop.orders.markShipped(data.orderId, data.shipmentId, {
          idempotencyKey: id,
          metadata,
        });
      },
    }),
  ],
});
