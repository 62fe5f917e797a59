import { sql } from 'drizzle-orm';
import type { UpsertUserInput } from '../../shared/users';
import type { DbOrTx } from '../db/client';
import { users } from './tables';

/** Creates the user or updates email and tier; one statement, so concurrent upserts never collide. */
export async function upsertUser(db: DbOrTx, input: UpsertUserInput) {
  const [row] = await db
    .insert(users)
    .values({ userId: input.userId, email: input.email ?? null, tier: input.tier })
    .onConflictDoUpdate({
      target: users.userId,
      set: { email: sql`coalesce(excluded.email, ${users.email})`, tier: sql`excluded.tier`, updatedAt: sql`now()` },
    })
    .returning();
  return row!;
}
