import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Tier } from '../../shared/enums';
import type { Actor } from '../auth/audit';
import { audit } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { col, queryOne } from '../db/rows';
import { DomainError } from '../errors';
import { toBalance } from './balance';
import { creditBack } from './debit';
import { creditGrants, creditReservations, creditTransactions, userCredits, users } from './tables';
import { ensureUserCredits, lockCredits, resetUserIfDue } from './user-credits';
import { toTransactionView } from './views';

const balanceAfterRow = z.object({ balance_after: col.integer });
const tierChangeRow = z.object({ delta: col.integer, balance_after: col.integer, allowance: col.integer, spent: col.integer });

async function lockedBalance(tx: DbOrTx, userId: string) {
  await ensureUserCredits(tx, userId);
  const row = await lockCredits(tx, userId);
  return row!;
}

async function balanceOf(tx: DbOrTx, userId: string) {
  const [c] = await tx.select().from(userCredits).where(eq(userCredits.userId, userId));
  return toBalance(c!);
}

/** Bonus credits, optionally expiring; they survive monthly resets until then. */
export async function grantCredits(db: DbOrTx, actor: Actor, input: { userId: string; credits: number; reason: string; expiresAt?: string }) {
  if (input.expiresAt && new Date(input.expiresAt) <= new Date()) {
    throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', 'expiresAt must be in the future.');
  }
  return db.transaction(async (tx) => {
    const before = toBalanceLite(await lockedBalance(tx, input.userId));
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
        balanceAfter: after!.balance_after,
        source: 'user_credits',
        reason: input.reason,
        actor: actor.label,
      })
      .returning();
    if (input.expiresAt) {
      await tx.insert(creditGrants).values({ userId: input.userId, credits: input.credits, expiresAt: new Date(input.expiresAt), transactionId: entry!.id });
    }
    const balance = await balanceOf(tx, input.userId);
    await audit(tx, actor, {
      action: 'credits.grant',
      targetType: 'user',
      targetId: input.userId,
      before,
      after: { ...toBalanceLite(balance), credits: input.credits, expiresAt: input.expiresAt ?? null },
      reason: input.reason,
    });
    return { balance, transaction: toTransactionView(entry!) };
  });
}

const toBalanceLite = (b: { current_balance?: number; bonus_balance?: number; currentBalance?: number; bonusBalance?: number }) =>
  'currentBalance' in b && b.currentBalance !== undefined
    ? { balance: b.currentBalance, bonusBalance: b.bonusBalance }
    : { balance: Number(b.current_balance) + Number(b.bonus_balance), bonusBalance: Number(b.bonus_balance) };

/**
 * A correction of the balance: positive adds to the allowance bucket, negative takes from the
 * allowance then the bonus, never below zero. What it takes from the allowance counts as spent this
 * month and what it adds as returned, so a later tier change neither restores nor drops it.
 */
export async function adjustCredits(db: DbOrTx, actor: Actor, input: { userId: string; delta: number; reason: string }) {
  return db.transaction(async (tx) => {
    const state = await lockedBalance(tx, input.userId);
    const total = state.current_balance + state.bonus_balance;
    if (total + input.delta < 0) {
      throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `The balance is ${total}; an adjustment of ${input.delta} would take it below zero.`);
    }
    const take = Math.max(0, -input.delta);
    const fromAllowance = Math.min(state.current_balance, take);
    const after = await queryOne(
      tx,
      balanceAfterRow,
      sql`update user_credits set
            current_balance = current_balance + ${Math.max(0, input.delta)} - ${fromAllowance},
            allowance_spent_this_period = allowance_spent_this_period + ${fromAllowance} - ${Math.max(0, input.delta)},
            bonus_balance = bonus_balance - ${take - fromAllowance}, updated_at = now()
          where user_id = ${input.userId} returning current_balance + bonus_balance as balance_after`,
    );
    const [entry] = await tx
      .insert(creditTransactions)
      .values({
        userId: input.userId,
        transactionType: 'adjustment',
        creditsUsed: Math.abs(input.delta),
        creditsDelta: input.delta,
        bonusCredits: take - fromAllowance,
        balanceAfter: after!.balance_after,
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
    let bonusUsed = original.bonusCredits;
    if (original.transactionType === 'capture' && original.reservationId) {
      const [hold] = await tx.select().from(creditReservations).where(eq(creditReservations.id, original.reservationId));
      bonusUsed = hold?.bonusCredits ?? 0;
    }
    await lockCredits(tx, original.userId);
    const balanceAfter = await creditBack(tx, original.userId, { source: 'user_credits', credits: original.creditsUsed, bonusUsed, chargedAt: original.createdAt });
    const [entry] = await tx
      .insert(creditTransactions)
      .values({
        userId: original.userId,
        transactionType: 'refund',
        creditsUsed: original.creditsUsed,
        creditsDelta: original.creditsUsed,
        bonusCredits: bonusUsed,
        balanceAfter,
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

/** Grants expired per transaction: a backlog of any size never becomes one long transaction. */
const EXPIRY_BATCH = 1_000;

/**
 * Removes expired grants: up to each grant's amount from the bonus bucket, with a `grant_expiry`
 * entry per grant. In batches, each its own transaction (grants marked, users locked in id order,
 * then one set-based statement for the balances and their entries); a grant is marked in the batch
 * that removes its credits, so a run that stops half-way leaves nothing to redo twice.
 */
export async function expireGrants(db: DbOrTx, opts: { batchSize?: number } = {}): Promise<number> {
  const batchSize = opts.batchSize ?? EXPIRY_BATCH;
  let expired = 0;
  for (;;) {
    const n = await db.transaction(async (tx) => {
      const due = await tx
        .update(creditGrants)
        .set({ expiredAt: sql`now()` })
        .where(
          sql`${creditGrants.id} in (select id from credit_grants where expired_at is null and expires_at <= now()
                                     order by user_id, id limit ${batchSize} for update skip locked)`,
        )
        .returning({ id: creditGrants.id, userId: creditGrants.userId, credits: creditGrants.credits, transactionId: creditGrants.transactionId });
      if (!due.length) return 0;
      const batch = sql.join(
        due.map((g) => sql`(${g.id}::bigint, ${g.userId}::text, ${g.credits}::int, ${g.transactionId}::bigint)`),
        sql`, `,
      );
      await tx.execute(sql`select 1 from user_credits where user_id in (select user_id from (values ${batch}) b(id, user_id, credits, transaction_id))
                           order by user_id for update`);
      // Each grant removes what is left of the bonus after the user's earlier grants in the batch.
      await tx.execute(sql`
        with batch(id, user_id, credits, transaction_id) as (values ${batch}),
        per_grant as (
          select b.id, b.user_id, b.transaction_id, u.current_balance, u.bonus_balance,
                 least(u.bonus_balance, sum(b.credits) over w) - least(u.bonus_balance, sum(b.credits) over w - b.credits) as removed,
                 least(u.bonus_balance, sum(b.credits) over w) as removed_so_far
          from batch b join user_credits u on u.user_id = b.user_id
          window w as (partition by b.user_id order by b.id)
        ), totals as (
          select user_id, max(removed_so_far) as removed from per_grant group by user_id
        ), upd as (
          update user_credits u set bonus_balance = u.bonus_balance - t.removed, updated_at = now()
          from totals t where u.user_id = t.user_id and t.removed > 0
          returning u.user_id
        )
        insert into credit_transactions (user_id, transaction_type, credits_used, credits_delta, bonus_credits, balance_after, source, reason)
        select user_id, 'grant_expiry', removed, -removed, removed, current_balance + bonus_balance - removed_so_far, 'user_credits',
               'grant ' || transaction_id || ' expired'
        from per_grant where removed > 0 order by user_id, id`);
      // One grant.expired event per grant, in the expiry's transaction (credits: what the grant gave).
      await tx.execute(sql`
        select webhook_emit('grant.expired', jsonb_build_object('grantId', id::text, 'userId', user_id, 'credits', credits,
                                                                'transactionId', transaction_id::text))
        from (values ${batch}) b(id, user_id, credits, transaction_id) order by id`);
      return due.length;
    });
    expired += n;
    if (n < batchSize) return expired;
  }
}
