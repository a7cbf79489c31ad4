import { rejectionOf } from '../rejection.js';
import { type AppServiceFactory, serviceWorkflow } from './appService.js';
import { orderWorkflow } from './orderWorkflow.js';

/**
 * The `orders` service: the order workflow, acting on orders through `Shop.orders` with the
 * command's id as idempotency key (each transition is also a no-op when already made).
 */
export const orderService: AppServiceFactory = ({ shop, config, logger }) => ({
  name: 'orders',
  workflows: [
    serviceWorkflow(orderWorkflow(config), {
      MarkReserved: async ({ id, data, metadata }) => {
        await shop.orders.markReserved(data.orderId, { idempotencyKey: id, metadata });
      },
      RejectOrder: async ({ id, data, metadata }) => {
        await shop.orders.reject(data.orderId, data.reason, { idempotencyKey: id, metadata });
      },
      RequestShipment: async ({ id, data, metadata }) => {
        await shop.orders.requestShipment(data.orderId, { idempotencyKey: id, metadata });
      },
      CancelOrder: async ({ id, data, metadata }) => {
        try {
          await shop.orders.cancel(data.orderId, data.reason, { idempotencyKey: id, metadata });
        } catch (error) {
          // The payment reached the order between the timer firing and this command: the
          // payment won, and its own input stops the timer's effects in this workflow.
          if (rejectionOf(error)?.reason !== 'invalid_transition') throw error;
          logger.info(
            { orderId: data.orderId, reason: data.reason },
            'order moved on before it could be cancelled; nothing cancelled',
          );
        }
      },
    }),
  ],
});
