import type { Sql } from 'postgres';

/** Seeded users are m0000001…; nothing else in the bench database starts with "m". */
export const SEEDED = `user_id >= 'm' and user_id < 'n'`;

/**
 * `n` users with their credit rows and a first `allocation` entry each, set-based in SQL:
 * 60% free, 30% plus, 10% pro; part of this month's allowance spent; every 20th with a 5-credit grant.
 */
export async function seedUsers(sql: Sql, n: number): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`
      insert into users (user_id, email, tier)
      select 'm' || lpad(g::text, 7, '0'), null,
             case when g % 10 < 6 then 'free' when g % 10 < 9 then 'plus' else 'pro' end
      from generate_series(1, ${n}::int) g`;
    await tx`
      insert into user_credits (user_id, subscription_tier, monthly_allowance, current_balance, bonus_balance,
                                consumed_this_month, lifetime_consumed, last_reset_at)
      select u.user_id, u.tier, ta.monthly_credits,
             ta.monthly_credits - least(ta.monthly_credits, substr(u.user_id, 2)::int % 7),
             case when substr(u.user_id, 2)::int % 20 = 0 then 5 else 0 end,
             least(ta.monthly_credits, substr(u.user_id, 2)::int % 7),
             least(ta.monthly_credits, substr(u.user_id, 2)::int % 7),
             now()
      from users u join tier_allowances ta on ta.tier = u.tier
      where u.user_id >= 'm' and u.user_id < 'n'`;
    // A user's bonus is the sum of their grants (ADR 022): each bonus is a promotional grant, held
    // from before grants were tracked one by one (its opening credits), as the seed's entry says.
    await tx`
      insert into credit_grants (user_id, kind, credits, remaining, opening_credits, reason)
      select user_id, 'promotional', bonus_balance, bonus_balance, bonus_balance, 'bench seed'
      from user_credits where ${sql.unsafe(SEEDED)} and bonus_balance > 0`;
    await tx`
      insert into credit_transactions (user_id, transaction_type, credits_delta, balance_after, source, reason)
      select user_id, 'allocation', current_balance + bonus_balance, current_balance + bonus_balance, 'user_credits', 'bench seed'
      from user_credits where ${sql.unsafe(SEEDED)}`;
  });
  await sql`vacuum analyze users`;
  await sql`vacuum analyze user_credits`;
  await sql`vacuum analyze credit_transactions`;
}

/**
 * Makes every seeded user due (last reset in the previous month), then vacuums and checkpoints so
 * each timed run starts from the same table state, without the previous run's dead rows or dirty pages.
 */
export async function makeDue(sql: Sql): Promise<void> {
  await sql`
    update user_credits set last_reset_at = date_trunc('month', now(), 'UTC') - interval '1 day',
      consumed_this_month = substr(user_id, 2)::int % 7
    where ${sql.unsafe(SEEDED)}`;
  await sql`vacuum analyze user_credits`;
  await sql`checkpoint`;
}

/**
 * The set-based floor: the plain INSERT … SELECT of the allocation entries and the plain UPDATE of
 * the same due rows, in one transaction. Returns how many users it reset.
 */
export async function floorReset(sql: Sql): Promise<number> {
  return sql.begin(async (tx) => {
    await tx`
      insert into credit_transactions (user_id, transaction_type, credits_delta, balance_after, source, reason, created_at)
      select uc.user_id, 'allocation', ta.monthly_credits - uc.current_balance, ta.monthly_credits + uc.bonus_balance,
             'user_credits', 'monthly reset', now()
      from user_credits uc join tier_allowances ta on ta.tier = uc.subscription_tier
      where uc.last_reset_at < date_trunc('month', now(), 'UTC')`;
    const updated = await tx`
      update user_credits u set current_balance = ta.monthly_credits, monthly_allowance = ta.monthly_credits,
        consumed_this_month = 0, last_reset_at = now(), updated_at = now()
      from tier_allowances ta
      where ta.tier = u.subscription_tier and u.last_reset_at < date_trunc('month', now(), 'UTC')`;
    return updated.count;
  });
}
