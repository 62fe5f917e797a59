import type { Sql } from 'postgres';
import { withoutIndexes } from '../lib/bulk-load';

/**
 * `n` users a0000001… set-based in SQL, all reset at the start of this month (UTC):
 * tiers 60% free, 30% plus, 10% pro (allowance 0 / 10 / 25);
 * - heavy (every 47th user): 30 enhancements over the last 15 days, the latest 2 hours ago, paid
 *   from a 30-credit grant; consumed_this_month 30;
 * - idle (every 7th user from 1, and any other with nothing consumed): no consumption this month;
 * - the rest: 0–5 consumptions this month from their allowance;
 * - a third of all users: 2 older consumptions 40–60 days ago (outside every window), so the
 *   ledger has history the windows must skip.
 * Each user's balance equals the sum of their entries.
 */
export async function seedAllocationUsers(sql: Sql, n: number): Promise<void> {
  await sql`
    insert into users (user_id, email, tier)
    select 'a' || lpad(g::text, 7, '0'), null,
           case when g % 10 < 6 then 'free' when g % 10 < 9 then 'plus' else 'pro' end
    from generate_series(1, ${n}::int) g`;
  // k = consumptions this month for a normal user; heavy users pay 30 from a grant, allowance left as bonus-free balance 0.
  await sql`
    insert into user_credits (user_id, subscription_tier, monthly_allowance, current_balance, bonus_balance,
                              consumed_this_month, lifetime_consumed, last_reset_at)
    select u.user_id, u.tier, a.credits,
           case when s.heavy then 0 else a.credits - s.k end,
           case when s.heavy then a.credits else 0 end,
           case when s.heavy then 30 else s.k end,
           case when s.heavy then 30 else s.k end,
           date_trunc('month', now(), 'UTC') + interval '1 minute'
    from users u
    cross join lateral (select substr(u.user_id, 2)::int as g) x
    cross join lateral (select case u.tier when 'free' then 0 when 'plus' then 10 else 25 end as credits) a
    cross join lateral (select x.g % 47 = 0 as heavy,
                               case when x.g % 7 = 1 then 0 else least(a.credits, x.g % 6) end as k) s
    where u.user_id >= 'a' and u.user_id < 'b'`;
  await withoutIndexes(sql, 'credit_transactions', async () => {
    const reset = sql`date_trunc('month', now(), 'UTC') + interval '1 minute'`;
    // This month's allocation for everyone.
    await sql`
      insert into credit_transactions (user_id, transaction_type, credits_delta, balance_after, source, tier, reason, created_at)
      select user_id, 'allocation', monthly_allowance, monthly_allowance, 'user_credits', subscription_tier, 'bench seed', ${reset}
      from user_credits where user_id >= 'a' and user_id < 'b'`;
    // Heavy users: a 30-credit grant, then 30 consumptions of it over the last 15 days.
    await sql`
      insert into credit_transactions (user_id, transaction_type, credits_delta, balance_after, source, tier, reason, created_at)
      select user_id, 'grant', 30, monthly_allowance + 30, 'user_credits', subscription_tier, 'bench seed', now() - interval '15 days 1 hour'
      from user_credits where user_id >= 'a' and user_id < 'b' and substr(user_id, 2)::int % 47 = 0`;
    await sql`
      insert into credit_transactions (user_id, transaction_type, credits_used, credits_delta, bonus_credits, balance_after, source, tier,
                                       cost_usd, enhancement_type, created_at)
      select uc.user_id, 'consumption', 1, -1, 1, uc.monthly_allowance + 30 - i, 'user_credits', uc.subscription_tier, 0, 'upscale',
             now() - interval '2 hours' - (30 - i) * interval '12 hours'
      from user_credits uc cross join generate_series(1, 30) i
      where uc.user_id >= 'a' and uc.user_id < 'b' and substr(uc.user_id, 2)::int % 47 = 0`;
    // Normal users: their k consumptions this month, spread between the reset and now.
    await sql`
      insert into credit_transactions (user_id, transaction_type, credits_used, credits_delta, balance_after, source, tier,
                                       cost_usd, enhancement_type, created_at)
      select uc.user_id, 'consumption', 1, -1, uc.monthly_allowance - i, 'user_credits', uc.subscription_tier, 0, 'lighting',
             date_trunc('month', now(), 'UTC') + interval '1 minute' + (now() - date_trunc('month', now(), 'UTC')) * i / 7
      from user_credits uc cross join lateral generate_series(1, uc.consumed_this_month) i
      where uc.user_id >= 'a' and uc.user_id < 'b' and substr(uc.user_id, 2)::int % 47 <> 0`;
    // History: two overflow consumptions (no balance effect) 40–60 days ago for a third of the users.
    await sql`
      insert into credit_transactions (user_id, transaction_type, credits_used, credits_delta, balance_after, source, tier,
                                       cost_usd, enhancement_type, created_at)
      select user_id, 'consumption', 1, 0, 0, 'platform_pool', subscription_tier, 0, 'color',
             now() - interval '40 days' - (i * 10 + substr(user_id, 2)::int % 10) * interval '1 day'
      from user_credits cross join generate_series(0, 1) i
      where user_id >= 'a' and user_id < 'b' and substr(user_id, 2)::int % 3 = 0`;
  });
  await sql`vacuum analyze users`;
  await sql`vacuum analyze user_credits`;
  await sql`vacuum analyze credit_transactions`;
}

/** What optimizeAllocation must find: heavy free and plus users, and idle users with an allowance. */
export async function expectedAllocation(sql: Sql): Promise<{ heavy: number; idle: number; credits: number }> {
  const [row] = await sql<{ heavy: number; idle: number; credits: string }[]>`
    select count(*) filter (where substr(user_id, 2)::int % 47 = 0 and subscription_tier in ('free', 'plus'))::int as heavy,
           count(*) filter (where consumed_this_month = 0 and current_balance > 0)::int as idle,
           coalesce(sum(current_balance) filter (where consumed_this_month = 0 and current_balance > 0), 0)::text as credits
    from user_credits where user_id >= 'a' and user_id < 'b'`;
  return { heavy: row!.heavy, idle: row!.idle, credits: Number(row!.credits) };
}

/**
 * Undoes a run: the idle users get back what was moved, the reallocation entries and the upgrade
 * suggestions go, the pool is emptied again; then vacuum and a checkpoint, so each timed run starts
 * from the same table state.
 */
export async function undoAllocation(sql: Sql, pool: string): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`
      update user_credits u set current_balance = u.current_balance + t.credits_used
      from credit_transactions t where t.transaction_type = 'reallocation' and t.user_id = u.user_id`;
    await tx`delete from credit_transactions where transaction_type = 'reallocation'`;
    await tx`delete from user_notifications where type = 'upgrade_suggestion'`;
    await tx`delete from credit_pool_transactions where provider = ${pool} and transaction_type = 'reallocation'`;
    await tx`update credit_pool_stripes set balance = 0 where provider = ${pool}`;
  });
  await sql`vacuum analyze user_credits`;
  await sql`vacuum analyze credit_transactions`;
  await sql`vacuum analyze user_notifications`;
  await sql`checkpoint`;
}
