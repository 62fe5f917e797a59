import { eq, sql } from 'drizzle-orm';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { pendingHoldsMessage, pendingHoldsOn } from '../pools/pending-draws';
import { apiProviders } from './tables';

const notFound = (name: string) => new DomainError('NOT_FOUND', 'NOT_FOUND', `No provider named ${name}.`);

/**
 * Archives a provider instead of deleting it: it is disabled and leaves the fallback order, so the
 * gateway never tries it, while its calls, ledger entries and pool keep pointing at its name.
 * Refused while enhancements are in flight on it.
 */
export async function archiveProvider(db: DbOrTx, actor: Actor, input: { name: string; reason: string }) {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(apiProviders).where(eq(apiProviders.name, input.name)).for('update');
    if (!row) throw notFound(input.name);
    if (row.archivedAt) throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `Provider ${input.name} is already archived.`);
    const pending = await pendingHoldsOn(tx, input.name);
    if (pending > 0) throw new DomainError('CONFLICT', 'CONFLICT', pendingHoldsMessage(`Provider ${input.name}`, pending), { pendingHolds: pending });
    await tx
      .update(apiProviders)
      .set({ archivedAt: sql`now()`, isActive: false, updatedAt: sql`now()` })
      .where(eq(apiProviders.name, input.name));
    await audit(tx, actor, {
      action: 'provider.archive',
      targetType: 'provider',
      targetId: input.name,
      before: { isActive: row.isActive, priority: row.priority, archived: false },
      after: { isActive: false, archived: true },
      reason: input.reason,
    });
  });
}

/** Brings an archived provider back, disabled and last in the fallback order: enabling it is a separate, deliberate step. */
export async function restoreProvider(db: DbOrTx, actor: Actor, input: { name: string; reason: string }) {
  return db.transaction(async (tx) => {
    // Every provider row is locked, as a reorder locks them, so the priority given is last for sure.
    const rows = await tx.select({ name: apiProviders.name, priority: apiProviders.priority, archivedAt: apiProviders.archivedAt }).from(apiProviders).for('update');
    const row = rows.find((r) => r.name === input.name);
    if (!row) throw notFound(input.name);
    if (!row.archivedAt) throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `Provider ${input.name} is not archived.`);
    const last = Math.max(0, ...rows.filter((r) => !r.archivedAt).map((r) => r.priority));
    const priority = Math.min(10_000, last + 10);
    await tx
      .update(apiProviders)
      .set({ archivedAt: null, isActive: false, priority, updatedAt: sql`now()` })
      .where(eq(apiProviders.name, input.name));
    await audit(tx, actor, {
      action: 'provider.restore',
      targetType: 'provider',
      targetId: input.name,
      before: { archived: true, priority: row.priority },
      after: { archived: false, isActive: false, priority },
      reason: input.reason,
    });
  });
}
