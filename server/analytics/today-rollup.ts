import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/client';
import { col, queryOne } from '../db/rows';
import { addDays } from './days';
import { failedCalls, requestEntries } from './day-aggregates';

/**
 * Today's live figures without reading every row of today (ADR 023). Finished days come from the
 * daily tables; today came from the ledger, an index range over the whole day, which at 100M rows
 * (~270k a day) cost ~240 ms a read. Now each closed quarter-hour is rolled up once into
 * usage_rollup (rollUpToday, the `usage-rollup` job), and a read of today sums those rows plus the
 * ledger since the last rolled bucket: at most a bucket, the grace and the job's interval of rows.
 * Without the job, nothing is rolled and a read is the whole day from the ledger, as before: the
 * rollup changes how fast today is read, never what it says.
 */
export const ROLLUP_BUCKET_MINUTES = 15;
/**
 * A bucket is rolled this long after it ends. A ledger row's created_at is its transaction's start;
 * a transaction that commits later than this after starting is missing from today's live figures
 * (not from the ledger) until the nightly summary recounts its day from the ledger.
 */
export const ROLLUP_GRACE_SECONDS = 120;

const bucket = sql`make_interval(mins => ${ROLLUP_BUCKET_MINUTES})`;
const dayStart = (day: string) => sql`((${day}::date)::timestamp at time zone 'UTC')`;

/**
 * Rolls up every closed bucket of `day` not rolled yet, in one statement: the bucket rows are the
 * claim (a concurrent run waits on them, then rolls nothing twice). Drops buckets from before the
 * day before (the daily tables have those days). Returns the buckets rolled.
 */
export async function rollUpDay(db: DbOrTx, day: string): Promise<number> {
  const row = await queryOne(
    db,
    z.object({ rolled: col.integer }),
    sql`
    with due as (
      select b as bucket_start
      from generate_series(${dayStart(day)}, least(${dayStart(addDays(day, 1))}, now() - make_interval(secs => ${ROLLUP_GRACE_SECONDS})) - ${bucket}, ${bucket}) b
      where not exists (select 1 from usage_rollup_buckets r where r.bucket_start = b)
    ), marked as (
      insert into usage_rollup_buckets (bucket_start) select bucket_start from due on conflict do nothing returning bucket_start
    ), entries as (
      insert into usage_rollup (bucket_start, entry, source, tier, provider, enhancement_type, requests, credits, cost_usd)
      select m.bucket_start, e.transaction_type, e.source, e.tier, e.provider, e.enhancement_type, count(*), coalesce(sum(e.credits_used), 0), sum(e.cost_usd)
      from marked m
      cross join lateral (${requestEntries(day, day, sql`t.created_at >= m.bucket_start and t.created_at < m.bucket_start + ${bucket}`)}) e
      group by m.bucket_start, e.transaction_type, e.source, e.tier, e.provider, e.enhancement_type
      union all
      select m.bucket_start, 'provider_failure', null, null, c.provider, null, count(*), 0, 0
      from marked m
      cross join lateral (${failedCalls(day, day, sql`c.created_at >= m.bucket_start and c.created_at < m.bucket_start + ${bucket}`)}) c
      group by m.bucket_start, c.provider
    ), pruned as (
      delete from usage_rollup_buckets where bucket_start < ${dayStart(addDays(day, -1))}
    )
    select count(*)::int as rolled from marked`,
  );
  return row?.rolled ?? 0;
}

/**
 * `day`'s request entries grouped by (entry, source, tier, provider, enhancement_type) with their
 * requests, credits and cost: its rolled buckets, then the ledger and provider_calls from the end of
 * the last one. Rolled buckets are used only while they run unbroken from the day's start, so no
 * stretch of the day is ever counted twice or skipped. One statement: one snapshot.
 */
export const dayEntriesGrouped = (day: string): SQL => sql`
  with rolled as (
    select count(*) as n, min(bucket_start) as first, max(bucket_start) as last from usage_rollup_buckets
    where bucket_start >= ${dayStart(day)} and bucket_start < ${dayStart(addDays(day, 1))}
  ), w as (
    select case when n > 0 and first = ${dayStart(day)} and last = first + (n - 1) * ${bucket} then last + ${bucket} else ${dayStart(day)} end as through
    from rolled
  )
  select r.entry, r.source, r.tier, r.provider, r.enhancement_type, r.requests, r.credits, r.cost_usd
  from usage_rollup r
  where r.bucket_start >= ${dayStart(day)} and r.bucket_start < (select through from w)
  union all
  select e.transaction_type, e.source, e.tier, e.provider, e.enhancement_type, count(*)::int, coalesce(sum(e.credits_used), 0)::int, sum(e.cost_usd)
  from (${requestEntries(day, day, sql`t.created_at >= (select through from w)`)}) e
  group by e.transaction_type, e.source, e.tier, e.provider, e.enhancement_type
  union all
  select 'provider_failure', null, null, c.provider, null, count(*)::int, 0, 0
  from (${failedCalls(day, day, sql`c.created_at >= (select through from w)`)}) c
  group by c.provider`;

const ok = sql`g.entry in ('consumption', 'capture')`;

/** `day`'s row of the summary's columns but active_users (a distinct count no rollup can sum), or none when nothing happened. */
export const daySummaryFromRollup = (day: string): SQL => sql`
  select ${day}::text as day,
    sum(g.requests)::int as total_requests,
    coalesce(sum(g.requests) filter (where ${ok}), 0)::int as successful_requests,
    coalesce(sum(g.requests) filter (where not ${ok}), 0)::int as failed_requests,
    coalesce(sum(g.credits) filter (where ${ok}), 0)::int as credits_consumed,
    coalesce(sum(g.credits) filter (where ${ok} and g.source = 'user_credits'), 0)::int as allowance_credits,
    coalesce(sum(g.credits) filter (where ${ok} and g.source = 'platform_pool'), 0)::int as platform_credits,
    coalesce(sum(g.cost_usd) filter (where ${ok}), 0)::numeric(14,6) as cost_usd,
    coalesce(sum(g.requests) filter (where ${ok} and g.tier = 'free'), 0)::int as free_tier_usage,
    coalesce(sum(g.requests) filter (where ${ok} and g.tier = 'plus'), 0)::int as plus_tier_usage,
    coalesce(sum(g.requests) filter (where ${ok} and g.tier = 'pro'), 0)::int as pro_tier_usage
  from (${dayEntriesGrouped(day)}) g
  where g.entry <> 'provider_failure'
  group by 1`;

/** `day`'s rows of daily_usage_breakdown's columns (breakdownRows' definition), from the rollup. */
export const dayBreakdownFromRollup = (day: string): SQL => sql`
  with g as (${dayEntriesGrouped(day)}),
  dims as (
    select 'tier' as dimension, coalesce(tier, 'unknown') as value, entry, requests, credits, cost_usd from g where entry <> 'provider_failure'
    union all select 'source', coalesce(source, 'unknown'), entry, requests, credits, cost_usd from g where entry <> 'provider_failure'
    union all select 'enhancementType', coalesce(enhancement_type, 'unknown'), entry, requests, credits, cost_usd from g where entry <> 'provider_failure'
    union all select 'provider', provider, entry, requests, credits, cost_usd from g where entry in ('capture', 'provider_failure') and provider is not null
  )
  select ${day}::text as day, g.dimension, g.value,
    sum(g.requests)::int as requests,
    coalesce(sum(g.requests) filter (where ${ok}), 0)::int as successful_requests,
    coalesce(sum(g.requests) filter (where not ${ok}), 0)::int as failed_requests,
    coalesce(sum(g.credits) filter (where ${ok}), 0)::int as credits,
    coalesce(sum(g.cost_usd) filter (where ${ok}), 0)::numeric(14,6) as cost_usd
  from dims g group by g.dimension, g.value`;
