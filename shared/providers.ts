import { z } from 'zod';
import { outboundUrlSchema, reasonSchema } from './common';
import { enhancementTypeSchema } from './credits';
import { providerNameSchema } from './pools';

export const providerKindSchema = z.enum(['nanobanana', 'fal', 'kie', 'google', 'local']);

export const providerInputSchema = z.object({
  name: providerNameSchema,
  kind: providerKindSchema,
  baseUrl: outboundUrlSchema('baseUrl'),
  /** Write-only: a new key replaces the old, omitted keeps it, null removes it. */
  apiKey: z.string().min(1).max(500).nullable().optional(),
  model: z.string().trim().min(1).max(200).nullable().default(null),
  costPerRequest: z
    .string()
    .trim()
    .regex(/^\d{1,6}(\.\d{1,6})?$/, 'costPerRequest must be a decimal string such as "0.039"'),
  rateLimitPerMinute: z.number().int('rateLimitPerMinute must be a whole number').min(1).max(100_000),
  priority: z.number().int().min(0).max(10_000),
  timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
  isActive: z.boolean().default(true),
  healthCheckUrl: outboundUrlSchema('healthCheckUrl').nullable().default(null),
});
export type ProviderInput = z.infer<typeof providerInputSchema>;

export const providerSchema = z.object({
  name: z.string(),
  kind: providerKindSchema,
  baseUrl: z.string(),
  apiKeySet: z.boolean(),
  model: z.string().nullable(),
  costPerRequest: z.string(),
  rateLimitPerMinute: z.number().int(),
  priority: z.number().int(),
  timeoutMs: z.number().int(),
  isActive: z.boolean(),
  healthCheckUrl: z.string().nullable(),
  lastHealthCheck: z.string().nullable(),
  lastHealthOk: z.boolean().nullable(),
  lastHealthDetail: z.string().nullable(),
  /** The last failed health check's error and time, kept after a later success. */
  lastHealthError: z.string().nullable(),
  lastHealthErrorAt: z.string().nullable(),
  archivedAt: z.string().nullable(),
  successRate24h: z.number().nullable(),
  calls24h: z.number().int(),
  latencyP50Ms: z.number().int().nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
  circuit: z.enum(['closed', 'open', 'half_open']),
  poolBalance: z.number().int().nullable(),
});
export type ProviderView = z.infer<typeof providerSchema>;

export const reorderProvidersInputSchema = z.object({
  names: z.array(providerNameSchema).min(1).max(100),
  reason: z.string().trim().max(500).optional(),
});

export const setProviderActiveInputSchema = z.object({ name: providerNameSchema, isActive: z.boolean(), reason: z.string().trim().max(500).optional() });

export const healthResultSchema = z.object({ name: z.string(), ok: z.boolean(), latencyMs: z.number().int(), detail: z.string().nullable() });

/** The Providers page's "Try an enhancement": the built-in sample image unless a URL is given. */
export const tryEnhancementInputSchema = z.object({
  enhancementType: enhancementTypeSchema,
  imageUrl: z
    .string()
    .trim()
    .max(2048, 'Use an address of at most 2048 characters')
    .url('Enter a full address such as https://example.com/photo.jpg')
    .regex(/^https?:\/\//i, 'Enter an http(s) address')
    .optional(),
});
export type TryEnhancementInput = z.infer<typeof tryEnhancementInputSchema>;

export const tryAttemptSchema = z.object({ provider: z.string(), outcome: z.enum(['success', 'failure', 'skipped']), detail: z.string().nullable() });

export const tryEnhancementResultSchema = z.object({
  status: z.enum(['enhanced', 'failed']),
  inputUrl: z.string(),
  provider: z.string().nullable(),
  outputUrl: z.string().nullable(),
  costUsd: z.string(),
  attempts: z.array(tryAttemptSchema),
});
export type TryEnhancementResult = z.infer<typeof tryEnhancementResultSchema>;

/** The lists hide archived providers and pools unless asked ("Show archived"). */
export const archivedListInputSchema = z.object({ includeArchived: z.boolean().optional() }).optional();

export const archiveProviderInputSchema = z.object({ name: providerNameSchema, reason: reasonSchema });
