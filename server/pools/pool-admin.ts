import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { poolSchema, type PoolInput, type PoolView } from '../../shared/pools';
import { audit, type Actor } from '../auth/audit';
import type { SecretBox } from '../auth/secrets';
import type { DbOrTx } from '../db/client';
import { col, queryRows } from '../db/rows';
import { DomainError } from '../errors';
import { sameOrigin } from '../net/destination';
import { unknownPool } from './errors';
import { creditPools } from './tables';

/** A pool with its stripe sums and today's burn, as `listPools` selects it (counts as integers, money as decimal text). */
const poolRow = z.object({
  provider: col.text,
  status: poolSchema.shape.status,
  available: col.integer,
  reserve: col.integer,
  consumed: col.integer,
  consumed_today: col.integer,
  total_purchased: col.integer,
  cost_per_credit: col.decimal,
  auto_refill_threshold: col.integer,
  auto_refill_threshold_percent: col.integerOrNull,
  effective_threshold: col.integer,
  auto_refill_amount: col.integer,
  refill_mode: poolSchema.shape.refillMode,
  refill_target_balance: col.integerOrNull,
  emergency_reserve: col.integer,
  billing_mode: poolSchema.shape.billingMode,
  billing_url: col.textOrNull,
  key_set: col.bool,
  last_refill_at: col.textOrNull,
  refill_backoff_until: col.textOrNull,
  refill_failures: col.integer,
  last_refill_error: col.textOrNull,
  auto_refill_stopped_at: col.textOrNull,
  provider_reported_balance: col.integerOrNull,
  provider_balance_checked_at: col.textOrNull,
  archived_at: col.textOrNull,
});

const iso = (column: string) => sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/**
 * Pools with their balances summed from the stripes and today's burn from the pool ledger. One
 * pool is found whether archived or not; the list leaves archived ones out unless asked.
 */
export async function listPools(db: DbOrTx, provider?: string, opts: { includeArchived?: boolean } = {}): Promise<PoolView[]> {
  const rows = await queryRows(
    db,
    poolRow,
    sql`
    select p.provider, p.status, p.cost_per_credit::text, p.total_purchased::text,
      p.auto_refill_threshold, p.auto_refill_threshold_percent, p.auto_refill_amount, p.refill_mode, p.refill_target_balance,
      p.emergency_reserve, p.billing_mode, p.billing_url, p.billing_api_key_encrypted is not null as key_set,
      coalesce(p.auto_refill_threshold_percent * p.last_refill_amount / 100, p.auto_refill_threshold)::text as effective_threshold,
      ${iso('p.last_refill_at')} as last_refill_at, ${iso('p.refill_backoff_until')} as refill_backoff_until,
      p.refill_failures, p.last_refill_error, ${iso('p.auto_refill_stopped_at')} as auto_refill_stopped_at,
      p.provider_reported_balance::text, ${iso('p.provider_balance_checked_at')} as provider_balance_checked_at,
      ${iso('p.archived_at')} as archived_at,
      coalesce(s.available, 0)::text as available, coalesce(s.reserve, 0)::text as reserve, coalesce(s.consumed, 0)::text as consumed,
      coalesce(t.today, 0)::text as consumed_today
    from credit_pools p
    left join lateral (
      select sum(balance) as available, sum(balance) filter (where stripe = -1) as reserve, sum(consumed) as consumed
      from credit_pool_stripes where provider = p.provider) s on true
    left join lateral (
      select -sum(credits_delta) as today from credit_pool_transactions
      where provider = p.provider and transaction_type = 'consumption' and created_at >= date_trunc('day', now(), 'UTC')) t on true
    ${provider ? sql`where p.provider = ${provider}` : opts.includeArchived ? sql`` : sql`where p.archived_at is null`}
    order by p.provider`,
  );
  return rows.map((r) => ({
    provider: r.provider,
    status: r.status,
    availableBalance: r.available,
    reserveBalance: r.reserve,
    totalPurchased: r.total_purchased,
    totalConsumed: r.consumed,
    consumedToday: r.consumed_today,
    costPerCredit: r.cost_per_credit,
    autoRefillThreshold: r.auto_refill_threshold,
    autoRefillThresholdPercent: r.auto_refill_threshold_percent,
    effectiveThreshold: r.effective_threshold,
    autoRefillAmount: r.auto_refill_amount,
    refillMode: r.refill_mode,
    refillTargetBalance: r.refill_target_balance,
    emergencyReserve: r.emergency_reserve,
    billingMode: r.billing_mode,
    billingUrl: r.billing_url,
    billingApiKeySet: r.key_set,
    lastRefillAt: r.last_refill_at,
    refillBackoffUntil: r.refill_backoff_until,
    refillFailures: r.refill_failures,
    lastRefillError: r.last_refill_error,
    autoRefillStoppedAt: r.auto_refill_stopped_at,
    providerReportedBalance: r.provider_reported_balance,
    providerBalanceCheckedAt: r.provider_balance_checked_at,
    archivedAt: r.archived_at,
  }));
}

export async function getPool(db: DbOrTx, provider: string): Promise<PoolView> {
  const [pool] = await listPools(db, provider);
  if (!pool) throw unknownPool(provider);
  return pool;
}

export const archivedPool = (provider: string) => new DomainError('BAD_REQUEST', 'BAD_REQUEST', `The ${provider} pool is archived: restore it first.`);

// More stripes than concurrent transactions on one pool, so a free one is almost always there.
const STRIPES = 64;

/** A billing URL on another origin removes the stored key unless it is entered again in the same change. */
function nextBillingKey(input: PoolInput, secrets: SecretBox, before?: Pick<PoolView, 'billingUrl' | 'billingApiKeySet'>) {
  if (input.billingApiKey !== undefined) return { billingApiKeyEncrypted: input.billingApiKey === null ? null : secrets.encrypt(input.billingApiKey) };
  if (before?.billingApiKeySet && !sameOrigin(before.billingUrl, input.billingUrl)) return { billingApiKeyEncrypted: null };
  return {};
}

function poolValues(input: PoolInput, secrets: SecretBox, before?: Pick<PoolView, 'billingUrl' | 'billingApiKeySet'>) {
  return {
    costPerCredit: input.costPerCredit,
    autoRefillThreshold: input.autoRefillThreshold,
    autoRefillThresholdPercent: input.autoRefillThresholdPercent,
    autoRefillAmount: input.autoRefillAmount,
    refillMode: input.refillMode,
    refillTargetBalance: input.refillTargetBalance,
    emergencyReserve: input.emergencyReserve,
    billingMode: input.billingMode,
    billingUrl: input.billingUrl,
    ...nextBillingKey(input, secrets, before),
  };
}

/** A new pool with its stripes (and the reserve stripe), empty until its first refill. */
export async function createPool(db: DbOrTx, secrets: SecretBox, actor: Actor, input: PoolInput): Promise<PoolView> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(creditPools)
      .values({ provider: input.provider, stripeCount: STRIPES, status: 'depleted', ...poolValues(input, secrets) })
      .onConflictDoNothing()
      .returning({ provider: creditPools.provider });
    if (!row) throw new DomainError('CONFLICT', 'CONFLICT', `A pool for ${input.provider} already exists.`);
    await tx.execute(sql`
      insert into credit_pool_stripes (provider, stripe)
      select ${input.provider}, g from generate_series(-1, ${STRIPES - 1}) g`);
    const view = await getPool(tx, input.provider);
    await audit(tx, actor, { action: 'pool.create', targetType: 'pool', targetId: input.provider, after: view });
    return view;
  });
}

export async function updatePool(db: DbOrTx, secrets: SecretBox, actor: Actor, input: PoolInput): Promise<PoolView> {
  return db.transaction(async (tx) => {
    const before = await getPool(tx, input.provider);
    if (before.archivedAt) throw archivedPool(input.provider);
    await tx
      .update(creditPools)
      .set({ ...poolValues(input, secrets, before), updatedAt: sql`now()` })
      .where(eq(creditPools.provider, input.provider));
    const after = await getPool(tx, input.provider);
    await audit(tx, actor, { action: 'pool.update', targetType: 'pool', targetId: input.provider, before, after });
    return after;
  });
}

/** Suspend (never drawn) or resume (active, or depleted when empty). */
export async function setPoolSuspended(db: DbOrTx, actor: Actor, input: { provider: string; suspended: boolean; reason: string }) {
  return db.transaction(async (tx) => {
    const before = await getPool(tx, input.provider);
    if (before.archivedAt) throw archivedPool(input.provider);
    if (input.suspended === (before.status === 'suspended')) {
      throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `The ${input.provider} pool is already ${input.suspended ? 'suspended' : 'not suspended'}.`);
    }
    await tx.execute(sql`
      update credit_pools set updated_at = now(), status = case
        when ${input.suspended} then 'suspended'
        when (select coalesce(sum(balance), 0) from credit_pool_stripes where provider = ${input.provider}) = 0 then 'depleted'
        else 'active' end
      where provider = ${input.provider}`);
    const after = await getPool(tx, input.provider);
    await audit(tx, actor, {
      action: input.suspended ? 'pool.suspend' : 'pool.resume',
      targetType: 'pool',
      targetId: input.provider,
      before: { status: before.status },
      after: { status: after.status },
      reason: input.reason,
    });
    return after;
  });
}
