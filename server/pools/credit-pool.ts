import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/client';
import { col, queryOne, queryRows } from '../db/rows';

const stripeRow = z.object({ stripe: col.integer });
const poolSizesRow = z.object({ stripe_count: col.integer, emergency_reserve: col.integer, reserve_balance: col.integer });

/**
 * Adds purchased credits to a pool: first tops up the emergency reserve to its size, then spreads
 * the rest evenly over the stripes (each with its ledger entry). The pool becomes active again
 * unless an admin suspended it.
 */
export async function creditPool(
  db: DbOrTx,
  provider: string,
  credits: number,
  ref: { purchaseRequestId?: number | null; type?: 'purchase' | 'adjustment' | 'reallocation'; reason?: string; actor?: string },
): Promise<void> {
  // Stripes first, in the order every multi-stripe lock uses (reserve last), the pool row after.
  await queryRows(db, stripeRow, sql`select stripe from credit_pool_stripes where provider = ${provider} order by stripe = -1, stripe for update`);
  const pool = await queryOne(
    db,
    poolSizesRow,
    sql`select p.stripe_count, p.emergency_reserve, s.balance as reserve_balance
        from credit_pools p join credit_pool_stripes s on s.provider = p.provider and s.stripe = -1
        where p.provider = ${provider}`,
  );
  if (!pool) throw new Error(`pool ${provider} does not exist`);
  const toReserve = Math.min(credits, Math.max(0, pool.emergency_reserve - pool.reserve_balance));
  const rest = credits - toReserve;
  const n = pool.stripe_count;
  const share = Math.floor(rest / n);
  const remainder = rest % n;
  const type = ref.type ?? 'purchase';
  // One set-based statement: each stripe's share, and one ledger entry per stripe that received any.
  await queryRows(
    db,
    stripeRow,
    sql`
    with shares as (
      select stripe, case when stripe = -1 then ${toReserve} else ${share} + case when stripe < ${remainder} then 1 else 0 end end as add
      from credit_pool_stripes where provider = ${provider}
    ), upd as (
      update credit_pool_stripes s set balance = s.balance + shares.add
      from shares where s.provider = ${provider} and s.stripe = shares.stripe and shares.add > 0
      returning s.stripe, s.balance, shares.add
    )
    insert into credit_pool_transactions (provider, transaction_type, credits_delta, stripe, stripe_balance_after, purchase_request_id, reason, actor)
    select ${provider}, ${type}, add, stripe, balance, ${ref.purchaseRequestId ?? null}, ${ref.reason ?? null}, ${ref.actor ?? null} from upd
    returning stripe`,
  );
  await db.execute(sql`
    update credit_pools set
      total_purchased = total_purchased + ${type === 'purchase' ? credits : 0},
      last_refill_at = case when ${type} = 'purchase' then now() else last_refill_at end,
      last_refill_amount = case when ${type} = 'purchase' then ${credits} else last_refill_amount end,
      status = case when status = 'depleted' then 'active' else status end,
      refill_backoff_until = null,
      updated_at = now()
    where provider = ${provider}`);
}
