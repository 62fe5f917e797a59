import { z } from 'zod';
import { degradedResultSchema, enhancedResultSchema } from './enhance';

/** enhance.submit / enhance.get: the public id of one submitted enhancement. */
export const enhancementIdSchema = z.uuid('enhancementId must be a UUID');

export const enhanceSubmitResultSchema = z.object({
  enhancementId: enhancementIdSchema,
  /** `queued` when first submitted; a replayed key answers the state its enhancement is in now. */
  status: z.enum(['queued', 'running', 'enhanced', 'degraded', 'failed']),
});
export type EnhanceSubmitResult = z.infer<typeof enhanceSubmitResultSchema>;

export const enhanceGetInputSchema = z.object({ enhancementId: enhancementIdSchema });

const pending = (status: 'queued' | 'running') => z.object({ status: z.literal(status), enhancementId: enhancementIdSchema });

/** The input image could not be used (enhance.run's BAD_REQUEST): nothing was charged. */
export const enhancementFailureSchema = z.object({ status: z.literal('failed'), reason: z.literal('BAD_REQUEST'), message: z.string() });
export type EnhancementFailure = z.infer<typeof enhancementFailureSchema>;

/** Still waiting, or exactly enhance.run's result (`enhanced` / `degraded`), or refused input. */
export const enhanceGetResultSchema = z.discriminatedUnion('status', [pending('queued'), pending('running'), enhancedResultSchema, degradedResultSchema, enhancementFailureSchema]);
export type EnhanceGetResult = z.infer<typeof enhanceGetResultSchema>;
