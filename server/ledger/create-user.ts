import type { CreateUserInput } from '../../shared/users';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { users } from './tables';
import { upsertUser } from './users';

/**
 * A user created by an admin: refused when the id exists (an upsert would silently edit them), then
 * exactly what `users.upsert` does for a new user (the tier's allowance and its allocation entry).
 */
export async function createUser(db: DbOrTx, actor: Actor, input: CreateUserInput) {
  return db.transaction(async (tx) => {
    // Taking the id first makes a second create of it wait here and then be refused, never become an update.
    const [taken] = await tx
      .insert(users)
      .values({ userId: input.userId, email: input.email ?? null, tier: input.tier })
      .onConflictDoNothing({ target: users.userId })
      .returning({ userId: users.userId });
    if (!taken) throw new DomainError('CONFLICT', 'CONFLICT', `A user with the id ${input.userId} already exists.`, { fields: ['userId'] });
    const balance = await upsertUser(tx, input);
    await audit(tx, actor, {
      action: 'user.create',
      targetType: 'user',
      targetId: input.userId,
      after: { email: balance.email, tier: balance.tier, balance: balance.currentBalance },
    });
    return balance;
  });
}
