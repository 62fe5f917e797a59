import { z } from 'zod';
import {
  adminSchema,
  apiKeySchema,
  apiKeyUsageSchema,
  createAdminInputSchema,
  createdAdminSchema,
  createApiKeyInputSchema,
  createdApiKeySchema,
  rotateApiKeyInputSchema,
  updateApiKeyInputSchema,
  updateAdminInputSchema,
} from '../../../shared/auth';
import { createAdmin, listAdmins, updateAdmin } from '../../auth/admins';
import { apiKeyUsage, createApiKey, listApiKeys, revokeApiKey, rotateApiKey, updateApiKey } from '../../auth/api-keys';
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
    .mutation(async ({ ctx, input }) => {
      const revoked = await ctx.db.transaction((tx) => revokeApiKey(tx, ctx.actor, input.id));
      // Committed: now no process may keep serving the key from memory (ADR 017).
      await ctx.deps.apiKeys.changed(input.id);
      return revoked;
    }),
  /** A new name or scopes; every process applies the scopes before this returns. */
  update: adminProcedure('admin')
    .input(updateApiKeyInputSchema)
    .output(apiKeySchema)
    .mutation(async ({ ctx, input }) => {
      const updated = await ctx.db.transaction((tx) => updateApiKey(tx, ctx.actor, input));
      await ctx.deps.apiKeys.changed(input.id);
      return updated;
    }),
  /** A new secret, shown once; the old one keeps working for the grace period. */
  rotate: adminProcedure('admin')
    .input(rotateApiKeyInputSchema)
    .output(createdApiKeySchema)
    .mutation(async ({ ctx, input }) => {
      const rotated = await ctx.db.transaction((tx) => rotateApiKey(tx, ctx.actor, input));
      // The old secret's grace may be over already (graceMinutes 0), and a third secret ended.
      await ctx.deps.apiKeys.changed(input.id);
      return rotated;
    }),
  usage: adminProcedure('admin')
    .output(z.array(apiKeyUsageSchema))
    .query(({ ctx }) => apiKeyUsage(ctx.db)),
});

export const adminsRouter = router({
  list: adminProcedure('admin')
    .output(z.array(adminSchema))
    .query(({ ctx }) => listAdmins(ctx.db)),
  create: adminProcedure('admin')
    .input(createAdminInputSchema)
    .output(createdAdminSchema)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => createAdmin(tx, ctx.actor, input))),
  update: adminProcedure('admin')
    .input(updateAdminInputSchema)
    .output(adminSchema)
    .mutation(({ ctx, input }) => updateAdmin(ctx.db, ctx.actor, input)),
});
