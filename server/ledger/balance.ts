import { and, desc, eq, lt } from 'drizzle-orm';
import type { Balance, TransactionView } from '../../shared/credits';
import type { DbOrTx } from '../db/client';
import { creditTransactions, userCredits } from './tables';
import { ensureUserCredits, resetUserIfDue } from './user-credits';
import { toTransactionView } from './views';

/**
 * The user's credit state. A first read creates the row for their tier; a read after the month
 * turned resets that user first (once), so the answer is never last month's balance.
 */
export async function getBalance(db: DbOrTx, userId: string): Promise<Balance> {
  return db.transaction(async (tx) => {
    await ensureUserCredits(tx, userId);
    await resetUserIfDue(tx, userId);
    const [c] = await tx.select().from(userCredits).where(eq(userCredits.userId, userId));
    return toBalance(c!);
  });
}

export const toBalance = (c: typeof userCredits.$inferSelect): Balance => ({
  userId: c.userId,
  tier: c.subscriptionTier as Balance['tier'],
  monthlyAllowance: c.monthlyAllowance,
  currentBalance: c.currentBalance + c.bonusBalance,
  bonusBalance: c.bonusBalance,
  consumedThisMonth: c.consumedThisMonth,
  lifetimeConsumed: c.lifetimeConsumed,
  lastResetAt: c.lastResetAt.toISOString(),
});

/** A page of the user's ledger, newest first; the cursor is the last transaction id seen. */
export async function getHistory(db: DbOrTx, input: { userId: string; cursor?: string; limit: number }): Promise<{ items: TransactionView[]; nextCursor: string | null }> {
  const cursor = input.cursor && /^\d+$/.test(input.cursor) ? Number(input.cursor) : null;
  const rows = await db
    .select()
    .from(creditTransactions)
    .where(and(eq(creditTransactions.userId, input.userId), cursor !== null ? lt(creditTransactions.id, cursor) : undefined))
    .orderBy(desc(creditTransactions.id))
    .limit(input.limit + 1);
  const items = rows.slice(0, input.limit).map(toTransactionView);
  return { items, nextCursor: rows.length > input.limit ? items.at(-1)!.transactionId : null };
}
