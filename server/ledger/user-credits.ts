import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { queryOne } from '../db/rows';
import { unknownUser } from './errors';
import { periodStartSql } from './period';

export type CreditRow = {
  user_id: string;
  subscription_tier: 'free' | 'plus' | 'pro';
  monthly_allowance: number;
  current_balance: number;
  bonus_balance: number;
  consumed_this_month: number;
  lifetime_consumed: number;
  last_reset_at: Date | string;
  allowance_spent_this_period: number;
  overflow_this_period: number;
  pool_access: boolean;
  monthly_overflow_cap: number | null;
  due_reset: boolean;
};

/**
 * Gives a user seen for the first time a user_credits row for their tier, with its `allocation`
 * entry, in one statement; does nothing when the row exists. Unknown users are refused.
 */
export async function ensureUserCredits(db: DbOrTx, userId: string): Promise<void> {
  const row = await queryOne<{ created: boolean; known: boolean }>(
    db,
    sql`
    with created as (
      insert into user_credits (user_id, subscription_tier, monthly_allowance, current_balance, last_reset_at)
      select u.user_id, u.tier, ta.monthly_credits, ta.monthly_credits, now()
      from users u join tier_allowances ta on ta.tier = u.tier
      where u.user_id = ${userId}
      on conflict (user_id) do nothing
      returning user_id, current_balance
    ), entry as (
      insert into credit_transactions (user_id, transaction_type, credits_delta, balance_after, source, reason)
      select user_id, 'allocation', current_balance, current_balance, 'user_credits', 'first allocation'
      from created
    )
    select exists (select 1 from created) as created, exists (select 1 from users where user_id = ${userId}) as known`,
  );
  if (!row?.known) throw unknownUser(userId);
}

/**
 * Resets one user's allowance when their last reset is before this month: the balance becomes the
 * tier's current allowance, with an `allocation` entry for the difference, and the month's spent
 * allowance and overflow start again from zero. Runs at most once a month
 * per user whoever calls it, since the row lock makes a second caller re-read the new reset time.
 * The user_credits trigger emits its credits.reset webhook event in this statement (ADR 012).
 */
export async function resetUserIfDue(db: DbOrTx, userId: string): Promise<boolean> {
  const row = await queryOne<{ n: number }>(
    db,
    sql`
    with old as (
      select uc.user_id, uc.current_balance, ta.monthly_credits
      from user_credits uc join tier_allowances ta on ta.tier = uc.subscription_tier
      where uc.user_id = ${userId} and uc.last_reset_at < ${periodStartSql()}
      for update of uc
    ), upd as (
      update user_credits u
      set current_balance = old.monthly_credits, monthly_allowance = old.monthly_credits,
          consumed_this_month = 0, allowance_spent_this_period = 0, overflow_this_period = 0,
          last_reset_at = now(), updated_at = now()
      from old where u.user_id = old.user_id
      returning u.user_id, old.monthly_credits - old.current_balance as delta, u.current_balance + u.bonus_balance as balance_after
    ), entry as (
      insert into credit_transactions (user_id, transaction_type, credits_delta, balance_after, source, reason)
      select user_id, 'allocation', delta, balance_after, 'user_credits', 'monthly reset' from upd
    )
    select count(*)::int as n from upd`,
  );
  return (row?.n ?? 0) > 0;
}

/** The user's credit row with their tier's pool access, locked for the caller's transaction. */
export async function lockCredits(db: DbOrTx, userId: string): Promise<CreditRow | undefined> {
  return queryOne<CreditRow>(
    db,
    sql`
    select uc.user_id, uc.subscription_tier, uc.monthly_allowance, uc.current_balance, uc.bonus_balance,
           uc.consumed_this_month, uc.lifetime_consumed, uc.last_reset_at, uc.allowance_spent_this_period,
           uc.overflow_this_period, ta.pool_access, ta.monthly_overflow_cap,
           uc.last_reset_at < ${periodStartSql()} as due_reset
    from user_credits uc join tier_allowances ta on ta.tier = uc.subscription_tier
    where uc.user_id = ${userId}
    for update of uc`,
  );
}
