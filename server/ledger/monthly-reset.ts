import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { queryOne } from '../db/rows';
import { periodStartSql } from './period';

/**
 * The monthly reset for every user in one statement: each user whose last reset is before the month
 * of `at` gets the tier's current allowance as balance, and one `allocation` entry for the difference.
 * The month's spent allowance and overflow counters start again from zero; bonus credits are untouched.
 * Each user reset gets its `credits.reset` webhook event from the user_credits trigger, in this same statement (ADR 012). A second run in the same month finds nobody due and changes nothing.
 */
export async function allocateMonthlyCredits(db: DbOrTx, opts: { at?: Date } = {}): Promise<{ usersReset: number }> {
  const at = opts.at ? sql`${opts.at.toISOString()}::timestamptz` : sql`now()`;
  const row = await queryOne<{ n: number }>(
    db,
    sql`
    with due as (
      select uc.user_id, uc.current_balance, ta.monthly_credits
      from user_credits uc join tier_allowances ta on ta.tier = uc.subscription_tier
      where uc.last_reset_at < ${periodStartSql(opts.at)}
      for update of uc
    ), upd as (
      update user_credits u
      set current_balance = due.monthly_credits, monthly_allowance = due.monthly_credits,
          consumed_this_month = 0, allowance_spent_this_period = 0, overflow_this_period = 0,
          last_reset_at = ${at}, updated_at = now()
      from due where u.user_id = due.user_id
      returning u.user_id, due.monthly_credits - due.current_balance as delta, u.current_balance + u.bonus_balance as balance_after
    ), entries as (
      insert into credit_transactions (user_id, transaction_type, credits_delta, balance_after, source, reason, created_at)
      select user_id, 'allocation', delta, balance_after, 'user_credits', 'monthly reset', ${at} from upd
    )
    select count(*)::int as n from upd`,
  );
  return { usersReset: Number(row?.n ?? 0) };
}
