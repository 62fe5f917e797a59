import { asc, eq, sql } from 'drizzle-orm';
import type { Tier } from '../../shared/enums';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { tierAllowances } from './tables';

type TierUpdate = { tier: Tier; monthlyCredits: number; poolAccess: boolean; monthlyOverflowCap?: number | null; rolloverCap?: number; rolloverMonths?: number; reason: string };

const toView = (t: typeof tierAllowances.$inferSelect) => ({
  tier: t.tier as Tier,
  monthlyCredits: t.monthlyCredits,
  poolAccess: t.poolAccess,
  monthlyOverflowCap: t.monthlyOverflowCap,
  rolloverCap: t.rolloverCap,
  rolloverMonths: t.rolloverMonths,
  updatedAt: t.updatedAt.toISOString(),
});

export async function listTiers(db: DbOrTx) {
  return (await db.select().from(tierAllowances).orderBy(asc(tierAllowances.monthlyCredits))).map(toView);
}

/**
 * A new allowance applies from each user's next monthly reset (or tier change); pool access and the
 * monthly overflow cap apply at once. An absent cap is left as it is; null makes it unlimited. The
 * rollover rule (cap and months) applies at each user's next monthly reset (ADR 022).
 */
export async function updateTier(db: DbOrTx, actor: Actor, input: TierUpdate) {
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(tierAllowances).where(eq(tierAllowances.tier, input.tier)).for('update');
    if (!before) throw new DomainError('NOT_FOUND', 'NOT_FOUND', `No tier ${input.tier}.`);
    const [after] = await tx
      .update(tierAllowances)
      .set({
        monthlyCredits: input.monthlyCredits,
        poolAccess: input.poolAccess,
        ...(input.monthlyOverflowCap !== undefined ? { monthlyOverflowCap: input.monthlyOverflowCap } : {}),
        ...(input.rolloverCap !== undefined ? { rolloverCap: input.rolloverCap } : {}),
        ...(input.rolloverMonths !== undefined ? { rolloverMonths: input.rolloverMonths } : {}),
        updatedAt: sql`now()`,
      })
      .where(eq(tierAllowances.tier, input.tier))
      .returning();
    await audit(tx, actor, {
      action: 'tier.update',
      targetType: 'tier',
      targetId: input.tier,
      before: toView(before),
      after: toView(after!),
      reason: input.reason,
    });
    return toView(after!);
  });
}
