import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { queryOne } from '../db/rows';

export type BudgetCheck = { budgetUsd: string; spentUsd: string; withinBudget: boolean; configured: boolean };

/**
 * The month's credit budget is monthly revenue × the credit share. Spent means refills approved,
 * completed or of unknown outcome (they may have been bought) this month (UTC). With no revenue
 * configured there is no cap. All arithmetic in numeric.
 */
export async function checkBudget(db: DbOrTx, extraCostUsd: string): Promise<BudgetCheck> {
  const row = await queryOne<{ budget: string; spent: string; within: boolean; configured: boolean }>(
    db,
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
