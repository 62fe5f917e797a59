import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { z } from 'zod';
import { col, countRow, queryOne } from '../db/rows';
import { tierSchema } from '../../shared/enums';
import { unknownUser } from './errors';
import { periodStartSql } from './period';
import { monthlyResetSql } from './reset-sql';

const creditRow = z.object({
  user_id: col.text,
  subscription_tier: tierSchema,
  monthly_allowance: col.integer,
  current_balance: col.integer,
  bonus_balance: col.integer,
  consumed_this_month: col.integer,
  lifetime_consumed: col.integer,
  last_reset_at: col.time,
  allowance_spent_this_period: col.integer,
  overflow_this_period: col.integer,
  pool_access: col.bool,
  monthly_overflow_cap: col.integerOrNull,
  due_reset: col.bool,
});
export type CreditRow = z.output<typeof creditRow>;

/**
 * Gives a user seen for the first time a user_credits row for their tier, with its `allocation`
 * entry, in one statement; does nothing when the row exists. Unknown users are refused.
 */
export async function ensureUserCredits(db: DbOrTx, userId: string): Promise<void> {
  const row = await queryOne(
    db,
    z.object({ created: col.bool, known: col.bool }),
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
  const row = await queryOne(db, countRow, monthlyResetSql({ userId }));
  return (row?.n ?? 0) > 0;
}

/** The user's credit row with their tier's pool access, locked for the caller's transaction. */
export async function lockCredits(db: DbOrTx, userId: string): Promise<CreditRow | undefined> {
  return queryOne(
    db,
    creditRow,
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
