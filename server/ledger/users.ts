import { sql } from 'drizzle-orm';
import type { UpsertUserInput } from '../../shared/users';
import type { DbOrTx } from '../db/client';
import { pgErrorCode, UNIQUE_VIOLATION } from '../db/errors';
import { DomainError } from '../errors';
import { changeTier } from './admin-ops';
import { loadBalance } from './balance';
import { users } from './tables';
import { ensureUserCredits } from './user-credits';

/**
 * Creates the user (with their first allocation) or updates email and tier; a new tier takes
 * effect on the allowance at once (see changeTier). A `stripeCustomerId` links the user to the
 * Stripe customer paying for them (absent: the link is kept); a customer links to one user only.
 * Returns the user's credit state.
 */
export async function upsertUser(db: DbOrTx, input: UpsertUserInput) {
  return db
    .transaction(async (tx) => {
      const [row] = await tx
        .insert(users)
        .values({ userId: input.userId, email: input.email ?? null, tier: input.tier, stripeCustomerId: input.stripeCustomerId ?? null })
        .onConflictDoUpdate({
          target: users.userId,
          set: {
            email: sql`coalesce(excluded.email, ${users.email})`,
            stripeCustomerId: sql`coalesce(excluded.stripe_customer_id, ${users.stripeCustomerId})`,
            updatedAt: sql`now()`,
          },
        })
        .returning();
      await ensureUserCredits(tx, input.userId);
      await changeTier(tx, null, { userId: input.userId, tier: input.tier, reason: 'users.upsert' });
      return { ...(await loadBalance(tx, input.userId)), email: row!.email };
    })
    .catch((err: unknown) => {
      if (pgErrorCode(err) === UNIQUE_VIOLATION && input.stripeCustomerId) {
        throw new DomainError('CONFLICT', 'CONFLICT', `Stripe customer ${input.stripeCustomerId} is already linked to another user.`, { fields: ['stripeCustomerId'] });
      }
      throw err;
    });
}
