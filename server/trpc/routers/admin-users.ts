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
import { adjustCredits, changeTier, grantCredits, refundTransaction } from '../../ledger/admin-ops';
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
