import { sql } from 'drizzle-orm';
import type { TrendPoint } from '../../shared/analytics';
import type { DbOrTx } from '../db/client';
import { z } from 'zod';
import { col, queryRows } from '../db/rows';
import { userRows } from './day-aggregates';
import { dayBreakdownFromRollup, daySummaryFromRollup, rolledThrough } from './today-rollup';
import { addDays, eachDay, today } from './days';

const summaryRow = z.object({
  day: col.text,
  total_requests: col.integer,
  successful_requests: col.integer,
  failed_requests: col.integer,
  credits_consumed: col.integer,
  allowance_credits: col.integer,
  platform_credits: col.integer,
  cost_usd: col.decimal,
});
export type SummaryRow = z.output<typeof summaryRow>;
const breakdownRow = z.object({ day: col.text, value: col.text, requests: col.integer, successful_requests: col.integer, credits: col.integer, cost_usd: col.decimal });

/**
 * Daily usage over [from, to]: finished days from the pre-aggregated tables, today live from the
 * ledger (an index range over today's rows only), so the query stays fast with millions of rows.
 */
export async function usageTrend(db: DbOrTx, input: { from: string; to: string; split: string }, todayLive?: SummaryRow[]) {
  const now = today();
  const storedTo = input.to < now ? input.to : addDays(now, -1);
  const includeToday = input.from <= now && input.to >= now;
  const stored =
    input.from <= storedTo
      ? await queryRows(
          db,
          summaryRow,
          sql`select day::text as day, total_requests, successful_requests, failed_requests, credits_consumed,
                   allowance_credits, platform_credits, cost_usd::text
            from daily_usage_summary where day between ${input.from}::date and ${storedTo}::date`,
        )
      : [];
  const live = includeToday ? (todayLive ?? (await liveSummary(db))) : [];

  let splits: z.output<typeof breakdownRow>[] = [];
  if (input.split !== 'none') {
    const storedSplits =
      input.from <= storedTo
        ? await queryRows(
            db,
            breakdownRow,
            sql`select day::text as day, value, requests, successful_requests, credits, cost_usd::text from daily_usage_breakdown
              where dimension = ${input.split} and day between ${input.from}::date and ${storedTo}::date`,
          )
        : [];
    const liveSplits = includeToday
      ? await queryRows(
          db,
          breakdownRow,
          sql`select day, value, requests, successful_requests, credits, cost_usd::text from (${dayBreakdownFromRollup(now, await rolledThrough(db, now))}) b where dimension = ${input.split}`,
        )
      : [];
    splits = [...storedSplits, ...liveSplits];
  }

  const byDay = new Map([...stored, ...live].map((r) => [r.day, r]));
  const splitValues = [...new Set(splits.map((s) => s.value))].sort();
  const points: TrendPoint[] = eachDay(input.from, input.to > now ? now : input.to).map((day) => {
    const r = byDay.get(day);
    const successful = r?.successful_requests ?? 0;
    const total = r?.total_requests ?? 0;
    return {
      day,
      totalRequests: total,
      successfulRequests: successful,
      failedRequests: r?.failed_requests ?? 0,
      creditsConsumed: r?.credits_consumed ?? 0,
      allowanceCredits: r?.allowance_credits ?? 0,
      platformCredits: r?.platform_credits ?? 0,
      costUsd: r?.cost_usd ?? '0.000000',
      successRate: total > 0 ? Math.round((successful / total) * 10_000) / 10_000 : null,
      split: Object.fromEntries(
        splits.filter((s) => s.day === day).map((s) => [s.value, { requests: s.requests, successfulRequests: s.successful_requests, credits: s.credits, costUsd: s.cost_usd }]),
      ),
    };
  });
  return { split: input.split as 'none', splitValues, points };
}

/** The heaviest users over a range: finished days from the per-user daily table, today live. */
export async function topUsers(db: DbOrTx, input: { from: string; to: string; limit: number }) {
  const now = today();
  const live = input.from <= now && input.to >= now ? sql`union all select user_id, requests, credits, cost_usd from (${userRows(now, now)}) u` : sql``;
  const rows = await queryRows(
    db,
    z.object({ user_id: col.text, email: col.textOrNull, tier: col.textOrNull, requests: col.integer, credits: col.integer, cost_usd: col.decimal }),
    sql`
    select d.user_id, u.email, u.tier, sum(d.requests)::int as requests, sum(d.credits)::int as credits, sum(d.cost_usd)::numeric(14,6)::text as cost_usd
    from (
      select user_id, requests, credits, cost_usd from daily_user_usage
      where day between ${input.from}::date and ${input.to < now ? input.to : addDays(now, -1)}::date
      ${live}
    ) d left join users u on u.user_id = d.user_id
    group by d.user_id, u.email, u.tier
    order by requests desc, d.user_id
    limit ${input.limit}`,
  );
  return rows.map((r) => ({ userId: r.user_id, email: r.email, tier: r.tier, requests: r.requests, credits: r.credits, costUsd: r.cost_usd }));
}

/** A day's summary row (none when nothing happened yet), live: its rolled buckets and the ledger since them. */
export async function liveSummary(db: DbOrTx, day = today()) {
  const through = await rolledThrough(db, day);
  return queryRows(db, summaryRow, sql`select s.*, s.cost_usd::text as cost_usd from (${daySummaryFromRollup(day, through)}) s`);
}
