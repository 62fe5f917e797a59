import { z } from 'zod';
import {
  createdWebhookSchema,
  createWebhookInputSchema,
  replayWebhookInputSchema,
  updateWebhookInputSchema,
  webhookDeliveriesInputSchema,
  webhookDeliveriesPageSchema,
  webhookEndpointSchema,
  webhookIdInputSchema,
} from '../../../shared/webhooks';
import { listDeliveries, replayDelivery } from '../../webhooks/delivery-admin';
import { createEndpoint, deleteEndpoint, listEndpoints, rotateEndpointSecret, updateEndpoint } from '../../webhooks/endpoints';
import { router } from '../init';
import { adminProcedure } from '../procedures';

/** Product apps' webhook endpoints: admins change them, analysts read them. Secrets are shown once. */
export const webhooksRouter = router({
  create: adminProcedure('admin')
    .input(createWebhookInputSchema)
    .output(createdWebhookSchema)
    .mutation(({ ctx, input }) => createEndpoint(ctx.db, ctx.deps, ctx.actor, input)),
  list: adminProcedure('analyst')
    .output(z.array(webhookEndpointSchema))
    .query(({ ctx }) => listEndpoints(ctx.db)),
  update: adminProcedure('admin')
    .input(updateWebhookInputSchema)
    .output(webhookEndpointSchema)
    .mutation(({ ctx, input }) => updateEndpoint(ctx.db, ctx.actor, input)),
  delete: adminProcedure('admin')
    .input(webhookIdInputSchema)
    .output(webhookEndpointSchema)
    .mutation(({ ctx, input }) => deleteEndpoint(ctx.db, ctx.actor, input.id)),
  rotateSecret: adminProcedure('admin')
    .input(webhookIdInputSchema)
    .output(createdWebhookSchema)
    .mutation(({ ctx, input }) => rotateEndpointSecret(ctx.db, ctx.deps.secrets, ctx.actor, input.id)),
  deliveries: adminProcedure('analyst')
    .input(webhookDeliveriesInputSchema)
    .output(webhookDeliveriesPageSchema)
    .query(({ ctx, input }) => listDeliveries(ctx.db, input)),
  replay: adminProcedure('admin')
    .input(replayWebhookInputSchema)
    .output(z.object({ id: z.string(), msgId: z.string() }))
    .mutation(({ ctx, input }) => replayDelivery(ctx.db, ctx.actor, input.deliveryId)),
});
