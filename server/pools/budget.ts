import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/client';
import { col, queryOne } from '../db/rows';

export type BudgetCheck = { budgetUsd: string; spentUsd: string; withinBudget: boolean; configured: boolean };

const budgetCheckRow = z.object({ budget: col.decimal, spent: col.decimal, within: col.bool, configured: col.bool });

/**
 * The month's credit budget is monthly revenue × the credit share. Spent means refills approved,
 * completed or of unknown outcome (they may have been bought) this month (UTC). With no revenue
 * configured there is no cap. All arithmetic in numeric.
 */
export async function checkBudget(db: DbOrTx, extraCostUsd: string): Promise<BudgetCheck> {
  const row = await queryOne(
    db,
    budgetCheckRow,
    sql`
    with s as (select monthly_revenue_usd * credit_budget_share_percent / 100 as budget, monthly_revenue_usd > 0 as configured
               from platform_settings where id = 1),
    spent as (select coalesce(sum(estimated_cost), 0) as spent from credit_purchase_requests
              where status in ('approved', 'completed', 'outcome_unknown') and requested_at >= date_trunc('month', now(), 'UTC'))
    select s.budget::numeric(14,2)::text as budget, spent.spent::numeric(14,2)::text as spent, s.configured,
           (not s.configured or spent.spent + ${extraCostUsd}::numeric <= s.budget) as within
    from s, spent`,
  );
  return { budgetUsd: row!.budget, spentUsd: row!.spent, withinBudget: row!.within, configured: row!.configured };
}

/**
 * Takes the month's budget for the rest of the caller's transaction: the settings row lock makes
 * check-then-insert of refills one at a time, so concurrent refills never overrun it together.
 * Take it before any pool row lock (the pool's purchase request insert needs a key-share lock on it).
 */
export async function lockBudget(db: DbOrTx): Promise<void> {
  await db.execute(sql`select 1 from platform_settings where id = 1 for update`);
}

export type BudgetSummary = {
  /** False while no monthly revenue is set: refills are not capped. */
  configured: boolean;
  monthlyRevenueUsd: string;
  creditBudgetSharePercent: number;
  budgetUsd: string;
  /** What the cap counts: refills approved or completed this month (UTC). */
  refillsUsd: string;
  /** Budget minus refills; negative when over. */
  leftUsd: string;
  overBudget: boolean;
  /** What the providers cost this month from the ledger, to date and projected at the trailing rate. */
  providerCostMonthToDateUsd: string;
  providerCostProjectedUsd: string;
};

const budgetSummaryRow = z.object({ revenue: col.decimal, share: col.integer, budget: col.decimal, refills: col.decimal, left: col.decimal, configured: col.bool });

/**
 * The month's budget figures every page shows (Dashboard, Pools, Settings): one query, so they
 * cannot disagree. `providerCost` is the analytics forecast's month (it reads the daily tables).
 */
export async function budgetSummary(db: DbOrTx, providerCost: { monthToDateCostUsd: string; projectedCostUsd: string }): Promise<BudgetSummary> {
  const row = await queryOne(
    db,
    budgetSummaryRow,
    sql`
    with s as (select monthly_revenue_usd, credit_budget_share_percent, monthly_revenue_usd * credit_budget_share_percent / 100 as budget
               from platform_settings where id = 1),
    spent as (select coalesce(sum(estimated_cost), 0) as spent from credit_purchase_requests
              where status in ('approved', 'completed') and requested_at >= date_trunc('month', now(), 'UTC'))
    select s.monthly_revenue_usd::text as revenue, s.credit_budget_share_percent as share, s.monthly_revenue_usd > 0 as configured,
           s.budget::numeric(14,2)::text as budget, spent.spent::numeric(14,2)::text as refills,
           (s.budget::numeric(14,2) - spent.spent::numeric(14,2))::text as left
    from s, spent`,
  );
  return {
    configured: row!.configured,
    monthlyRevenueUsd: row!.revenue,
    creditBudgetSharePercent: row!.share,
    budgetUsd: row!.budget,
    refillsUsd: row!.refills,
    leftUsd: row!.left,
    overBudget: row!.configured && row!.left.startsWith('-'),
    providerCostMonthToDateUsd: providerCost.monthToDateCostUsd,
    providerCostProjectedUsd: providerCost.projectedCostUsd,
  };
}
