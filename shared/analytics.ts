import { z } from 'zod';

// A calendar day: 2026-02-30 is shaped like one but is refused here, not by PostgreSQL later.
const day = z.iso.date({ message: 'must be a calendar day such as 2026-11-24' });

export const splitKeys = ['none', 'tier', 'provider', 'enhancementType', 'source'] as const;
export const splitSchema = z.enum(splitKeys, { message: `split must be one of ${splitKeys.join(', ')}` });

const MAX_RANGE_DAYS = 731;

/** A range of UTC days, from ≤ to, at most two years. */
export const dayRangeSchema = z
  .object({ from: day, to: day })
  .refine((r) => r.from <= r.to, { message: 'from must not be after to', path: ['from'] })
  .refine((r) => (Date.parse(r.to) - Date.parse(r.from)) / 86_400_000 <= MAX_RANGE_DAYS, {
    message: 'the range may span at most 2 years',
    path: ['to'],
  });

export const trendInputSchema = z.object({ range: dayRangeSchema, split: splitSchema.default('none') });

export const trendPointSchema = z.object({
  day: z.string(),
  totalRequests: z.number().int(),
  successfulRequests: z.number().int(),
  failedRequests: z.number().int(),
  creditsConsumed: z.number().int(),
  allowanceCredits: z.number().int(),
  platformCredits: z.number().int(),
  costUsd: z.string(),
  successRate: z.number().nullable(),
  /** With a split: the value's requests, credits and cost per split value. */
  split: z.record(z.string(), z.object({ requests: z.number().int(), successfulRequests: z.number().int(), credits: z.number().int(), costUsd: z.string() })),
});
export type TrendPoint = z.infer<typeof trendPointSchema>;

export const trendSchema = z.object({ split: splitSchema, splitValues: z.array(z.string()), points: z.array(trendPointSchema) });

export const topUsersInputSchema = z.object({ range: dayRangeSchema, limit: z.number().int().min(1).max(100).default(20) });
export const topUserSchema = z.object({ userId: z.string(), email: z.string().nullable(), tier: z.string().nullable(), requests: z.number().int(), credits: z.number().int(), costUsd: z.string() });

export const poolForecastSchema = z.object({
  provider: z.string(),
  balance: z.number().int(),
  burnPerDay: z.number(),
  daysUntilEmpty: z.number().nullable(),
  emptyOn: z.string().nullable(),
  refillToCoverMonth: z.number().int(),
});
export const monthForecastSchema = z.object({
  monthToDateCostUsd: z.string(),
  projectedCostUsd: z.string(),
  budgetUsd: z.string(),
  budgetConfigured: z.boolean(),
  projectedShareOfBudget: z.number().nullable(),
  daysLeft: z.number().int(),
});
export const forecastSchema = z.object({ pools: z.array(poolForecastSchema), month: monthForecastSchema });

export const whatIfInputSchema = z.object({
  tiers: z.object({
    free: z.object({ monthlyCredits: z.number().int().min(0).max(100_000), poolAccess: z.boolean() }),
    plus: z.object({ monthlyCredits: z.number().int().min(0).max(100_000), poolAccess: z.boolean() }),
    pro: z.object({ monthlyCredits: z.number().int().min(0).max(100_000), poolAccess: z.boolean() }),
  }),
  days: z.number().int().min(1).max(90).default(30),
});
export const whatIfResultSchema = z.object({
  from: z.string(),
  to: z.string(),
  requests: z.number().int(),
  actual: z.object({ allowance: z.number().int(), overflow: z.number().int(), refused: z.number().int() }),
  scenario: z.object({ allowance: z.number().int(), overflow: z.number().int(), refused: z.number().int() }),
  costDifferenceUsd: z.string(),
  byTier: z.array(z.object({ tier: z.string(), requests: z.number().int(), overflow: z.number().int(), refused: z.number().int(), actualOverflow: z.number().int() })),
});

export const reallocationResultSchema = z.object({
  upgradeSuggestions: z.number().int(),
  usersReallocated: z.number().int(),
  creditsReallocated: z.number().int(),
  pool: z.string().nullable(),
});

export const dashboardSchema = z.object({
  generatedAt: z.string(),
  platformCreditsRemaining: z.number().int(),
  creditsConsumedToday: z.number().int(),
  requestsToday: z.number().int(),
  activeUsers: z.number().int(),
  monthCostUsd: z.string(),
  activeAlerts: z.array(z.object({ id: z.string(), type: z.string(), level: z.string(), subject: z.string(), message: z.string(), occurrences: z.number().int(), lastSeenAt: z.string() })),
  activeAlertCount: z.number().int(),
  providers: z.array(
    z.object({
      name: z.string(),
      /** Null for a pool whose provider is not configured. */
      kind: z.string().nullable(),
      isActive: z.boolean(),
      healthy: z.boolean().nullable(),
      costPerRequest: z.string().nullable(),
      successRate24h: z.number().nullable(),
      poolBalance: z.number().int().nullable(),
      poolStatus: z.string().nullable(),
    }),
  ),
  trend: z.array(z.object({ day: z.string(), requests: z.number().int(), credits: z.number().int(), costUsd: z.string() })),
  forecast: forecastSchema,
});
