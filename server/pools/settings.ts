import { eq, sql } from 'drizzle-orm';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { checkBudget } from './budget';
import { platformSettings } from './tables';

export async function getPlatformSettings(db: DbOrTx) {
  const [s] = await db.select().from(platformSettings).where(eq(platformSettings.id, 1));
  const budget = await checkBudget(db, '0');
  return {
    monthlyRevenueUsd: s!.monthlyRevenueUsd,
    creditBudgetSharePercent: s!.creditBudgetSharePercent,
    refillBackoffSeconds: s!.refillBackoffSeconds,
    providerDriftTolerance: s!.providerDriftTolerance,
    refillConfirmCredits: s!.refillConfirmCredits,
    refillConfirmUsd: s!.refillConfirmUsd,
    usersOutOfCreditsThreshold: s!.usersOutOfCreditsThreshold,
    budgetUsd: budget.budgetUsd,
    spentThisMonthUsd: budget.spentUsd,
  };
}

export async function updatePlatformSettings(
  db: DbOrTx,
  actor: Actor,
  input: {
    monthlyRevenueUsd: string;
    creditBudgetSharePercent: number;
    refillBackoffSeconds: number;
    providerDriftTolerance: number;
    /** Omitted: kept as they are. */
    refillConfirmCredits?: number;
    refillConfirmUsd?: string;
    reason: string;
  },
) {
  return db.transaction(async (tx) => {
    const before = await getPlatformSettings(tx);
    const { reason, ...values } = input;
    await tx
      .update(platformSettings)
      .set({ ...values, updatedAt: sql`now()` })
      .where(eq(platformSettings.id, 1));
    const after = await getPlatformSettings(tx);
    await audit(tx, actor, { action: 'settings.platform', targetType: 'settings', targetId: 'platform', before, after, reason });
    return after;
  });
}

/** The users_out_of_credits threshold, set on its own: the budget form's other fields stay untouched. */
export async function setUsersOutOfCreditsThreshold(db: DbOrTx, actor: Actor, input: { usersOutOfCreditsThreshold: number; reason: string }) {
  return db.transaction(async (tx) => {
    const before = await getPlatformSettings(tx);
    await tx
      .update(platformSettings)
      .set({ usersOutOfCreditsThreshold: input.usersOutOfCreditsThreshold, updatedAt: sql`now()` })
      .where(eq(platformSettings.id, 1));
    const after = await getPlatformSettings(tx);
    await audit(tx, actor, {
      action: 'settings.users_out_threshold',
      targetType: 'settings',
      targetId: 'platform',
      before: { usersOutOfCreditsThreshold: before.usersOutOfCreditsThreshold },
      after: { usersOutOfCreditsThreshold: after.usersOutOfCreditsThreshold },
      reason: input.reason,
    });
    return after;
  });
}
