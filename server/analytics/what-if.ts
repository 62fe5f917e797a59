import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { col, queryRows } from '../db/rows';
import { z } from 'zod';
import { addDays, today } from './days';

type TierRule = { monthlyCredits: number; poolAccess: boolean };
export type WhatIfInput = { tiers: Record<'free' | 'plus' | 'pro', TierRule>; days: number };

/**
 * Replays the last `days` of real charged requests under other tier allowances. Within each
 * calendar month a user's requests are numbered in order (usage earlier in the month counts too);
 * past the new allowance a request overflows to the platform with pool access, or is refused
 * without. A refused request would not have reached a provider, so its cost is saved.
 * Refusals that really happened are not in the ledger, so the actual side shows none.
 */
export async function whatIf(db: DbOrTx, input: WhatIfInput) {
  const to = today();
  const from = addDays(to, -(input.days - 1));
  const t = input.tiers;
  const all = await queryRows(
    db,
    z.object({
      tier: col.textOrNull,
      requests: col.integer,
      allowance: col.integer,
      overflow: col.integer,
      refused: col.integer,
      actual_overflow: col.integer,
      actual_allowance: col.integer,
      refused_cost: col.decimal,
    }),
    sql`
    with e as (
      select t.user_id, coalesce(t.tier, 'free') as tier, t.source, t.credits_used, t.created_at, t.id, coalesce(t.cost_usd, 0) as cost,
             t.created_at >= (${from}::date)::timestamp at time zone 'UTC' as in_window
      from credit_transactions t
      where t.transaction_type in ('consumption', 'capture')
        and t.created_at >= date_trunc('month', (${from}::date)::timestamp at time zone 'UTC', 'UTC')
    ), numbered as (
      select e.*, sum(credits_used) over (partition by user_id, date_trunc('month', created_at, 'UTC') order by created_at, id) as used
      from e
    ), rules as (
      select * from (values ('free', ${t.free.monthlyCredits}::int, ${t.free.poolAccess}::boolean),
                            ('plus', ${t.plus.monthlyCredits}::int, ${t.plus.poolAccess}::boolean),
                            ('pro', ${t.pro.monthlyCredits}::int, ${t.pro.poolAccess}::boolean)) r(tier, credits, pool)
    )
    select n.tier, count(*)::int as requests,
      count(*) filter (where n.used <= r.credits)::int as allowance,
      count(*) filter (where n.used > r.credits and r.pool)::int as overflow,
      count(*) filter (where n.used > r.credits and not r.pool)::int as refused,
      count(*) filter (where n.source = 'platform_pool')::int as actual_overflow,
      count(*) filter (where n.source = 'user_credits')::int as actual_allowance,
      coalesce(sum(n.cost) filter (where n.used > r.credits and not r.pool), 0)::numeric(14,6)::text as refused_cost
    from numbered n join rules r on r.tier = n.tier
    where n.in_window
    group by grouping sets ((n.tier), ()) order by n.tier nulls last`,
  );
  // The grouping set () is the total row (tier null): money is summed in SQL, never in JavaScript.
  const total = all.find((r) => r.tier === null);
  const rows = all.filter((r) => r.tier !== null);
  const sum = (k: 'requests' | 'allowance' | 'overflow' | 'refused' | 'actual_overflow' | 'actual_allowance') => rows.reduce((s, r) => s + r[k], 0);
  return {
    from,
    to,
    requests: sum('requests'),
    actual: { allowance: sum('actual_allowance'), overflow: sum('actual_overflow'), refused: 0 },
    scenario: { allowance: sum('allowance'), overflow: sum('overflow'), refused: sum('refused') },
    costDifferenceUsd: total && total.refused_cost !== '0.000000' ? `-${total.refused_cost}` : '0.000000',
    byTier: rows.map((r) => ({ tier: r.tier!, requests: r.requests, overflow: r.overflow, refused: r.refused, actualOverflow: r.actual_overflow })),
  };
}
