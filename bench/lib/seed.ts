import { sql } from 'drizzle-orm';
import type { ApiKeyScope } from '../../shared/enums';
import { createApiKey } from '../../server/auth/api-keys';
import { cliActor } from '../../server/auth/audit';
import type { SecretBox } from '../../server/auth/secrets';
import type { DbOrTx } from '../../server/db/client';
import { upsertUser } from '../../server/ledger/users';
import { creditPool } from '../../server/pools/credit-pool';
import { createPool } from '../../server/pools/pool-admin';

/** Far more than any run spends, and within the integer column. */
export const BIG_ALLOWANCE = 1_000_000_000;

/** `count` users `<prefix>-000`… of `tier`, created the way the API does (upsertUser: their first allocation). */
export async function createUsers(db: DbOrTx, prefix: string, count: number, tier: 'free' | 'plus' | 'pro'): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
  for (const userId of ids) await upsertUser(db, { userId, tier, email: `${userId}@bench.invalid` });
  return ids;
}

/**
 * Sets the allowance balance of every user whose id starts with `prefix-` (bonus bucket emptied),
 * with an `adjustment` entry for the difference, so balances keep equalling the sum of their entries.
 * 0 makes every charge overflow to the platform pool (for tiers with pool access).
 */
export async function setBalances(db: DbOrTx, prefix: string, balance: number): Promise<void> {
  await db.execute(sql`
    with before as (
      select user_id, current_balance, current_balance + bonus_balance as total from user_credits where user_id like ${`${prefix}-%`} for update
    ), upd as (
      update user_credits uc set current_balance = ${balance}, bonus_balance = 0,
        allowance_spent_this_period = uc.allowance_spent_this_period + before.current_balance - ${balance}, updated_at = now()
      from before where uc.user_id = before.user_id
      returning uc.user_id, ${balance} - before.total as delta, uc.current_balance + uc.bonus_balance as total
    )
    insert into credit_transactions (user_id, transaction_type, credits_delta, balance_after, source, reason)
    select user_id, 'adjustment', delta, total, 'user_credits', 'bench setup' from upd where delta <> 0`);
}

/** Lifts every tier's monthly overflow cap: a benchmark overflows far more than a month's worth. */
export async function uncapOverflow(db: DbOrTx): Promise<void> {
  await db.execute(sql`update tier_allowances set monthly_overflow_cap = null`);
}

/** A pool (64 stripes) holding `credits`, with no auto-refill threshold, so a run never asks for a refill. */
export async function createFundedPool(db: DbOrTx, secrets: SecretBox, provider: string, credits: number, costPerCredit = '0.039'): Promise<void> {
  await createPool(db, secrets, cliActor, {
    provider,
    costPerCredit,
    autoRefillThreshold: 0,
    autoRefillThresholdPercent: null,
    autoRefillAmount: 0,
    refillMode: 'fixed',
    refillTargetBalance: null,
    emergencyReserve: 0,
    billingMode: 'manual',
    billingUrl: null,
  });
  await creditPool(db, provider, credits, { reason: 'bench seed' });
}

/** An API key with these scopes; its secret is the bearer token. */
export async function createKey(db: DbOrTx, scopes: ApiKeyScope[]): Promise<string> {
  const { secret } = await createApiKey(db, cliActor, { name: `bench-${scopes.join('-')}`, scopes });
  return secret;
}
