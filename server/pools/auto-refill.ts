import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { recordAlert } from '../alerts/alert-sink';
import type { DbOrTx } from '../db/client';
import { inTransaction } from '../db/in-transaction';
import { col, queryOne, queryRows } from '../db/rows';
import { checkBudget, lockBudget } from './budget';
import { kickRefill } from './refill-kicks';
import { usdText } from '../../shared/wording';

const poolForRefill = z.object({
  status: col.text,
  refill_mode: z.enum(['fixed', 'top_up']),
  auto_refill_amount: col.integer,
  refill_target_balance: col.integerOrNull,
  billing_mode: z.enum(['manual', 'http']),
  paused: col.bool,
  open_request: col.bool,
  cost_per_credit: col.decimal,
});
type PoolForRefill = z.output<typeof poolForRefill>;
const refillCostRow = z.object({ cost: col.decimal });
const createdRequestRow = z.object({ id: col.integer });

/** How many credits a refill of this pool asks for: a fixed amount, or up to the target balance. */
export function refillAmount(pool: Pick<PoolForRefill, 'refill_mode' | 'auto_refill_amount' | 'refill_target_balance'>, total: number): number {
  if (pool.refill_mode === 'top_up') return Math.max(0, (pool.refill_target_balance ?? 0) - total);
  return pool.auto_refill_amount;
}

/**
 * Starts one automatic refill for a pool that fell to its threshold, inside the caller's
 * transaction. A partial unique index admits one open automatic refill per pool, so however many
 * draws cross the line at once exactly one request exists. A pool backing off after a failed
 * refill, or whose auto-refill stopped, starts none. The budget is checked under its lock. An
 * approved refill is kicked to the job runner on commit; one that waits for an admin alerts.
 */
export async function requestAutoRefill(db: DbOrTx, provider: string, total: number): Promise<number | null> {
  const pool = await queryOne(
    db,
    poolForRefill,
    sql`select status, refill_mode, auto_refill_amount, refill_target_balance, billing_mode, cost_per_credit::text,
               coalesce(refill_backoff_until > now(), false) or auto_refill_stopped_at is not null as paused,
               exists (select 1 from credit_purchase_requests r where r.provider = p.provider and r.trigger = 'auto'
                       and r.status in ('pending_manual_approval', 'approved', 'outcome_unknown')) as open_request
        from credit_pools p where provider = ${provider}`,
  );
  // Draws below the threshold keep arriving while a refill is open: they leave before the budget lock.
  if (!pool || pool.status === 'suspended' || pool.paused || pool.open_request) return null;
  const amount = refillAmount(pool, total);
  if (amount <= 0) return null;
  await lockBudget(db);
  const cost = await queryOne(db, refillCostRow, sql`select (${amount} * ${pool.cost_per_credit}::numeric)::numeric(14,6)::text as cost`);
  const budget = await checkBudget(db, cost!.cost);
  const status = budget.withinBudget && pool.billing_mode === 'http' ? 'approved' : 'pending_manual_approval';
  const note = budget.withinBudget ? null : `exceeds the month's credit budget (spent ${usdText(budget.spentUsd)} of ${usdText(budget.budgetUsd)}; this refill ${usdText(cost!.cost)})`;
  const created = await queryOne(
    db,
    createdRequestRow,
    sql`insert into credit_purchase_requests (provider, amount_requested, estimated_cost, status, trigger, note, requested_by)
        values (${provider}, ${amount}, ${cost!.cost}::numeric, ${status}, 'auto', ${note}, 'auto-refill')
        on conflict (provider) where trigger = 'auto' and status in ('pending_manual_approval', 'approved', 'outcome_unknown') do nothing
        returning id`,
  );
  if (!created) return null;
  const id = created.id;
  if (status === 'approved') await kickRefill(db, provider);
  else await alertAwaitingApproval(db, { provider, amount, id, overBudget: note });
  return id;
}

const dueRefillRow = z.object({ provider: col.text, total: col.integer });

/**
 * The pools that should have an automatic refill open and have none, as a draw crossing the
 * threshold would ask for one (draw.ts): at or below the effective threshold (or drawing on the
 * emergency reserve), a refill amount above zero, not suspended, past the backoff, auto-refill not
 * stopped, no automatic request pending, approved or of unknown outcome.
 */
const dueRefills = (provider?: string) => sql`
  select p.provider, t.total::text as total
  from credit_pools p
  cross join lateral (
    select coalesce(sum(s.balance), 0) as total, coalesce(sum(s.balance) filter (where s.stripe >= 0), 0) as ordinary
    from credit_pool_stripes s where s.provider = p.provider) t
  where p.status <> 'suspended' and p.auto_refill_stopped_at is null
    and (p.refill_backoff_until is null or p.refill_backoff_until <= now())
    and (t.total <= coalesce(p.auto_refill_threshold_percent * p.last_refill_amount / 100, p.auto_refill_threshold) or t.ordinary = 0)
    and (case when p.refill_mode = 'top_up' then coalesce(p.refill_target_balance, 0) - t.total else p.auto_refill_amount end) > 0
    and not exists (select 1 from credit_purchase_requests r where r.provider = p.provider and r.trigger = 'auto'
                    and r.status in ('pending_manual_approval', 'approved', 'outcome_unknown'))
    ${provider ? sql`and p.provider = ${provider}` : sql``}
  order by p.provider`;

/**
 * The auto-refill job's threshold check: asks for the refill of every pool that is due one
 * (dueRefills), whether or not anything draws it. Without it, an empty pool whose last refill was
 * refused or rejected would never ask again: a draw that finds nothing asks for nothing, and the
 * gateway skips a pool below one credit. One statement finds the due pools; each is then asked for
 * through requestAutoRefill in a transaction of its own (the month's budget is checked under its
 * lock one refill at a time, over budget or manual billing waits for approval with its alert), after
 * checking again that it is still due. Safe to repeat and to run twice at once: the partial unique
 * index keeps one open automatic refill per pool. Returns the requests created.
 */
export async function requestDueRefills(db: DbOrTx, provider?: string): Promise<number[]> {
  const due = await queryRows(db, dueRefillRow, dueRefills(provider));
  const created: number[] = [];
  for (const pool of due) {
    const id = await inTransaction(db, async (tx) => {
      const still = await queryOne(tx, dueRefillRow, dueRefills(pool.provider));
      return still ? requestAutoRefill(tx, still.provider, still.total) : null;
    });
    if (id !== null) created.push(id);
  }
  return created;
}

/** A refill that waits for an admin says so: over the budget, or a pool that is bought by hand. */
export async function alertAwaitingApproval(db: DbOrTx, r: { provider: string; amount: number; id: number; overBudget: string | null }) {
  await recordAlert(db, {
    type: r.overBudget ? 'refill_over_budget' : 'refill_awaiting_approval',
    level: 'warning',
    subject: r.provider,
    message: r.overBudget
      ? `Refill of ${r.amount} credits for ${r.provider} needs approval: it ${r.overBudget}.`
      : `Refill of ${r.amount} credits for ${r.provider} waits for approval: buy them from the provider, then approve request ${r.id}.`,
    metadata: { provider: r.provider, amount: r.amount, requestId: r.id },
  });
}
