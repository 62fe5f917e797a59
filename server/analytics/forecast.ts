import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/client';
import { col, queryOne, queryRows } from '../db/rows';
import { liveSummary } from './trends';
import { addDays, today } from './days';

const TRAILING_DAYS = 7;

/** A pool's balance and its trailing burn per day (a rate in credits, kept as decimal text until the division). */
const poolBurnRow = z.object({ provider: col.text, balance: col.integer, burn: col.decimal });
/** The month's provider cost so far and projected, against the budget (money as decimal text; `share` a ratio). */
const monthCostRow = z.object({
  mtd: col.decimal,
  projected: col.decimal,
  budget: col.decimal,
  configured: col.bool,
  share: col.decimalOrNull,
  days_left: col.integer,
  days_in_month: col.integer,
});

/**
 * For each pool, days until it is empty at the trailing 7-day burn rate and the refill that covers
 * the rest of the month; for the month, provider cost projected at the same trailing rate against
 * the revenue budget. Burn and cost come from the daily tables, so this stays cheap.
 */
export async function forecast(db: DbOrTx, asOf = today(), todayCostUsd?: string) {
  const from = addDays(asOf, -TRAILING_DAYS);
  const yesterday = addDays(asOf, -1);
  const monthStart = `${asOf.slice(0, 8)}01`;
  const todayCost = todayCostUsd ?? (await liveSummary(db, asOf))[0]?.cost_usd ?? '0';
  const pools = await queryRows(
    db,
    poolBurnRow,
    sql`
    select p.provider,
      (select coalesce(sum(balance), 0) from credit_pool_stripes s where s.provider = p.provider)::text as balance,
      (select coalesce(sum(b.credits), 0)::numeric / ${TRAILING_DAYS} from daily_usage_breakdown b
       where b.dimension = 'provider' and b.value = p.provider and b.day between ${from}::date and ${yesterday}::date)::numeric(14,4)::text as burn
    from credit_pools p where p.status <> 'suspended' order by p.provider`,
  );
  const month = await queryOne(
    db,
    monthCostRow,
    sql`
    with settings as (
      select monthly_revenue_usd * credit_budget_share_percent / 100 as budget, monthly_revenue_usd > 0 as configured from platform_settings where id = 1
    ), stored as (
      select coalesce(sum(cost_usd), 0) as cost from daily_usage_summary where day between ${monthStart}::date and ${yesterday}::date
    ), live as (
      select ${todayCost}::numeric as cost
    ), recent as (
      select coalesce(sum(cost_usd), 0) / ${TRAILING_DAYS} as per_day from daily_usage_summary where day between ${from}::date and ${yesterday}::date
    ), cal as (
      select (date_trunc('month', ${asOf}::date) + interval '1 month' - interval '1 day')::date - ${asOf}::date as days_left,
             extract(day from date_trunc('month', ${asOf}::date) + interval '1 month' - interval '1 day')::int as days_in_month
    )
    select (stored.cost + live.cost)::numeric(14,2)::text as mtd,
           (stored.cost + live.cost + recent.per_day * cal.days_left)::numeric(14,2)::text as projected,
           settings.budget::numeric(14,2)::text as budget, settings.configured,
           case when settings.configured and settings.budget > 0
             then ((stored.cost + live.cost + recent.per_day * cal.days_left) / settings.budget)::numeric(8,4)::text end as share,
           cal.days_left, cal.days_in_month
    from settings, stored, live, recent, cal`,
  );
  const daysLeft = month!.days_left;
  return {
    pools: pools.map((p) => {
      const balance = p.balance;
      const burn = Number(p.burn);
      const daysUntilEmpty = burn > 0 ? Math.round((balance / burn) * 10) / 10 : null;
      return {
        provider: p.provider,
        balance,
        burnPerDay: burn,
        daysUntilEmpty,
        emptyOn: daysUntilEmpty === null ? null : addDays(asOf, Math.floor(daysUntilEmpty)),
        // Today counts as a day still to pay for.
        refillToCoverMonth: Math.max(0, Math.ceil(burn * (daysLeft + 1)) - balance),
      };
    }),
    month: {
      monthToDateCostUsd: month!.mtd,
      projectedCostUsd: month!.projected,
      budgetUsd: month!.budget,
      budgetConfigured: month!.configured,
      projectedShareOfBudget: month!.share === null ? null : Number(month!.share),
      daysLeft,
    },
  };
}
