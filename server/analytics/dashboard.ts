import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { z } from 'zod';
import { col, queryOne, queryRows } from '../db/rows';
import { callStats24h, successRate } from '../providers/call-stats';
import { addDays, today } from './days';
import { forecast } from './forecast';
import { liveSummary, usageTrend } from './trends';

const iso = (c: string) => sql.raw(`to_char(${c} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/**
 * Every figure of the admin dashboard in one call: finished days from the daily tables, today live
 * from today's ledger rows only, never a scan of the whole ledger.
 */
export async function dashboard(db: DbOrTx) {
  const now = today();
  // Today's live figures are the only part that reads the ledger: computed once, shared below.
  const todayRows = await liveSummary(db);
  const todayCost = todayRows[0]?.cost_usd ?? '0';
  const [totals, alerts, providers, trend, outlook] = await Promise.all([
    queryOne(
      db,
      z.object({ platform: col.integer, active_users: col.integer, month_stored: col.decimal, alert_count: col.integer }),
      sql`select
        (select coalesce(sum(s.balance), 0) from credit_pool_stripes s join credit_pools p on p.provider = s.provider where p.status <> 'suspended')::text as platform,
        (select count(*) from user_credits where current_balance + bonus_balance > 0)::int as active_users,
        (select coalesce(sum(cost_usd), 0) from daily_usage_summary where day >= date_trunc('month', ${now}::date) and day < ${now}::date)::text as month_stored,
        -- What needs an operator: unresolved warnings and worse; info alerts are news, not work.
        (select count(*) from system_alerts where status <> 'resolved' and level <> 'info')::int as alert_count`,
    ),
    queryRows(
      db,
      z.object({ id: col.id, type: col.text, level: col.text, subject: col.text, message: col.text, occurrences: col.integer, last_seen_at: col.text }),
      sql`select id, type, level, subject, message, occurrences, ${iso('last_seen_at')} as last_seen_at from system_alerts
          where status <> 'resolved' and level <> 'info'
          order by case level when 'critical' then 0 when 'error' then 1 when 'warning' then 2 else 3 end, last_seen_at desc limit 8`,
    ),
    queryRows(
      db,
      z.object({
        name: col.text,
        kind: col.textOrNull,
        is_active: col.bool,
        healthy: col.bool.nullable(),
        cost: col.decimalOrNull,
        calls: col.integer,
        ok: col.integer,
        pool: col.integerOrNull,
        pool_status: col.textOrNull,
      }),
      sql`select a.name, a.kind, a.is_active, a.last_health_ok as healthy, a.cost_per_request::text as cost,
            c.calls, c.successes as ok,
            (select sum(balance)::text from credit_pool_stripes s where s.provider = a.name) as pool,
            (select status from credit_pools p where p.provider = a.name) as pool_status, a.priority as sort
          from api_providers a
          left join lateral (${callStats24h(sql`a.name`)}) c on true
          where a.archived_at is null
          union all
          -- Pools with no provider configured yet still hold credits worth seeing (and refilling).
          select p.provider, null, false, null, null, 0, 0,
            (select sum(balance)::text from credit_pool_stripes s where s.provider = p.provider), p.status, 2147483647
          from credit_pools p where p.archived_at is null and not exists (select 1 from api_providers a where a.name = p.provider)
          order by sort, name`,
    ),
    usageTrend(db, { from: addDays(now, -29), to: now, split: 'none' }, todayRows),
    forecast(db, now, todayCost),
  ]);
  const live = {
    total_requests: todayRows[0]?.total_requests ?? 0,
    credits_consumed: todayRows[0]?.credits_consumed ?? 0,
    cost_usd: todayCost,
  };
  const monthCost = await queryOne(db, z.object({ v: col.decimal }), sql`select (${totals!.month_stored}::numeric + ${live.cost_usd}::numeric)::numeric(14,2)::text as v`);
  return {
    generatedAt: new Date().toISOString(),
    platformCreditsRemaining: totals!.platform,
    creditsConsumedToday: live.credits_consumed,
    requestsToday: live.total_requests,
    activeUsers: totals!.active_users,
    monthCostUsd: monthCost!.v,
    activeAlertCount: totals!.alert_count,
    activeAlerts: alerts.map((a) => ({ id: a.id, type: a.type, level: a.level, subject: a.subject, message: a.message, occurrences: a.occurrences, lastSeenAt: a.last_seen_at })),
    providers: providers.map((p) => ({
      name: p.name,
      kind: p.kind,
      isActive: p.is_active,
      healthy: p.healthy,
      costPerRequest: p.cost,
      successRate24h: successRate(p.ok, p.calls),
      poolBalance: p.pool,
      poolStatus: p.pool_status,
    })),
    trend: trend.points.map((p) => ({ day: p.day, requests: p.totalRequests, credits: p.creditsConsumed, costUsd: p.costUsd })),
    forecast: outlook,
  };
}
