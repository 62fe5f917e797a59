import { sql } from 'drizzle-orm';
import type { CreditSource } from '../../shared/credits';
import type { DbOrTx } from '../db/client';
import { z } from 'zod';
import { col, queryOne } from '../db/rows';
import { assertPlatformCanPay } from '../pools/overflow-gate';
import { insufficientCredits, overflowLimitReached } from './errors';
import { allowanceDebitSql, chargeRow, overflowCountersSql } from './charge-sql';
import { ensureUserCredits, lockCredits, resetUserIfDue } from './user-credits';

const balanceAfterRow = z.object({ balance_after: col.integer });

export type Debit = { source: CreditSource; balanceAfter: number; bonusUsed: number; tier: string };

/** Decides whether the platform may pay an overflow, refusing with PLATFORM_CREDITS_DEPLETED. */
export type OverflowGate = (db: DbOrTx, credits: number) => Promise<void>;

/**
 * Charges `credits` to the user inside the caller's transaction: the allowance first, then the
 * bonus bucket; when both cannot cover it, a tier with pool access overflows to the platform pool
 * (the user pays nothing) up to its monthly overflow cap, and a tier without is refused. The common case is one conditional UPDATE;
 * a first-seen user, a due monthly reset or an overflow take the slower path under the row lock.
 * A balance crossing below 20% or to 0 gets its webhook event from the user_credits trigger (ADR 012).
 */
export async function debitUser(db: DbOrTx, userId: string, credits: number, overflowGate: OverflowGate = assertPlatformCanPay): Promise<Debit> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await queryOne(db, chargeRow, allowanceDebitSql(userId, credits));
    if (row) return { source: 'user_credits', balanceAfter: row.balance_after, bonusUsed: row.bonus_used, tier: row.tier };

    const state = await lockCredits(db, userId);
    if (!state) {
      await ensureUserCredits(db, userId);
      continue;
    }
    if (state.due_reset) {
      await resetUserIfDue(db, userId);
      continue;
    }
    if (state.current_balance + state.bonus_balance >= credits) continue;
    if (!state.pool_access) throw insufficientCredits();
    // The row is locked: checking the month's overflow against the cap and adding to it cannot race.
    const cap = state.monthly_overflow_cap;
    if (cap !== null && state.overflow_this_period + credits > cap) throw overflowLimitReached(state.subscription_tier, cap);
    await overflowGate(db, credits);
    const over = await queryOne(db, balanceAfterRow, sql`update user_credits set ${overflowCountersSql(credits)} where user_id = ${userId} returning current_balance + bonus_balance as balance_after`);
    return { source: 'platform_pool', balanceAfter: over!.balance_after, bonusUsed: 0, tier: state.subscription_tier };
  }
  throw new Error(`charging ${userId} did not settle after three attempts`);
}

/**
 * Gives back what a debit took (a release, a refund): the bonus part to the bonus bucket, the rest
 * to the allowance; usage counters go down with it. An overflow charged since the user's last reset
 * gives its overflow back (one from before it was never counted this month). Returns the balance after.
 */
export async function creditBack(db: DbOrTx, userId: string, debit: { source: CreditSource; credits: number; bonusUsed: number; chargedAt: Date }): Promise<number> {
  const paid = debit.source === 'user_credits' ? debit.credits : 0;
  const bonus = debit.source === 'user_credits' ? debit.bonusUsed : 0;
  const overflow = debit.source === 'platform_pool' ? debit.credits : 0;
  const row = await queryOne(
    db,
    balanceAfterRow,
    sql`
    update user_credits set
      current_balance = current_balance + ${paid - bonus},
      bonus_balance = bonus_balance + ${bonus},
      allowance_spent_this_period = allowance_spent_this_period - ${paid - bonus},
      overflow_this_period = case when ${debit.chargedAt.toISOString()}::timestamptz >= last_reset_at
        then greatest(0, overflow_this_period - ${overflow}) else overflow_this_period end,
      consumed_this_month = greatest(0, consumed_this_month - ${debit.credits}),
      lifetime_consumed = greatest(0, lifetime_consumed - ${debit.credits}),
      updated_at = now()
    where user_id = ${userId}
    returning current_balance + bonus_balance as balance_after`,
  );
  return row!.balance_after;
}
