import { z } from 'zod';
import { tierSchema } from '../../../shared/enums';
import { upsertUserInputSchema } from '../../../shared/users';
import { upsertUser } from '../../ledger/users';
import { apiKeyProcedure } from '../procedures';
import { router } from '../init';

const userStateSchema = z.object({ userId: z.string(), email: z.string().nullable(), tier: tierSchema });

export const usersRouter = router({
  upsert: apiKeyProcedure('users:write')
    .input(upsertUserInputSchema)
    .output(userStateSchema)
    .mutation(async ({ ctx, input }) => {
      const user = await upsertUser(ctx.db, input);
      return { userId: user.userId, email: user.email, tier: user.tier };
    }),
});
