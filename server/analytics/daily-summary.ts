import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { col, queryRows } from '../db/rows';
import { z } from 'zod';
import { breakdownRows, summaryRows, userRows } from './day-aggregates';
import { addDays, today } from './days';

/**
 * Rebuilds one UTC day's summary, breakdowns and per-user usage from the ledger, replacing what
 * was there: re-running it for any past day gives the same rows. A day without requests gets a
 * row of zeros, so "summarised" and "nothing happened" look different from "missing".
 */
export async function generateDailyUsageSummary(db: DbOrTx, day: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`delete from daily_usage_summary where day = ${day}::date`);
    await tx.execute(sql`delete from daily_usage_breakdown where day = ${day}::date`);
    await tx.execute(sql`delete from daily_user_usage where day = ${day}::date`);
    await tx.execute(sql`
      insert into daily_usage_summary (day, total_requests, successful_requests, failed_requests, credits_consumed,
        allowance_credits, platform_credits, cost_usd, free_tier_usage, plus_tier_usage, pro_tier_usage, active_users)
      select ${day}::date, coalesce(s.total_requests, 0), coalesce(s.successful_requests, 0), coalesce(s.failed_requests, 0),
        coalesce(s.credits_consumed, 0), coalesce(s.allowance_credits, 0), coalesce(s.platform_credits, 0), coalesce(s.cost_usd, 0),
        coalesce(s.free_tier_usage, 0), coalesce(s.plus_tier_usage, 0), coalesce(s.pro_tier_usage, 0), coalesce(s.active_users, 0)
      from (select 1) one left join (${summaryRows(day, day)}) s on true`);
    await tx.execute(sql`
      insert into daily_usage_breakdown (day, dimension, value, requests, successful_requests, failed_requests, credits, cost_usd)
      select day::date, dimension, value, requests, successful_requests, failed_requests, credits, cost_usd from (${breakdownRows(day, day)}) b`);
    await tx.execute(sql`
      insert into daily_user_usage (day, user_id, requests, credits, cost_usd)
      select day::date, user_id, requests, credits, cost_usd from (${userRows(day, day)}) u`);
  });
}

/**
 * Summarises every finished day (before today, UTC) that has no summary yet, from the first ledger
 * entry on; returns the days it generated. The nightly job runs this, so a missed night heals itself.
 */
export async function backfillDailySummaries(db: DbOrTx, opts: { until?: string } = {}): Promise<string[]> {
  const until = opts.until ?? addDays(today(), -1);
  const missing = await queryRows(
    db,
    z.object({ day: col.text }),
    sql`
    with bounds as (select (min(created_at) at time zone 'UTC')::date as first from credit_transactions)
    select d::date::text as day
    from bounds, generate_series(bounds.first, ${until}::date, interval '1 day') d
    where bounds.first is not null and not exists (select 1 from daily_usage_summary s where s.day = d::date)
    order by d`,
  );
  for (const { day } of missing) await generateDailyUsageSummary(db, day);
  return missing.map((m) => m.day);
}
