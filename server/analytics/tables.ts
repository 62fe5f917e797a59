import { boolean, date, integer, numeric, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row per UTC day, rebuilt from the ledger by generateDailyUsageSummary(day). A request is an
 * enhancement charge: successful when charged (consumption or capture), failed when its hold was
 * released or expired.
 */
export const dailyUsageSummary = pgTable('daily_usage_summary', {
  day: date('day', { mode: 'string' }).primaryKey(),
  totalRequests: integer('total_requests').notNull(),
  successfulRequests: integer('successful_requests').notNull(),
  failedRequests: integer('failed_requests').notNull(),
  creditsConsumed: integer('credits_consumed').notNull(),
  allowanceCredits: integer('allowance_credits').notNull(),
  platformCredits: integer('platform_credits').notNull(),
  costUsd: numeric('cost_usd', { precision: 14, scale: 6 }).notNull(),
  freeTierUsage: integer('free_tier_usage').notNull(),
  plusTierUsage: integer('plus_tier_usage').notNull(),
  proTierUsage: integer('pro_tier_usage').notNull(),
  activeUsers: integer('active_users').notNull(),
  generatedAt: timestamp('generated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Per day and dimension value (provider, enhancement type, tier, source): the trend splits. */
export const dailyUsageBreakdown = pgTable(
  'daily_usage_breakdown',
  {
    day: date('day', { mode: 'string' }).notNull(),
    dimension: text('dimension').notNull(),
    value: text('value').notNull(),
    requests: integer('requests').notNull(),
    successfulRequests: integer('successful_requests').notNull(),
    failedRequests: integer('failed_requests').notNull(),
    credits: integer('credits').notNull(),
    costUsd: numeric('cost_usd', { precision: 14, scale: 6 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.dimension, t.day, t.value] })],
);

/** Per day and user, for top users over a range without scanning the ledger. */
export const dailyUserUsage = pgTable(
  'daily_user_usage',
  {
    day: date('day', { mode: 'string' }).notNull(),
    userId: text('user_id').notNull(),
    requests: integer('requests').notNull(),
    credits: integer('credits').notNull(),
    costUsd: numeric('cost_usd', { precision: 14, scale: 6 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.userId] })],
);

/**
 * Today's ledger, pre-aggregated a closed quarter-hour at a time (rollUpToday), so today's live
 * figures read these rows plus the few minutes since the last one instead of every row of the day
 * (issue 16: at 100M rows a day holds ~270k of them). A bucket is rolled once, with its row here.
 */
export const usageRollupBuckets = pgTable('usage_rollup_buckets', {
  bucketStart: timestamp('bucket_start', { withTimezone: true }).primaryKey(),
  rolledAt: timestamp('rolled_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * One bucket's requests in daily_usage_breakdown's shape (ADR 023): per dimension (tier, source,
 * enhancementType, provider), value and whether they succeeded, the requests, credits and cost.
 * Every request is in each of tier, source and enhancementType once, so the summary's figures come
 * from those rows; a provider's failed calls (provider_calls) are its failed requests.
 */
export const usageRollup = pgTable(
  'usage_rollup',
  {
    bucketStart: timestamp('bucket_start', { withTimezone: true })
      .notNull()
      .references(() => usageRollupBuckets.bucketStart, { onDelete: 'cascade' }),
    dimension: text('dimension').notNull(),
    value: text('value').notNull(),
    ok: boolean('ok').notNull(),
    requests: integer('requests').notNull(),
    credits: integer('credits').notNull(),
    costUsd: numeric('cost_usd', { precision: 14, scale: 6 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.bucketStart, t.dimension, t.value, t.ok] })],
);
