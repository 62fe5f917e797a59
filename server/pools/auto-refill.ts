import { sql } from 'drizzle-orm';
import { recordAlert } from '../alerts/alert-sink';
import type { DbOrTx } from '../db/client';
import { queryOne } from '../db/rows';
import { checkBudget } from './budget';

type PoolForRefill = {
  status: string;
  refill_mode: 'fixed' | 'top_up';
  auto_refill_amount: number;
  refill_target_balance: number | null;
  billing_mode: 'manual' | 'http';
  backing_off: boolean;
  cost_per_credit: string;
};

/** How many credits a refill of this pool asks for: a fixed amount, or up to the target balance. */
export function refillAmount(pool: Pick<PoolForRefill, 'refill_mode' | 'auto_refill_amount' | 'refill_target_balance'>, total: number): number {
  if (pool.refill_mode === 'top_up') return Math.max(0, (pool.refill_target_balance ?? 0) - total);
  return pool.auto_refill_amount;
}

/**
 * Starts one automatic refill for a pool that fell to its threshold, inside the caller's
 * transaction. A partial unique index admits one open automatic refill per pool, so however many
 * draws cross the line at once exactly one request exists. A pool backing off after a failed
 * refill starts none. A refill over the month's budget waits for an admin, with a warning alert.
 */
export async function requestAutoRefill(db: DbOrTx, provider: string, total: number): Promise<number | null> {
  const pool = await queryOne<PoolForRefill>(
    db,
    sql`select status, refill_mode, auto_refill_amount, refill_target_balance, billing_mode, cost_per_credit::text,
               coalesce(refill_backoff_until > now(), false) as backing_off
        from credit_pools where provider = ${provider}`,
  );
  if (!pool || pool.status === 'suspended' || pool.backing_off) return null;
  const amount = refillAmount(pool, total);
  if (amount <= 0) return null;
  const cost = await queryOne<{ cost: string }>(db, sql`select (${amount} * ${pool.cost_per_credit}::numeric)::numeric(14,6)::text as cost`);
  const budget = await checkBudget(db, cost!.cost);
  const status = budget.withinBudget && pool.billing_mode === 'http' ? 'approved' : 'pending_manual_approval';
  const note = budget.withinBudget
    ? null
    : `exceeds the month's credit budget (spent ${budget.spentUsd} of ${budget.budgetUsd} USD; this refill ${cost!.cost} USD)`;
  const created = await queryOne<{ id: number }>(
    db,
    sql`insert into credit_purchase_requests (provider, amount_requested, estimated_cost, status, trigger, note, requested_by)
        values (${provider}, ${amount}, ${cost!.cost}::numeric, ${status}, 'auto', ${note}, 'auto-refill')
        on conflict (provider) where trigger = 'auto' and status in ('pending_manual_approval', 'approved') do nothing
        returning id`,
  );
  if (created && note) {
    await recordAlert(db, {
      type: 'refill_over_budget',
      level: 'warning',
      subject: provider,
      message: `Auto-refill of ${amount} credits for ${provider} needs approval: it ${note}.`,
      metadata: { provider, amount, requestId: Number(created.id) },
    });
  }
  return created ? Number(created.id) : null;
}
