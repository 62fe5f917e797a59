import { z } from 'zod';
import { providerNameSchema } from '../../../shared/pools';
import {
  archivedListInputSchema,
  archiveProviderInputSchema,
  healthResultSchema,
  providerInputSchema,
  providerSchema,
  reorderProvidersInputSchema,
  setProviderActiveInputSchema,
  tryEnhancementInputSchema,
  tryEnhancementResultSchema,
} from '../../../shared/providers';
import { checkProviderHealth, listProviders, reorderProviders, saveProvider, setProviderActive } from '../../providers/provider-admin';
import { archiveProvider, restoreProvider } from '../../providers/provider-archive';
import { tryEnhancement } from '../../providers/try-enhancement';
import { router } from '../init';
import { adminProcedure } from '../procedures';

const ok = z.object({ ok: z.literal(true) });

export const providersRouter = router({
  list: adminProcedure('analyst')
    .input(archivedListInputSchema)
    .output(z.array(providerSchema))
    .query(({ ctx, input }) => listProviders(ctx.db, ctx.deps.gateway.breaker, { includeArchived: input?.includeArchived })),
  create: adminProcedure('admin')
    .input(providerInputSchema)
    .output(ok)
    .mutation(async ({ ctx, input }) => {
      await saveProvider(ctx.db, ctx.deps.secrets, ctx.actor, input, 'create');
      return { ok: true as const };
    }),
  update: adminProcedure('admin')
    .input(providerInputSchema)
    .output(ok)
    .mutation(async ({ ctx, input }) => {
      await saveProvider(ctx.db, ctx.deps.secrets, ctx.actor, input, 'update');
      return { ok: true as const };
    }),
  reorder: adminProcedure('admin')
    .input(reorderProvidersInputSchema)
    .output(ok)
    .mutation(async ({ ctx, input }) => {
      await reorderProviders(ctx.db, ctx.actor, input.names, input.reason);
      return { ok: true as const };
    }),
  setActive: adminProcedure('admin')
    .input(setProviderActiveInputSchema)
    .output(ok)
    .mutation(async ({ ctx, input }) => {
      await setProviderActive(ctx.db, ctx.actor, input);
      return { ok: true as const };
    }),
  archive: adminProcedure('admin')
    .input(archiveProviderInputSchema)
    .output(ok)
    .mutation(async ({ ctx, input }) => {
      await archiveProvider(ctx.db, ctx.actor, input);
      return { ok: true as const };
    }),
  restore: adminProcedure('admin')
    .input(archiveProviderInputSchema)
    .output(ok)
    .mutation(async ({ ctx, input }) => {
      await restoreProvider(ctx.db, ctx.actor, input);
      return { ok: true as const };
    }),
  testNow: adminProcedure('admin')
    .input(z.object({ name: providerNameSchema }))
    .output(healthResultSchema)
    .mutation(({ ctx, input }) => checkProviderHealth(ctx.db, ctx.deps.gateway, input.name)),
  /** The Providers page's trial run: the admin's session, the built-in sample by default, no user charged. */
  tryEnhancement: adminProcedure('admin')
    .input(tryEnhancementInputSchema)
    .output(tryEnhancementResultSchema)
    .mutation(({ ctx, input }) => tryEnhancement(ctx.deps.gateway, ctx.actor, input)),
});
