import { z } from 'zod';
import { creditSourceSchema, enhancementTypeSchema } from './credits';
import { idempotencyKeySchema, userIdSchema } from './common';

export const enhanceInputSchema = z.object({
  userId: userIdSchema,
  inputImageUrl: z
    .string()
    .trim()
    .max(2048, 'inputImageUrl is at most 2048 characters')
    .url('inputImageUrl must be a URL')
    .regex(/^https?:\/\//i, 'inputImageUrl must be an http(s) URL'),
  enhancementType: enhancementTypeSchema,
  idempotencyKey: idempotencyKeySchema,
  moodboardId: z.string().trim().min(1).max(128, 'moodboardId is at most 128 characters').optional(),
});
export type EnhanceInput = z.infer<typeof enhanceInputSchema>;

export const enhancedResultSchema = z.object({
  status: z.literal('enhanced'),
  provider: z.string(),
  outputUrl: z.string(),
  costUsd: z.string(),
  creditSource: creditSourceSchema,
});

export const degradedResultSchema = z.object({
  status: z.literal('degraded'),
  type: z.enum(['css_filter_fallback', 'suggestion_fallback']),
  originalUrl: z.string(),
  enhancedUrl: z.string(),
  cssFilter: z.string().optional(),
  suggestion: z.string().optional(),
  retryAfter: z.number().int().optional(),
  message: z.string().optional(),
  degradationReason: z.string(),
});

export const enhanceResultSchema = z.discriminatedUnion('status', [enhancedResultSchema, degradedResultSchema]);
export type EnhanceResult = z.infer<typeof enhanceResultSchema>;
