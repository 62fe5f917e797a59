import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Tier } from '../../shared/enums';
import type { Actor } from '../auth/audit';
import { audit } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { col, queryOne } from '../db/rows';
import { DomainError } from '../errors';
import { loadBalance } from './balance';
import { creditBack, drawnRow } from './debit';
import { ALLOWANCE_PRIORITY, PAID_PRIORITY, drawInOrderSql, type GrantDraws } from './grant-order-sql';
import { creditGrants, creditReservations, creditTransactions, users } from './tables';
import { ensureUserCredits, lockCredits, resetUserIfDue } from './user-credits';
import { toTransactionView } from './views';

const balanceAfterRow = z.object({ balance_after: col.integer });
const tierChangeRow = z.object({ delta: col.integer, balance_after: col.integer, allowance: col.integer, spent: col.integer });

async function lockedBalance(tx: DbOrTx, userId: string) {
  await ensureUserCredits(tx, userId);
  const row = await lockCredits(tx, userId);
  return row!;
}

const balanceOf = loadBalance;

/**
 * A grant of credits: a promotional one by default (an admin's), or a paid one (a Stripe credit
 * pack), optionally expiring, at a priority in the spending order (ADR 022). It survives monthly
 * resets until it expires. Its entry names the grant in `grant_draws`.
 */
export async function grantCredits(db: DbOrTx, actor: Actor, input: { userId: string; credits: number; reason: string; expiresAt?: string; priority?: number; kind?: 'promotional' | 'paid' }) {
  if (input.expiresAt && new Date(input.expiresAt) <= new Date()) {
    throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', 'expiresAt must be in the future.');
  }
  const kind = input.kind ?? 'promotional';
  return db.transaction(async (tx) => {
    const before = toBalanceLite(await lockedBalance(tx, input.userId));
    const [grant] = await tx
      .insert(creditGrants)
      .values({
        userId: input.userId,
        kind,
        priority: input.priority ?? (kind === 'paid' ? PAID_PRIORITY : ALLOWANCE_PRIORITY),
        credits: input.credits,
        remaining: input.credits,
        expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
        reason: input.reason,
      })
      .returning({ id: creditGrants.id });
    const after = await queryOne(
      tx,
      balanceAfterRow,
      sql`update user_credits set bonus_balance = bonus_balance + ${input.credits}, updated_at = now()
          where user_id = ${input.userId} returning current_balance + bonus_balance as balance_after`,
    );
    const [entry] = await tx
      .insert(creditTransactions)
      .values({
        userId: input.userId,
        transactionType: 'grant',
        creditsUsed: input.credits,
        creditsDelta: input.credits,
        bonusCredits: input.credits,
        grantDraws: [[grant!.id, input.credits]],
        balanceAfter: after!.balance_after,
        source: 'user_credits',
        reason: input.reason,
        actor: actor.label,
      })
      .returning();
    await tx.update(creditGrants).set({ transactionId: entry!.id }).where(eq(creditGrants.id, grant!.id));
    const balance = await balanceOf(tx, input.userId);
    await audit(tx, actor, {
      action: 'credits.grant',
      targetType: 'user',
      targetId: input.userId,
      before,
      after: { ...toBalanceLite(balance), credits: input.credits, kind, grantId: String(grant!.id), expiresAt: input.expiresAt ?? null },
      reason: input.reason,
    });
    return { balance, transaction: toTransactionView(entry!), grantId: grant!.id };
  });
}

const toBalanceLite = (b: { current_balance?: number; bonus_balance?: number; currentBalance?: number; bonusBalance?: number }) =>
  'currentBalance' in b && b.currentBalance !== undefined
    ? { balance: b.currentBalance, bonusBalance: b.bonusBalance }
    : { balance: Number(b.current_balance) + Number(b.bonus_balance), bonusBalance: Number(b.bonus_balance) };

/**
 * A correction of the balance: positive adds to the allowance bucket, negative takes from the
 * allowance and the grants in their spending order, never below zero. What it takes from the
 * allowance counts as spent this month and what it adds as returned, so a later tier change neither
 * restores nor drops it.
 */
export async function adjustCredits(db: DbOrTx, actor: Actor, input: { userId: string; delta: number; reason: string }) {
  return db.transaction(async (tx) => {
    const state = await lockedBalance(tx, input.userId);
    const total = state.current_balance + state.bonus_balance;
    const refuse = () => new DomainError('BAD_REQUEST', 'BAD_REQUEST', `The balance is ${total}; an adjustment of ${input.delta} would take it below zero.`);
    if (total + input.delta < 0) throw refuse();
    let moved: { balanceAfter: number; bonus: number; draws: GrantDraws };
    if (input.delta > 0) {
      const after = await queryOne(
        tx,
        balanceAfterRow,
        sql`update user_credits set current_balance = current_balance + ${input.delta},
              allowance_spent_this_period = allowance_spent_this_period - ${input.delta}, updated_at = now()
            where user_id = ${input.userId} returning current_balance + bonus_balance as balance_after`,
      );
      moved = { balanceAfter: after!.balance_after, bonus: 0, draws: [] };
    } else {
      const drawn = await queryOne(tx, drawnRow, drawInOrderSql(input.userId, -input.delta, { countsAsUsage: false }));
      // Frozen or expired-but-not-yet-removed grants count in the balance yet cannot be taken.
      if (!drawn) throw refuse();
      moved = { balanceAfter: drawn.balance_after, bonus: drawn.bonus_used, draws: drawn.grant_draws };
    }
    const [entry] = await tx
      .insert(creditTransactions)
      .values({
        userId: input.userId,
        transactionType: 'adjustment',
        creditsUsed: Math.abs(input.delta),
        creditsDelta: input.delta,
        bonusCredits: moved.bonus,
        grantDraws: moved.draws.length ? moved.draws : null,
        balanceAfter: moved.balanceAfter,
        source: 'user_credits',
        reason: input.reason,
        actor: actor.label,
      })
      .returning();
    const balance = await balanceOf(tx, input.userId);
    await audit(tx, actor, {
      action: 'credits.adjust',
      targetType: 'user',
      targetId: input.userId,
      before: toBalanceLite(state),
      after: { ...toBalanceLite(balance), delta: input.delta },
      reason: input.reason,
    });
    return { balance, transaction: toTransactionView(entry!) };
  });
}

/** Gives back the credits of a consumption or a captured hold that the user paid, once. */
export async function refundTransaction(db: DbOrTx, actor: Actor, input: { transactionId: string; reason: string }) {
  return db.transaction(async (tx) => {
    const [original] = await tx
      .select()
      .from(creditTransactions)
      .where(eq(creditTransactions.id, Number(input.transactionId)));
    if (!original) throw new DomainError('NOT_FOUND', 'NOT_FOUND', `No transaction ${input.transactionId}.`);
    if (!['consumption', 'capture'].includes(original.transactionType)) {
      throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `Only consumptions and captures can be refunded, not a ${original.transactionType}.`);
    }
    if (original.source !== 'user_credits') {
      throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', 'The platform pool paid for this one: the user has nothing to get back.');
    }
    // A capture's credits were taken by its hold: the hold says which grants paid them.
    let taken = { bonusUsed: original.bonusCredits, grantDraws: original.grantDraws ?? [] };
    if (original.transactionType === 'capture' && original.reservationId) {
      const [hold] = await tx.select().from(creditReservations).where(eq(creditReservations.id, original.reservationId));
      taken = { bonusUsed: hold?.bonusCredits ?? 0, grantDraws: hold?.grantDraws ?? [] };
    }
    await lockCredits(tx, original.userId);
    const back = await creditBack(tx, original.userId, { source: 'user_credits', credits: original.creditsUsed, ...taken, chargedAt: original.createdAt });
    const [entry] = await tx
      .insert(creditTransactions)
      .values({
        userId: original.userId,
        transactionType: 'refund',
        creditsUsed: original.creditsUsed,
        creditsDelta: back.delta,
        bonusCredits: back.bonusCredits,
        grantDraws: back.grantDraws.length ? back.grantDraws : null,
        balanceAfter: back.balanceAfter,
        source: 'user_credits',
        enhancementType: original.enhancementType,
        moodboardId: original.moodboardId,
        reservationId: original.reservationId,
        refundOf: original.id,
        reason: input.reason,
        actor: actor.label,
      })
      .onConflictDoNothing({ target: creditTransactions.refundOf })
      .returning();
    if (!entry) throw new DomainError('CONFLICT', 'CONFLICT', `Transaction ${input.transactionId} was already refunded.`);
    await tx.update(creditTransactions).set({ status: 'refunded' }).where(eq(creditTransactions.id, original.id));
    const balance = await balanceOf(tx, original.userId);
    await audit(tx, actor, {
      action: 'credits.refund',
      targetType: 'transaction',
      targetId: input.transactionId,
      before: toTransactionView(original),
      after: { refund: toTransactionView(entry), balance: balance.currentBalance },
      reason: input.reason,
    });
    return { balance, transaction: toTransactionView(entry) };
  });
}

/**
 * A tier change takes effect at once and never restores spent allowance: the allowance bucket
 * becomes `max(0, new tier's allowance - allowance spent this month)` (ADR 005), bonus credits are
 * untouched, and a `tier_change` entry records the move. A user due for the monthly reset gets it
 * first, so last month's spending never counts against the new tier.
 */
export async function changeTier(db: DbOrTx, actor: Actor | null, input: { userId: string; tier: Tier; reason: string }) {
  return db.transaction(async (tx) => {
    let state = await lockedBalance(tx, input.userId);
    await tx
      .update(users)
      .set({ tier: input.tier, updatedAt: sql`now()` })
      .where(eq(users.userId, input.userId));
    if (state.subscription_tier === input.tier) return balanceOf(tx, input.userId);
    if (state.due_reset) {
      await resetUserIfDue(tx, input.userId);
      state = (await lockCredits(tx, input.userId))!;
    }
    const change = await queryOne(
      tx,
      tierChangeRow,
      sql`
      with target as (select monthly_credits from tier_allowances where tier = ${input.tier}),
      old as (select current_balance from user_credits where user_id = ${input.userId})
      update user_credits u set
        subscription_tier = ${input.tier},
        monthly_allowance = target.monthly_credits,
        current_balance = greatest(0, target.monthly_credits - u.allowance_spent_this_period),
        updated_at = now()
      from target, old where u.user_id = ${input.userId}
      returning u.current_balance - old.current_balance as delta, u.current_balance + u.bonus_balance as balance_after,
        target.monthly_credits as allowance, u.allowance_spent_this_period as spent`,
    );
    const { delta, allowance, spent } = change!;
    await tx.insert(creditTransactions).values({
      userId: input.userId,
      transactionType: 'tier_change',
      creditsUsed: Math.abs(delta),
      creditsDelta: delta,
      balanceAfter: change!.balance_after,
      source: 'user_credits',
      reason: `${state.subscription_tier} → ${input.tier} (allowance ${state.monthly_allowance} → ${allowance}, ${spent} spent this month): ${input.reason}`,
      actor: actor?.label ?? 'api',
    });
    const balance = await balanceOf(tx, input.userId);
    if (actor) {
      await audit(tx, actor, {
        action: 'user.tier',
        targetType: 'user',
        targetId: input.userId,
        before: { tier: state.subscription_tier, ...toBalanceLite(state) },
        after: { tier: input.tier, ...toBalanceLite(balance) },
        reason: input.reason,
      });
    }
    return balance;
  });
}
