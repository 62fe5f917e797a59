import { sql } from 'drizzle-orm';
import type { CreditSource } from '../../shared/credits';
import type { DbOrTx } from '../db/client';
import { z } from 'zod';
import { col, queryOne } from '../db/rows';
import { assertPlatformCanPay } from '../pools/overflow-gate';
import { insufficientCredits, overflowLimitReached } from './errors';
import { allowanceDebitSql, chargeRow, overflowCountersSql } from './charge-sql';
import { drawInOrderSql, grantDrawsCol, returnToGrantsSql, type GrantDraws } from './grant-order-sql';
import { creditGrants } from './tables';
import { ensureUserCredits, lockCredits, resetUserIfDue } from './user-credits';

const balanceAfterRow = z.object({ balance_after: col.integer });

export type Debit = { source: CreditSource; balanceAfter: number; bonusUsed: number; grantDraws: GrantDraws; tier: string };

/** Decides whether the platform may pay an overflow, refusing with PLATFORM_CREDITS_DEPLETED. */
export type OverflowGate = (db: DbOrTx, credits: number) => Promise<void>;

export const drawnRow = chargeRow.extend({ grant_draws: grantDrawsCol });

/** The charge's columns of the ledger entry a debit writes (a hold or a consumption): who paid, how much from the grants, the balance after. */
export const debitEntryColumns = (debit: Debit, credits: number) => ({
  creditsUsed: credits,
  creditsDelta: debit.source === 'user_credits' ? -credits : 0,
  bonusCredits: debit.bonusUsed,
  grantDraws: debit.grantDraws.length ? debit.grantDraws : null,
  balanceAfter: debit.balanceAfter,
  source: debit.source,
  tier: debit.tier,
});

/**
 * Charges `credits` to the user inside the caller's transaction, spending the allowance and the
 * grants in their order (ADR 022); when they cannot cover it, a tier with pool access overflows to
 * the platform pool (the user pays nothing) up to its monthly overflow cap, and a tier without is
 * refused. The common case is one conditional UPDATE of the allowance; a first-seen user, a due
 * monthly reset, grants to spend or an overflow take the slower path under the row lock.
 * A balance crossing below 20% or to 0 gets its webhook event from the user_credits trigger (ADR 012).
 */
export async function debitUser(db: DbOrTx, userId: string, credits: number, overflowGate: OverflowGate = assertPlatformCanPay): Promise<Debit> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await queryOne(db, chargeRow, allowanceDebitSql(userId, credits));
    if (row) return { source: 'user_credits', balanceAfter: row.balance_after, bonusUsed: 0, grantDraws: [], tier: row.tier };

    const state = await lockCredits(db, userId);
    if (!state) {
      await ensureUserCredits(db, userId);
      continue;
    }
    if (state.due_reset) {
      await resetUserIfDue(db, userId);
      continue;
    }
    // The row is locked: the draw sees every grant as it is, and nothing can spend them meanwhile.
    const drawn = await queryOne(db, drawnRow, drawInOrderSql(userId, credits));
    if (drawn) return { source: 'user_credits', balanceAfter: drawn.balance_after, bonusUsed: drawn.bonus_used, grantDraws: drawn.grant_draws, tier: drawn.tier };
    if (!state.pool_access) throw insufficientCredits();
    // Checking the month's overflow against the cap and adding to it cannot race either.
    const cap = state.monthly_overflow_cap;
    if (cap !== null && state.overflow_this_period + credits > cap) throw overflowLimitReached(state.subscription_tier, cap);
    await overflowGate(db, credits);
    const over = await queryOne(db, balanceAfterRow, sql`update user_credits set ${overflowCountersSql(credits)} where user_id = ${userId} returning current_balance + bonus_balance as balance_after`);
    return { source: 'platform_pool', balanceAfter: over!.balance_after, bonusUsed: 0, grantDraws: [], tier: state.subscription_tier };
  }
  throw new Error(`charging ${userId} did not settle after three attempts`);
}

/** What a debit took, to give back: its source, credits, the part grants paid and which grants. */
export type DebitTaken = { source: CreditSource; credits: number; bonusUsed: number; grantDraws: GrantDraws; chargedAt: Date };
/** What giving back did: the balance after, the change to it and the grants that took credits back. */
export type CreditedBack = { balanceAfter: number; delta: number; bonusCredits: number; grantDraws: GrantDraws };

const returnedRow = z.object({ bonus: col.integer, grant_draws: grantDrawsCol });

/**
 * Gives back what a debit took (a release, a refund), on a user row the caller has locked: the
 * grants' part to the grants it came from (a frozen one holds it out of the balance), the rest to
 * the allowance; usage counters go down with it. A grant part drawn before grants were tracked one
 * by one names no grant: it comes back as a promotional grant of its own. An overflow charged since
 * the user's last reset gives its overflow back (one from before it was never counted this month).
 */
export async function creditBack(db: DbOrTx, userId: string, debit: DebitTaken): Promise<CreditedBack> {
  const paid = debit.source === 'user_credits' ? debit.credits : 0;
  const bonus = debit.source === 'user_credits' ? debit.bonusUsed : 0;
  const overflow = debit.source === 'platform_pool' ? debit.credits : 0;
  const back = returnToGrantsSql(userId, debit.grantDraws);
  const returned = back ? ((await queryOne(db, returnedRow, back)) ?? { bonus: 0, grant_draws: [] }) : { bonus: 0, grant_draws: [] as GrantDraws };
  const untracked = bonus + debit.grantDraws.reduce((sum, [, d]) => sum + d, 0);
  const grantDraws = [...returned.grant_draws];
  if (untracked > 0) {
    const [grant] = await db
      .insert(creditGrants)
      .values({ userId, kind: 'promotional', credits: untracked, remaining: untracked, reason: 'credits given back from a charge made before grants were tracked one by one' })
      .returning({ id: creditGrants.id });
    grantDraws.push([grant!.id, untracked]);
  }
  const toGrants = returned.bonus + Math.max(0, untracked);
  const row = await queryOne(
    db,
    balanceAfterRow,
    sql`
    update user_credits set
      current_balance = current_balance + ${paid - bonus},
      bonus_balance = bonus_balance + ${toGrants},
      allowance_spent_this_period = allowance_spent_this_period - ${paid - bonus},
      overflow_this_period = case when ${debit.chargedAt.toISOString()}::timestamptz >= last_reset_at
        then greatest(0, overflow_this_period - ${overflow}) else overflow_this_period end,
      consumed_this_month = greatest(0, consumed_this_month - ${debit.credits}),
      lifetime_consumed = greatest(0, lifetime_consumed - ${debit.credits}),
      updated_at = now()
    where user_id = ${userId}
    returning current_balance + bonus_balance as balance_after`,
  );
  return { balanceAfter: row!.balance_after, delta: paid - bonus + toGrants, bonusCredits: toGrants, grantDraws };
}
