import { z } from 'zod';
import { balanceSchema } from '../../../shared/credits';
import { upsertUserInputSchema } from '../../../shared/users';
import { upsertUser } from '../../ledger/users';
import { apiKeyProcedure } from '../procedures';
import { router } from '../init';

export const usersRouter = router({
  upsert: apiKeyProcedure('users:write')
    .meta({
      openapi: {
        summary: 'Create or update a user (its tier and email)',
        description: 'A new user gets its tier’s monthly allowance at once; a tier change applies the new allowance for the rest of the month.',
        example: { userId: 'user_42', email: 'ada@example.com', tier: 'plus' },
      },
    })
    .input(upsertUserInputSchema)
    .output(balanceSchema.extend({ email: z.string().nullable() }))
    .mutation(({ ctx, input }) => upsertUser(ctx.db, input)),
});
