import { sql } from 'drizzle-orm';
import { ALLOWANCE_PRIORITY } from './grant-order-sql';
import { LEDGER_TIME_ZONE, periodStartSql } from './period';

/**
 * The monthly reset as one statement, for the set-based job (every due user) and the charge's slow
 * path (one user, `userId`). Each user whose last reset is before the month of `at` (now when absent)
 * gets the tier's current allowance as balance and one `allocation` entry for the difference; the
 * month's spent allowance and overflow counters start again from zero; grants are untouched. A tier
 * with a rollover cap carries the unused allowance, up to the cap, into a rollover grant that lasts
 * its rollover months and counts as older than the new allowance (ADR 022).
 * The guard on last_reset_at is re-read under the row lock (`for update`), so two callers in one month
 * reset a user once: the second finds nobody due. The user_credits trigger adds each reset's
 * credits.reset webhook event to this same statement (ADR 012). Returns one row: `n`, the users reset.
 */
export const monthlyResetSql = (opts: { userId?: string; at?: Date } = {}) => {
  const at = opts.at ? sql`${opts.at.toISOString()}::timestamptz` : sql`now()`;
  const oneUser = opts.userId === undefined ? sql`` : sql`uc.user_id = ${opts.userId} and `;
  const periodStart = periodStartSql(opts.at);
  return sql`
    with due as (
      select uc.user_id, uc.current_balance, uc.last_reset_at, ta.monthly_credits, ta.rollover_months,
             least(uc.current_balance, ta.rollover_cap) as rollover
      from user_credits uc join tier_allowances ta on ta.tier = uc.subscription_tier
      where ${oneUser}uc.last_reset_at < ${periodStart}
      for update of uc
    ), rolled as (
      insert into credit_grants (user_id, kind, priority, credits, remaining, expires_at, reason, created_at)
      select user_id, 'rollover', ${ALLOWANCE_PRIORITY}::int, rollover, rollover,
             ((${periodStart} at time zone ${LEDGER_TIME_ZONE}) + make_interval(months => rollover_months)) at time zone ${LEDGER_TIME_ZONE},
             'unused allowance carried over at the monthly reset', last_reset_at
      from due where rollover > 0
      returning id, user_id, credits
    ), upd as (
      update user_credits u
      set current_balance = due.monthly_credits, monthly_allowance = due.monthly_credits,
          bonus_balance = u.bonus_balance + greatest(due.rollover, 0),
          consumed_this_month = 0, allowance_spent_this_period = 0, overflow_this_period = 0,
          last_reset_at = ${at}, updated_at = now()
      from due where u.user_id = due.user_id
      returning u.user_id, due.monthly_credits - due.current_balance + greatest(due.rollover, 0) as delta, u.current_balance + u.bonus_balance as balance_after
    ), entries as (
      insert into credit_transactions (user_id, transaction_type, credits_delta, bonus_credits, grant_draws, balance_after, source, reason, created_at)
      select upd.user_id, 'allocation', upd.delta, coalesce(r.credits, 0),
             case when r.id is null then null else jsonb_build_array(jsonb_build_array(r.id, r.credits)) end,
             upd.balance_after, 'user_credits', case when r.id is null then 'monthly reset' else 'monthly reset, ' || r.credits || ' carried over' end, ${at}
      from upd left join rolled r on r.user_id = upd.user_id
    )
    select count(*)::int as n from upd`;
};
