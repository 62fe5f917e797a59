import { and, eq, inArray, sql } from 'drizzle-orm';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { unknownPool } from './errors';
import { pendingHoldsMessage, pendingHoldsOn } from './pending-draws';
import { getPool } from './pool-admin';
import { creditPools, creditPurchaseRequests } from './tables';

const count = (n: number) => n.toLocaleString('en-US');

/**
 * Archives a pool instead of deleting it: it is suspended (so no draw, overflow or refill touches
 * it) and leaves the default list, while its ledger and refills keep pointing at it. Refused while
 * enhancements are in flight on it or a purchase is under way; a pool that still holds credits is
 * archived only by the admin's explicit choice, and they stay on its books.
 */
export async function archivePool(db: DbOrTx, actor: Actor, input: { provider: string; reason: string; archiveWithBalance: boolean }) {
  return db.transaction(async (tx) => {
    await tx.select({ provider: creditPools.provider }).from(creditPools).where(eq(creditPools.provider, input.provider)).for('update');
    const before = await getPool(tx, input.provider);
    if (before.archivedAt) throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `The ${input.provider} pool is already archived.`);
    const pending = await pendingHoldsOn(tx, input.provider);
    if (pending > 0) throw new DomainError('CONFLICT', 'CONFLICT', pendingHoldsMessage(`The ${input.provider} pool`, pending), { pendingHolds: pending });
    const [buying] = await tx
      .select({ id: creditPurchaseRequests.id })
      .from(creditPurchaseRequests)
      .where(and(eq(creditPurchaseRequests.provider, input.provider), inArray(creditPurchaseRequests.status, ['approved', 'outcome_unknown'])));
    if (buying) {
      throw new DomainError('CONFLICT', 'CONFLICT', `A refill of the ${input.provider} pool is under way (request #${buying.id}). Archive it once the purchase has settled.`);
    }
    if (before.availableBalance > 0 && !input.archiveWithBalance) {
      throw new DomainError(
        'PRECONDITION_FAILED',
        'CONFLICT',
        `The ${input.provider} pool still holds ${count(before.availableBalance)} credits. Archiving keeps them on its books but nothing will draw them: choose to archive it with its balance, or leave it active.`,
        { availableBalance: before.availableBalance },
      );
    }
    await tx
      .update(creditPools)
      .set({ status: 'suspended', archivedAt: sql`now()`, updatedAt: sql`now()` })
      .where(eq(creditPools.provider, input.provider));
    await audit(tx, actor, {
      action: 'pool.archive',
      targetType: 'pool',
      targetId: input.provider,
      before: { status: before.status, availableBalance: before.availableBalance, archived: false },
      after: { status: 'suspended', archived: true, withBalance: before.availableBalance > 0 },
      reason: input.reason,
    });
    return getPool(tx, input.provider);
  });
}

/** Brings an archived pool back, still suspended: resuming it is a separate, deliberate step. */
export async function restorePool(db: DbOrTx, actor: Actor, input: { provider: string; reason: string }) {
  return db.transaction(async (tx) => {
    const [row] = await tx.select({ archivedAt: creditPools.archivedAt }).from(creditPools).where(eq(creditPools.provider, input.provider)).for('update');
    if (!row) throw unknownPool(input.provider);
    if (!row.archivedAt) throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `The ${input.provider} pool is not archived.`);
    await tx
      .update(creditPools)
      .set({ archivedAt: null, updatedAt: sql`now()` })
      .where(eq(creditPools.provider, input.provider));
    await audit(tx, actor, {
      action: 'pool.restore',
      targetType: 'pool',
      targetId: input.provider,
      before: { archived: true },
      after: { archived: false, status: 'suspended' },
      reason: input.reason,
    });
    return getPool(tx, input.provider);
  });
}
