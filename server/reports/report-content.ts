import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { ReportContent, ReportFigures, ReportKind } from '../../shared/reports';
import { backfillDailySummaries } from '../analytics/daily-summary';
import { addDays } from '../analytics/days';
import { forecast } from '../analytics/forecast';
import { monthBudget } from '../analytics/month-budget';
import { topUsers, usageTrend } from '../analytics/trends';
import type { DbOrTx } from '../db/client';
import { col, queryOne, queryRows } from '../db/rows';
import { callStatsFor, successRate } from '../providers/call-stats';
import { previousPeriod, type ReportPeriod } from './report-period';

const TOP_USERS = 5;
/** The chart's span: a weekly report's week and the week before; a daily report's fortnight. */
const CHART_DAYS = 14;
const dayStart = (day: string) => sql`(${day}::date)::timestamp at time zone 'UTC'`;
const dayAfter = (day: string) => sql`((${day}::date) + 1)::timestamp at time zone 'UTC'`;

/** Decimal USD strings added in integer micro-dollars (money is never a float). */
export function sumUsd(values: string[]): string {
  const micros = values.reduce((s, v) => {
    const [whole = '0', frac = ''] = v.split('.');
    const sign = whole.startsWith('-') ? -1n : 1n;
    return s + sign * (BigInt(whole.replace('-', '')) * 1_000_000n + BigInt((frac + '000000').slice(0, 6)));
  }, 0n);
  const abs = micros < 0n ? -micros : micros;
  return `${micros < 0n ? '-' : ''}${abs / 1_000_000n}.${String(abs % 1_000_000n).padStart(6, '0')}`;
}

const providerCallsRow = z.object({ provider: col.text, calls: col.integer, successes: col.integer, p95: col.integerOrNull });
const alertCountsRow = z.object({ opened: col.integer, resolved: col.integer });

/** One period's figures, from the analytics functions every page uses (daily tables, today live). */
async function figures(db: DbOrTx, p: ReportPeriod): Promise<ReportFigures> {
  const trend = await usageTrend(db, { from: p.from, to: p.to, split: 'provider' });
  const sum = (f: (pt: (typeof trend.points)[number]) => number) => trend.points.reduce((s, pt) => s + f(pt), 0);
  const credits = sum((pt) => pt.creditsConsumed);
  const overflowCredits = sum((pt) => pt.platformCredits);
  const calls = await queryRows(
    db,
    providerCallsRow,
    sql`select a.name as provider, c.calls, c.successes, c.p95 from api_providers a
        cross join lateral (${callStatsFor(sql`a.name`, dayStart(p.from), dayAfter(p.to))}) c
        where a.is_active or c.calls > 0 order by a.priority, a.name`,
  );
  const providers = calls.map((c) => ({
    provider: c.provider,
    calls: c.calls,
    failures: c.calls - c.successes,
    successRate: successRate(c.successes, c.calls),
    p95Ms: c.p95,
    costUsd: sumUsd(trend.points.map((pt) => pt.split[c.provider]?.costUsd ?? '0')),
  }));
  const worst = [...providers].sort((a, b) => b.failures - a.failures || a.provider.localeCompare(b.provider))[0];
  const alerts = await queryOne(
    db,
    alertCountsRow,
    sql`select (select count(*) from system_alerts where created_at >= ${dayStart(p.from)} and created_at < ${dayAfter(p.to)})::int as opened,
               (select count(*) from system_alerts where resolved_at >= ${dayStart(p.from)} and resolved_at < ${dayAfter(p.to)})::int as resolved`,
  );
  return {
    requests: sum((pt) => pt.totalRequests),
    successfulRequests: sum((pt) => pt.successfulRequests),
    credits,
    overflowCredits,
    overflowShare: credits > 0 ? Math.round((overflowCredits / credits) * 10_000) / 10_000 : null,
    costUsd: sumUsd(trend.points.map((pt) => pt.costUsd)),
    providers,
    mostFailing: worst && worst.failures > 0 ? { provider: worst.provider, failures: worst.failures } : null,
    topUsers: (await topUsers(db, { from: p.from, to: p.to, limit: TOP_USERS })).map((u) => ({ userId: u.userId, email: u.email, requests: u.requests, credits: u.credits })),
    alertsOpened: alerts!.opened,
    alertsResolved: alerts!.resolved,
  };
}

/**
 * A report's content: the period's figures (the weekly one with the week before, for the trend),
 * the month's provider cost against the budget and each pool's days left, as of now.
 */
export async function buildReport(db: DbOrTx, kind: ReportKind, period: ReportPeriod): Promise<ReportContent> {
  // Finished days are read from the daily tables: a day the summary job missed is summarised first.
  await backfillDailySummaries(db);
  const [current, previous, budget, outlook, chart] = await Promise.all([
    figures(db, period),
    kind === 'weekly' ? figures(db, previousPeriod(period)) : Promise.resolve(null),
    monthBudget(db),
    forecast(db),
    usageTrend(db, { from: addDays(period.to, 1 - CHART_DAYS), to: period.to, split: 'none' }),
  ]);
  return {
    kind,
    from: period.from,
    to: period.to,
    figures: current,
    previous,
    budget: {
      configured: budget.configured,
      budgetUsd: budget.budgetUsd,
      providerCostMonthToDateUsd: budget.providerCostMonthToDateUsd,
      providerCostProjectedUsd: budget.providerCostProjectedUsd,
      overBudget: budget.overBudget,
    },
    pools: outlook.pools.map((pool) => ({ provider: pool.provider, balance: pool.balance, daysUntilEmpty: pool.daysUntilEmpty })),
    days: chart.points.map((pt) => ({ day: pt.day, credits: pt.creditsConsumed, overflowCredits: pt.platformCredits })),
  };
}
