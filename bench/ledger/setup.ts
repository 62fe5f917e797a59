import { sql } from 'drizzle-orm';
import { createApiKey } from '../../server/auth/api-keys';
import { cliActor } from '../../server/auth/audit';
import type { DbOrTx } from '../../server/db/client';
import { upsertUser } from '../../server/ledger/users';

/** Far more than any run spends, and within the integer column. */
export const BIG_ALLOWANCE = 1_000_000_000;

/**
 * `count` pro users created through upsertUser, each given a big allowance by an `adjustment`
 * entry for the difference, so balances keep equalling the sum of their entries.
 */
export async function createConsumeUsers(db: DbOrTx, count: number): Promise<string[]> {
  const userIds = Array.from({ length: count }, (_, i) => `bench-consumer-${String(i).padStart(3, '0')}`);
  for (const userId of userIds) await upsertUser(db, { userId, tier: 'pro', email: `${userId}@bench.invalid` });
  await db.execute(sql`
    with before as (
      select user_id, current_balance from user_credits where user_id like 'bench-consumer-%' for update
    ), upd as (
      update user_credits uc set current_balance = ${BIG_ALLOWANCE}
      from before where uc.user_id = before.user_id
      returning uc.user_id, ${BIG_ALLOWANCE} - before.current_balance as delta, uc.current_balance + uc.bonus_balance as total
    )
    insert into credit_transactions (user_id, transaction_type, credits_delta, balance_after, source, reason)
    select user_id, 'adjustment', delta, total, 'user_credits', 'bench setup: big allowance' from upd`);
  return userIds;
}

/** An API key allowed to consume credits; its secret is the bearer token. */
export async function createConsumeKey(db: DbOrTx): Promise<string> {
  const { secret } = await createApiKey(db, cliActor, { name: 'bench', scopes: ['credits:write'] });
  return secret;
}
