import { enhanceInputSchema, enhanceResultSchema } from '../../../shared/enhance';
import { runEnhancement } from '../../providers/gateway';
import { router } from '../init';
import { apiKeyProcedure } from '../procedures';

export const enhanceRouter = router({
  run: apiKeyProcedure('enhance')
    .input(enhanceInputSchema)
    .output(enhanceResultSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.gateway.requestLimit.take(ctx.apiKey.id, input.userId);
      return runEnhancement(ctx.deps.gateway, input, { apiKeyId: ctx.apiKey.id });
    }),
});
