import { z } from 'zod';
import {
  adminSchema,
  apiKeySchema,
  createAdminInputSchema,
  createApiKeyInputSchema,
  createdApiKeySchema,
  updateAdminInputSchema,
} from '../../../shared/auth';
import { createAdmin, listAdmins, updateAdmin } from '../../auth/admins';
import { createApiKey, listApiKeys, revokeApiKey } from '../../auth/api-keys';
import { adminProcedure } from '../procedures';
import { router } from '../init';

export const apiKeysRouter = router({
  list: adminProcedure('admin')
    .output(z.array(apiKeySchema))
    .query(({ ctx }) => listApiKeys(ctx.db)),
  create: adminProcedure('admin')
    .input(createApiKeyInputSchema)
    .output(createdApiKeySchema)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => createApiKey(tx, ctx.actor, input))),
  revoke: adminProcedure('admin')
    .input(z.object({ id: z.string().uuid() }))
    .output(apiKeySchema)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => revokeApiKey(tx, ctx.actor, input.id))),
});

export const adminsRouter = router({
  list: adminProcedure('admin')
    .output(z.array(adminSchema))
    .query(({ ctx }) => listAdmins(ctx.db)),
  create: adminProcedure('admin')
    .input(createAdminInputSchema)
    .output(adminSchema)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => createAdmin(tx, ctx.actor, input))),
  update: adminProcedure('admin')
    .input(updateAdminInputSchema)
    .output(adminSchema)
    .mutation(({ ctx, input }) => updateAdmin(ctx.db, ctx.actor, input)),
});
