import { enhanceInputSchema, enhanceResultSchema } from '../../../shared/enhance';
import { runEnhancement } from '../../providers/gateway';
import { router } from '../init';
import { apiKeyProcedure } from '../procedures';

export const enhanceRouter = router({
  run: apiKeyProcedure('enhance')
    .meta({
      openapi: {
        summary: 'Enhance an image, charging the user’s credits',
        description:
          'Runs the enhancement on a provider and answers when it is done; when no provider can, answers a degraded result (a CSS filter or a suggestion) instead. Idempotent on `idempotencyKey`.',
        example: { userId: 'user_42', inputImageUrl: 'https://images.example.com/kitchen.jpg', enhancementType: 'lighting', idempotencyKey: 'photo-7731-lighting' },
      },
    })
    .input(enhanceInputSchema)
    .output(enhanceResultSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.gateway.requestLimit.take(ctx.apiKey.id, input.userId);
      return runEnhancement(ctx.deps.gateway, input, { apiKeyId: ctx.apiKey.id });
    }),
});
