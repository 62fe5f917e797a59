import { z } from 'zod';
import { balanceSchema } from '../../../shared/credits';
import { upsertUserInputSchema } from '../../../shared/users';
import { upsertUser } from '../../ledger/users';
import { apiKeyProcedure } from '../procedures';
import { router } from '../init';

export const usersRouter = router({
  upsert: apiKeyProcedure('users:write')
    .input(upsertUserInputSchema)
    .output(balanceSchema.extend({ email: z.string().nullable() }))
    .mutation(({ ctx, input }) => upsertUser(ctx.db, input)),
});
