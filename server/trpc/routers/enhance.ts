import { enhanceInputSchema, enhanceResultSchema } from '../../../shared/enhance';
import { runEnhancement } from '../../providers/gateway';
import { router } from '../init';
import { apiKeyProcedure } from '../procedures';

export const enhanceRouter = router({
  run: apiKeyProcedure('enhance')
    .input(enhanceInputSchema)
    .output(enhanceResultSchema)
    .mutation(({ ctx, input }) => runEnhancement(ctx.deps.gateway, input, { apiKeyId: ctx.apiKey.id })),
});
