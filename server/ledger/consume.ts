import { and, eq } from 'drizzle-orm';
import type { ConsumeInput, ConsumeResult } from '../../shared/credits';
import type { DbOrTx } from '../db/client';
import { debitUser, type OverflowGate } from './debit';
import { idempotencyConflict, ReplayDetected } from './errors';
import { requestHash } from './request-hash';
import { creditTransactions } from './tables';
import { DomainError } from '../errors';

const ZERO_USD = '0.000000';

/** Looks up the first result recorded under an idempotency key; a different input is a conflict. */
async function priorConsume(db: DbOrTx, key: string, hash: string): Promise<ConsumeResult | null> {
  const [prior] = await db
    .select()
    .from(creditTransactions)
    .where(and(eq(creditTransactions.idempotencyKey, key), eq(creditTransactions.transactionType, 'consumption')));
  if (!prior) {
    const [other] = await db.select({ id: creditTransactions.id }).from(creditTransactions).where(eq(creditTransactions.idempotencyKey, key));
    if (other) throw idempotencyConflict();
    return null;
  }
  if (prior.requestHash !== hash) throw idempotencyConflict();
  return {
    transactionId: String(prior.id),
    source: prior.source as ConsumeResult['source'],
    creditsConsumed: prior.creditsUsed,
    remainingBalance: prior.balanceAfter,
    costUsd: prior.costUsd ?? ZERO_USD,
  };
}

/**
 * Charges credits at once (no hold): the user leg only. A replayed key returns the first result and
 * charges nothing more, under any concurrency: the unique key makes a second insert roll back its charge.
 */
export async function consumeCredits(db: DbOrTx, input: ConsumeInput, overflowGate?: OverflowGate): Promise<ConsumeResult> {
  const hash = requestHash('consume', {
    userId: input.userId,
    credits: input.credits,
    enhancementType: input.enhancementType,
    moodboardId: input.moodboardId,
  });
  try {
    return await db.transaction(async (tx) => {
      const debit = await debitUser(tx, input.userId, input.credits, overflowGate);
      const [row] = await tx
        .insert(creditTransactions)
        .values({
          userId: input.userId,
          transactionType: 'consumption',
          creditsUsed: input.credits,
          creditsDelta: debit.source === 'user_credits' ? -input.credits : 0,
          bonusCredits: debit.bonusUsed,
          balanceAfter: debit.balanceAfter,
          source: debit.source,
          tier: debit.tier,
          costUsd: ZERO_USD,
          enhancementType: input.enhancementType,
          moodboardId: input.moodboardId ?? null,
          idempotencyKey: input.idempotencyKey,
          requestHash: hash,
        })
        .onConflictDoNothing({ target: creditTransactions.idempotencyKey })
        .returning({ id: creditTransactions.id });
      if (!row) throw new ReplayDetected();
      return {
        transactionId: String(row.id),
        source: debit.source,
        creditsConsumed: input.credits,
        remainingBalance: debit.balanceAfter,
        costUsd: ZERO_USD,
      };
    });
  } catch (err) {
    // A replay whose first run already spent the balance is refused by the debit: the key decides.
    if (err instanceof ReplayDetected || err instanceof DomainError) {
      const prior = await priorConsume(db, input.idempotencyKey, hash);
      if (prior) return prior;
    }
    throw err;
  }
}
