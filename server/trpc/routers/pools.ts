import { z } from 'zod';
import { archivedListInputSchema } from '../../../shared/providers';
import {
  archivePoolInputSchema,
  budgetSummarySchema,
  decideRequestInputSchema,
  platformSettingsSchema,
  usersOutThresholdInputSchema,
  poolInputSchema,
  poolSchema,
  poolStatusChangeInputSchema,
  providerNameSchema,
  purchaseRequestListInputSchema,
  purchaseRequestSchema,
  refillInputSchema,
  restorePoolInputSchema,
  updatePlatformSettingsInputSchema,
} from '../../../shared/pools';
import { enableAutoRefill } from '../../pools/auto-refill-admin';
import { getPool, listPools, setPoolSuspended, updatePool } from '../../pools/pool-admin';
import { archivePool, restorePool } from '../../pools/pool-archive';
import { monthBudget } from '../../analytics/month-budget';
import { createPoolForProvider } from '../../pools/pool-for-provider';
import { listPurchaseRequests } from '../../pools/purchase-requests';
import { approveRequest, rejectRequest, requestManualRefill } from '../../pools/refills';
import { getPlatformSettings, setUsersOutOfCreditsThreshold, updatePlatformSettings } from '../../pools/settings';
import { router } from '../init';
import { adminProcedure } from '../procedures';

export const poolsRouter = router({
  list: adminProcedure('analyst')
    .input(archivedListInputSchema)
    .output(z.array(poolSchema))
    .query(({ ctx, input }) => listPools(ctx.db, undefined, { includeArchived: input?.includeArchived })),
  get: adminProcedure('analyst')
    .input(z.object({ provider: providerNameSchema }))
    .output(poolSchema)
    .query(({ ctx, input }) => getPool(ctx.db, input.provider)),
  create: adminProcedure('admin')
    .input(poolInputSchema)
    .output(poolSchema)
    .mutation(({ ctx, input }) => createPoolForProvider(ctx.db, ctx.deps.secrets, ctx.actor, input)),
  update: adminProcedure('admin')
    .input(poolInputSchema)
    .output(poolSchema)
    .mutation(({ ctx, input }) => updatePool(ctx.db, ctx.deps.secrets, ctx.actor, input)),
  refill: adminProcedure('admin')
    .input(refillInputSchema)
    .output(purchaseRequestSchema)
    .mutation(({ ctx, input }) => requestManualRefill(ctx.db, ctx.deps, ctx.actor, input)),
  suspend: adminProcedure('admin')
    .input(poolStatusChangeInputSchema)
    .output(poolSchema)
    .mutation(({ ctx, input }) => setPoolSuspended(ctx.db, ctx.actor, { ...input, suspended: true })),
  resume: adminProcedure('admin')
    .input(poolStatusChangeInputSchema)
    .output(poolSchema)
    .mutation(({ ctx, input }) => setPoolSuspended(ctx.db, ctx.actor, { ...input, suspended: false })),
  archive: adminProcedure('admin')
    .input(archivePoolInputSchema)
    .output(poolSchema)
    .mutation(({ ctx, input }) => archivePool(ctx.db, ctx.actor, input)),
  restore: adminProcedure('admin')
    .input(restorePoolInputSchema)
    .output(poolSchema)
    .mutation(({ ctx, input }) => restorePool(ctx.db, ctx.actor, input)),
  enableAutoRefill: adminProcedure('admin')
    .input(poolStatusChangeInputSchema)
    .output(poolSchema)
    .mutation(({ ctx, input }) => enableAutoRefill(ctx.db, ctx.actor, input)),
});

export const purchaseRequestsRouter = router({
  list: adminProcedure('analyst')
    .input(purchaseRequestListInputSchema)
    .output(z.object({ rows: z.array(purchaseRequestSchema), total: z.number().int() }))
    .query(({ ctx, input }) => listPurchaseRequests(ctx.db, input)),
  approve: adminProcedure('admin')
    .input(decideRequestInputSchema)
    .output(purchaseRequestSchema)
    .mutation(({ ctx, input }) => approveRequest(ctx.db, ctx.deps, ctx.actor, input)),
  reject: adminProcedure('admin')
    .input(decideRequestInputSchema)
    .output(purchaseRequestSchema)
    .mutation(({ ctx, input }) => rejectRequest(ctx.db, ctx.actor, input)),
});

export const platformSettingsRouter = router({
  get: adminProcedure('analyst')
    .output(platformSettingsSchema)
    .query(({ ctx }) => getPlatformSettings(ctx.db)),
  /** The month's budget, refills against it and the providers' cost: what Dashboard, Pools and Settings all show. */
  budget: adminProcedure('analyst')
    .output(budgetSummarySchema)
    .query(({ ctx }) => monthBudget(ctx.db)),
  update: adminProcedure('admin')
    .input(updatePlatformSettingsInputSchema)
    .output(platformSettingsSchema)
    .mutation(({ ctx, input }) => updatePlatformSettings(ctx.db, ctx.actor, input)),
  setUsersOutThreshold: adminProcedure('admin')
    .input(usersOutThresholdInputSchema)
    .output(platformSettingsSchema)
    .mutation(({ ctx, input }) => setUsersOutOfCreditsThreshold(ctx.db, ctx.actor, input)),
});
