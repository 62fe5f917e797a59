import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { LiveFigures } from '../../shared/live';
import type { DbOrTx } from '../db/client';
import { col, queryOne } from '../db/rows';
import type { TodayTotals } from './today-totals';

const headlineTotalsRow = z.object({ platform: col.integer, active_users: col.integer, month_cost: col.decimal, alert_count: col.integer });

/**
 * The dashboard's headline figures (the same definitions as admin.dashboard's, without its trend,
 * provider and forecast parts): today's totals as the hub keeps them, the platform's pool credits,
 * users holding credits, and the month's cost (finished days from the daily table plus today).
 */
export async function liveFigures(db: DbOrTx, todayTotals: TodayTotals): Promise<LiveFigures> {
  const now = todayTotals.day;
  const todayCost = todayTotals.costUsd;
  const totals = await queryOne(
    db,
    headlineTotalsRow,
    sql`select
      (select coalesce(sum(s.balance), 0) from credit_pool_stripes s join credit_pools p on p.provider = s.provider where p.status <> 'suspended')::text as platform,
      (select count(*) from user_credits where current_balance + bonus_balance > 0)::int as active_users,
      ((select coalesce(sum(cost_usd), 0) from daily_usage_summary where day >= date_trunc('month', ${now}::date) and day < ${now}::date)
        + ${todayCost}::numeric)::numeric(14,2)::text as month_cost,
      (select count(*) from system_alerts where status <> 'resolved' and level <> 'info')::int as alert_count`,
  );
  return {
    platformCreditsRemaining: totals!.platform,
    creditsConsumedToday: todayTotals.credits,
    requestsToday: todayTotals.requests,
    activeUsers: totals!.active_users,
    monthCostUsd: totals!.month_cost,
    activeAlertCount: totals!.alert_count,
  };
}
