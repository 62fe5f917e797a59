import { sql } from 'drizzle-orm';
import { periodStartSql } from './period';

/**
 * The monthly reset as one statement, for the set-based job (every due user) and the charge's slow
 * path (one user, `userId`). Each user whose last reset is before the month of `at` (now when absent)
 * gets the tier's current allowance as balance and one `allocation` entry for the difference; the
 * month's spent allowance and overflow counters start again from zero; bonus credits are untouched.
 * The guard on last_reset_at is re-read under the row lock (`for update`), so two callers in one month
 * reset a user once: the second finds nobody due. The user_credits trigger adds each reset's
 * credits.reset webhook event to this same statement (ADR 012). Returns one row: `n`, the users reset.
 */
export const monthlyResetSql = (opts: { userId?: string; at?: Date } = {}) => {
  const at = opts.at ? sql`${opts.at.toISOString()}::timestamptz` : sql`now()`;
  const oneUser = opts.userId === undefined ? sql`` : sql`uc.user_id = ${opts.userId} and `;
  return sql`
    with due as (
      select uc.user_id, uc.current_balance, ta.monthly_credits
      from user_credits uc join tier_allowances ta on ta.tier = uc.subscription_tier
      where ${oneUser}uc.last_reset_at < ${periodStartSql(opts.at)}
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
    select count(*)::int as n from upd`;
};
