import { date, integer, numeric, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

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
