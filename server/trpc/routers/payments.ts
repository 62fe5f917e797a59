import { z } from 'zod';
import { priceMappingInputSchema, priceMappingSchema, stripeEventRetryInputSchema, stripeEventSchema, stripeEventsInputSchema, stripeEventsPageSchema } from '../../../shared/payments';
import { listStripeEvents } from '../../payments/event-list';
import { retryStripeEvent } from '../../payments/event-retry';
import { listPrices, upsertPrice } from '../../payments/prices';
import { router } from '../init';
import { adminProcedure } from '../procedures';

/** Stripe: the mapping of prices to tiers and credit packs (admins change it) and the events received. */
export const paymentsRouter = router({
  prices: router({
    upsert: adminProcedure('admin')
      .input(priceMappingInputSchema)
      .output(priceMappingSchema)
      .mutation(({ ctx, input }) => upsertPrice(ctx.db, ctx.actor, input)),
    list: adminProcedure('analyst')
      .output(z.array(priceMappingSchema))
      .query(({ ctx }) => listPrices(ctx.db)),
  }),
  events: router({
    list: adminProcedure('analyst')
      .input(stripeEventsInputSchema)
      .output(stripeEventsPageSchema)
      .query(({ ctx, input }) => listStripeEvents(ctx.db, input)),
    retry: adminProcedure('admin')
      .input(stripeEventRetryInputSchema)
      .output(stripeEventSchema)
      .mutation(({ ctx, input }) => retryStripeEvent(ctx.db, ctx.actor, input)),
  }),
});
