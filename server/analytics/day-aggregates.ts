import { sql, type SQL } from 'drizzle-orm';

/**
 * The ledger entries that are requests, for days [from, to] in UTC: a consumption or a capture is
 * a successful request, a released or expired hold a failed one. Both the nightly summary and the
 * live figures for today are built from this one definition. `only` narrows it with a predicate on
 * `t`, `rows` replaces the table with a subquery of it (the live hub's newly visible rows).
 */
export const requestEntries = (from: string, to: string, only?: SQL, rows: SQL = sql`credit_transactions`): SQL => sql`
  select t.user_id, t.transaction_type, t.source, t.tier, t.provider, t.enhancement_type, t.credits_used,
         coalesce(t.cost_usd, 0) as cost_usd,
         (t.created_at at time zone 'UTC')::date as day,
         (t.transaction_type in ('consumption', 'capture')) as ok
  from ${rows} t
  where t.created_at >= (${from}::date)::timestamp at time zone 'UTC'
    and t.created_at < ((${to}::date) + 1)::timestamp at time zone 'UTC'
    and t.transaction_type in ('consumption', 'capture', 'release')
    ${only ? sql`and ${only}` : sql``}`;

/** Failed provider calls on days [from, to] (a failed attempt has no ledger entry): each a failed request of its provider. */
export const failedCalls = (from: string, to: string, only?: SQL): SQL => sql`
  select (c.created_at at time zone 'UTC')::date as day, c.provider
  from provider_calls c
  where c.outcome = 'failure'
    and c.created_at >= (${from}::date)::timestamp at time zone 'UTC'
    and c.created_at < ((${to}::date) + 1)::timestamp at time zone 'UTC'
    ${only ? sql`and ${only}` : sql``}`;

/** One row per day: the columns of daily_usage_summary. */
export const summaryRows = (from: string, to: string): SQL => sql`
  select e.day::text as day,
    count(*)::int as total_requests,
    count(*) filter (where e.ok)::int as successful_requests,
    count(*) filter (where not e.ok)::int as failed_requests,
    coalesce(sum(e.credits_used) filter (where e.ok), 0)::int as credits_consumed,
    coalesce(sum(e.credits_used) filter (where e.ok and e.source = 'user_credits'), 0)::int as allowance_credits,
    coalesce(sum(e.credits_used) filter (where e.ok and e.source = 'platform_pool'), 0)::int as platform_credits,
    coalesce(sum(e.cost_usd) filter (where e.ok), 0)::numeric(14,6) as cost_usd,
    count(*) filter (where e.ok and e.tier = 'free')::int as free_tier_usage,
    count(*) filter (where e.ok and e.tier = 'plus')::int as plus_tier_usage,
    count(*) filter (where e.ok and e.tier = 'pro')::int as pro_tier_usage,
    count(distinct e.user_id) filter (where e.ok)::int as active_users
  from (${requestEntries(from, to)}) e
  group by e.day`;

/**
 * One row per day, dimension and value. Provider requests count the captures each provider served
 * plus its failed attempts from provider_calls (a failed attempt has no ledger entry of its own).
 */
export const breakdownRows = (from: string, to: string): SQL => sql`
  with e as (${requestEntries(from, to)}),
  dims as (
    select day, 'tier' as dimension, coalesce(tier, 'unknown') as value, ok, credits_used, cost_usd from e
    union all select day, 'source', coalesce(source, 'unknown'), ok, credits_used, cost_usd from e
    union all select day, 'enhancementType', coalesce(enhancement_type, 'unknown'), ok, credits_used, cost_usd from e
    union all select day, 'provider', provider, ok, credits_used, cost_usd from e where transaction_type = 'capture' and provider is not null
    union all
    select c.day, 'provider', c.provider, false, 0, 0 from (${failedCalls(from, to)}) c
  )
  select day::text as day, dimension, value,
    count(*)::int as requests,
    count(*) filter (where ok)::int as successful_requests,
    count(*) filter (where not ok)::int as failed_requests,
    coalesce(sum(credits_used) filter (where ok), 0)::int as credits,
    coalesce(sum(cost_usd) filter (where ok), 0)::numeric(14,6) as cost_usd
  from dims group by day, dimension, value`;

export const userRows = (from: string, to: string): SQL => sql`
  select e.day::text as day, e.user_id,
    count(*)::int as requests,
    coalesce(sum(e.credits_used), 0)::int as credits,
    coalesce(sum(e.cost_usd), 0)::numeric(14,6) as cost_usd
  from (${requestEntries(from, to)}) e
  where e.ok
  group by e.day, e.user_id`;
