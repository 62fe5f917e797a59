import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { userIdSchema } from '../../../shared/common';
import {
  adjustInputSchema,
  balanceSchema,
  grantInputSchema,
  historyInputSchema,
  historyResultSchema,
  refundInputSchema,
  setTierInputSchema,
  tierAllowanceSchema,
  transactionSchema,
  updateTierInputSchema,
  userListInputSchema,
  userListSchema,
} from '../../../shared/credits';
import {
  bulkGrantInputSchema,
  bulkGrantPreviewInputSchema,
  bulkGrantPreviewSchema,
  bulkGrantResultSchema,
  createUserInputSchema,
  tierImportApplyInputSchema,
  tierImportPreviewInputSchema,
  tierImportPreviewSchema,
  tierImportResultSchema,
} from '../../../shared/users';
import { adjustCredits, changeTier, grantCredits, refundTransaction } from '../../ledger/admin-ops';
import { bulkGrant, previewBulkGrant } from '../../ledger/bulk-grant';
import { createUser } from '../../ledger/create-user';
import { applyTierImport, previewTierImport } from '../../ledger/tier-import';
import { getBalance, getHistory } from '../../ledger/balance';
import { users } from '../../ledger/tables';
import { listTiers, updateTier } from '../../ledger/tiers';
import { listUsers } from '../../ledger/user-list';
import { router } from '../init';
import { adminProcedure } from '../procedures';

const changeResultSchema = z.object({ balance: balanceSchema, transaction: transactionSchema });

export const adminUsersRouter = router({
  list: adminProcedure('analyst')
    .input(userListInputSchema)
    .output(userListSchema)
    .query(({ ctx, input }) => listUsers(ctx.db, input)),

  get: adminProcedure('analyst')
    .input(z.object({ userId: userIdSchema }))
    .output(balanceSchema.extend({ email: z.string().nullable(), createdAt: z.string() }))
    .query(async ({ ctx, input }) => {
      const balance = await getBalance(ctx.db, input.userId);
      const [user] = await ctx.db.select().from(users).where(eq(users.userId, input.userId));
      return { ...balance, email: user!.email, createdAt: user!.createdAt.toISOString() };
    }),

  history: adminProcedure('analyst')
    .input(historyInputSchema)
    .output(historyResultSchema)
    .query(({ ctx, input }) => getHistory(ctx.db, input)),

  grant: adminProcedure('admin')
    .input(grantInputSchema)
    .output(changeResultSchema)
    .mutation(({ ctx, input }) => grantCredits(ctx.db, ctx.actor, input)),

  adjust: adminProcedure('admin')
    .input(adjustInputSchema)
    .output(changeResultSchema)
    .mutation(({ ctx, input }) => adjustCredits(ctx.db, ctx.actor, input)),

  refund: adminProcedure('admin')
    .input(refundInputSchema)
    .output(changeResultSchema)
    .mutation(({ ctx, input }) => refundTransaction(ctx.db, ctx.actor, input)),

  setTier: adminProcedure('admin')
    .input(setTierInputSchema)
    .output(balanceSchema)
    .mutation(({ ctx, input }) => changeTier(ctx.db, ctx.actor, input)),

  create: adminProcedure('admin')
    .input(createUserInputSchema)
    .output(balanceSchema.extend({ email: z.string().nullable() }))
    .mutation(({ ctx, input }) => createUser(ctx.db, ctx.actor, input)),

  /** How many users the Users page's filters match, and the credits a bulk grant to them would give. */
  bulkGrantPreview: adminProcedure('admin')
    .input(bulkGrantPreviewInputSchema)
    .output(bulkGrantPreviewSchema)
    .query(({ ctx, input }) => previewBulkGrant(ctx.db, input)),

  bulkGrant: adminProcedure('admin')
    .input(bulkGrantInputSchema)
    .output(bulkGrantResultSchema)
    .mutation(({ ctx, input }) => bulkGrant(ctx.db, ctx.actor, input)),

  /** A mutation only because the CSV is too long for a query string: it writes nothing. */
  importTiersPreview: adminProcedure('admin')
    .input(tierImportPreviewInputSchema)
    .output(tierImportPreviewSchema)
    .mutation(({ ctx, input }) => previewTierImport(ctx.db, input.csv)),

  importTiers: adminProcedure('admin')
    .input(tierImportApplyInputSchema)
    .output(tierImportResultSchema)
    .mutation(({ ctx, input }) => applyTierImport(ctx.db, ctx.actor, input)),
});

export const tiersRouter = router({
  list: adminProcedure('analyst')
    .output(z.array(tierAllowanceSchema))
    .query(({ ctx }) => listTiers(ctx.db)),
  update: adminProcedure('admin')
    .input(updateTierInputSchema)
    .output(tierAllowanceSchema)
    .mutation(({ ctx, input }) => updateTier(ctx.db, ctx.actor, input)),
});
