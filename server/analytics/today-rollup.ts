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
 * usage_rollup (rollUpDay, the `usage-rollup` job), and a read of today sums those rows plus the
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
 * Request entries (`e`: requestEntries' columns, grouped by `key`) and failed calls (`c`: grouped
 * by `key` and provider) in daily_usage_breakdown's shape, as breakdownRows defines it: each
 * request under its tier, source and enhancement type, a capture under its provider, a failed
 * call as its provider's failed request. Columns: the key's, dimension, value, ok, requests,
 * credits, cost_usd.
 */
const asDimensions = (key: SQL, entries: SQL, calls: SQL): SQL => sql`
  with g as (
    select ${key} as key, e.transaction_type, e.source, e.tier, e.provider, e.enhancement_type, e.ok,
      count(*) as requests, coalesce(sum(e.credits_used), 0) as credits, coalesce(sum(e.cost_usd), 0) as cost_usd
    from ${entries}
    group by 1, e.transaction_type, e.source, e.tier, e.provider, e.enhancement_type, e.ok
  ), d as (
    select key, 'tier' as dimension, coalesce(tier, 'unknown') as value, ok, requests, credits, cost_usd from g
    union all select key, 'source', coalesce(source, 'unknown'), ok, requests, credits, cost_usd from g
    union all select key, 'enhancementType', coalesce(enhancement_type, 'unknown'), ok, requests, credits, cost_usd from g
    union all select key, 'provider', provider, ok, requests, credits, cost_usd from g where transaction_type = 'capture' and provider is not null
    union all select ${key}, 'provider', c.provider, false, count(*), 0, 0 from ${calls} group by 1, c.provider
  )
  select key, dimension, value, ok, sum(requests)::int as requests, sum(credits)::int as credits, sum(cost_usd)::numeric(14,6) as cost_usd
  from d group by key, dimension, value, ok`;

/**
 * Rolls up every closed bucket of `day` not rolled yet, in one statement: the bucket rows are the
 * claim (a concurrent run waits on them, then rolls nothing twice). Drops buckets from before the
 * day before (the daily tables have those days). Returns the buckets rolled.
 */
export async function rollUpDay(db: DbOrTx, day: string): Promise<number> {
  const inBucket = (t: string) => sql`${sql.raw(t)}.created_at >= m.bucket_start and ${sql.raw(t)}.created_at < m.bucket_start + ${bucket}`;
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
    ), rolled as (
      insert into usage_rollup (bucket_start, dimension, value, ok, requests, credits, cost_usd)
      select key, dimension, value, ok, requests, credits, cost_usd
      from (${asDimensions(
        sql`m.bucket_start`,
        sql`marked m cross join lateral (${requestEntries(day, day, inBucket('t'))}) e`,
        sql`marked m cross join lateral (${failedCalls(day, day, inBucket('c'))}) c`,
      )}) x
    ), pruned as (
      delete from usage_rollup_buckets where bucket_start < ${dayStart(addDays(day, -1))}
    )
    select count(*)::int as rolled from marked`,
  );
  return row?.rolled ?? 0;
}

/**
 * Where `day`'s rolled buckets end: the end of the last one while they run unbroken from the day's
 * start, else the day's start (a gap is read from the ledger, never counted twice or skipped). Read
 * on its own, before the figures, so the ledger read after it is planned for the minutes it really
 * spans: inside one statement the planner took the range for most of a day and sent it to parallel
 * workers (35 ms of the 50 at 100M rows). A bucket's rows never change once rolled, so the two
 * statements agree whatever the job does in between.
 */
export async function rolledThrough(db: DbOrTx, day: string): Promise<string> {
  const row = await queryOne(
    db,
    z.object({ through: col.text }),
    sql`
    with rolled as (
      select count(*) as n, min(bucket_start) as first, max(bucket_start) as last from usage_rollup_buckets
      where bucket_start >= ${dayStart(day)} and bucket_start < ${dayStart(addDays(day, 1))}
    )
    select (case when n > 0 and first = ${dayStart(day)} and last = first + (n - 1) * ${bucket} then last + ${bucket} else ${dayStart(day)} end)::text as through
    from rolled`,
  );
  return row!.through;
}

/**
 * `day` in daily_usage_breakdown's shape (dimension, value, ok, requests, credits, cost_usd): its
 * buckets rolled before `through` (rolledThrough), then the ledger and provider_calls from there.
 */
const dayDimensions = (day: string, through: string): SQL => sql`
  select r.dimension, r.value, r.ok, r.requests, r.credits, r.cost_usd
  from usage_rollup r
  where r.bucket_start >= ${dayStart(day)} and r.bucket_start < ${through}::timestamptz
  union all
  select dimension, value, ok, requests, credits, cost_usd
  from (${asDimensions(
    sql`1`,
    sql`(${requestEntries(day, day, sql`t.created_at >= ${through}::timestamptz`)}) e`,
    sql`(${failedCalls(day, day, sql`c.created_at >= ${through}::timestamptz`)}) c`,
  )}) tail`;

/** `day`'s row of the summary's columns (rolled through `through`) but active_users (a distinct count no rollup can sum), or none when nothing happened. */
export const daySummaryFromRollup = (day: string, through: string): SQL => {
  // Every request is under exactly one source: the totals are the source rows'.
  const src = (extra = sql`true`) => sql`g.dimension = 'source' and ${extra}`;
  const tier = (t: string) => sql`g.dimension = 'tier' and g.ok and g.value = ${t}`;
  return sql`
  select ${day}::text as day,
    coalesce(sum(g.requests) filter (where ${src()}), 0)::int as total_requests,
    coalesce(sum(g.requests) filter (where ${src(sql`g.ok`)}), 0)::int as successful_requests,
    coalesce(sum(g.requests) filter (where ${src(sql`not g.ok`)}), 0)::int as failed_requests,
    coalesce(sum(g.credits) filter (where ${src(sql`g.ok`)}), 0)::int as credits_consumed,
    coalesce(sum(g.credits) filter (where ${src(sql`g.ok and g.value = 'user_credits'`)}), 0)::int as allowance_credits,
    coalesce(sum(g.credits) filter (where ${src(sql`g.ok and g.value = 'platform_pool'`)}), 0)::int as platform_credits,
    coalesce(sum(g.cost_usd) filter (where ${src(sql`g.ok`)}), 0)::numeric(14,6) as cost_usd,
    coalesce(sum(g.requests) filter (where ${tier('free')}), 0)::int as free_tier_usage,
    coalesce(sum(g.requests) filter (where ${tier('plus')}), 0)::int as plus_tier_usage,
    coalesce(sum(g.requests) filter (where ${tier('pro')}), 0)::int as pro_tier_usage
  from (${dayDimensions(day, through)}) g
  where g.dimension in ('source', 'tier')
  group by 1`;
};

/** `day`'s rows of daily_usage_breakdown's columns (breakdownRows' definition), rolled through `through`. */
export const dayBreakdownFromRollup = (day: string, through: string): SQL => sql`
  select ${day}::text as day, g.dimension, g.value,
    sum(g.requests)::int as requests,
    coalesce(sum(g.requests) filter (where g.ok), 0)::int as successful_requests,
    coalesce(sum(g.requests) filter (where not g.ok), 0)::int as failed_requests,
    coalesce(sum(g.credits) filter (where g.ok), 0)::int as credits,
    coalesce(sum(g.cost_usd) filter (where g.ok), 0)::numeric(14,6) as cost_usd
  from (${dayDimensions(day, through)}) g group by g.dimension, g.value`;
