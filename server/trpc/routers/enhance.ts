import { enhanceInputSchema, enhanceResultSchema } from '../../../shared/enhance';
import { enhanceGetInputSchema, enhanceGetResultSchema, enhanceSubmitResultSchema } from '../../../shared/enhance-async';
import { enqueueSubmitted } from '../../jobs/enhance-jobs';
import { getEnhancement, submitEnhancement } from '../../providers/async-enhancement';
import { runEnhancement } from '../../providers/gateway';
import { router } from '../init';
import { apiKeyProcedure } from '../procedures';

const exampleInput = {
  userId: 'user_42',
  inputImageUrl: 'https://images.example.com/photo.jpg',
  enhancementType: 'lighting',
  idempotencyKey: 'enh-2026-12-01-0001',
} as const;

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
  submit: apiKeyProcedure('enhance')
    .meta({
      openapi: {
        summary: 'Submit an enhancement to run in the background',
        description:
          "enhance.run's input; answers at once with the enhancement's id (status queued) after holding one credit. The work runs on the job workers; read it with enhance.get. A replayed idempotency key answers the same enhancementId (in its current status) and charges nothing more.",
        tags: ['enhance'],
        example: exampleInput,
      },
    })
    .input(enhanceInputSchema)
    .output(enhanceSubmitResultSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.gateway.requestLimit.take(ctx.apiKey.id, input.userId);
      return submitEnhancement(ctx.deps.gateway, (id) => enqueueSubmitted(ctx.deps.jobs, id), input, { apiKeyId: ctx.apiKey.id });
    }),
  get: apiKeyProcedure('enhance')
    .meta({
      openapi: {
        summary: 'Read a submitted enhancement',
        description:
          "queued or running, or exactly enhance.run's result (enhanced / degraded), or failed when the input image could not be used (nothing charged). Only the API key that submitted it can read it (scope enhance).",
        tags: ['enhance'],
        example: { enhancementId: '0b6f3c52-5f7e-4f3a-9d55-2c1f0f2b7c11' },
      },
    })
    .input(enhanceGetInputSchema)
    .output(enhanceGetResultSchema)
    .query(({ ctx, input }) => getEnhancement(ctx.deps.gateway, input.enhancementId, { apiKeyId: ctx.apiKey.id })),
});
