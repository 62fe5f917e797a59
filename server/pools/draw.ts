import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type SQL } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { recordAlert } from '../alerts/alert-sink';
import type { DbOrTx } from '../db/client';
import { inTransaction } from '../db/in-transaction';
import { col, queryOne } from '../db/rows';
import { requestAutoRefill } from './auto-refill';

export type PoolDraw = { provider: string; credits: number; costUsd: string; stripe: number; emergency: boolean; refillRequestId: number | null };

/** What each way of taking credits returns: the stripe it took from, its balance after, and the pool's facts (`poolFacts`). */
export const stripeHit = z.object({ stripe: col.integer, balance_after: col.integer, cost: col.decimal, stripe_count: col.integer, threshold: col.integer, total_after: col.integer });
export type StripeHit = z.output<typeof stripeHit>;

/** Stripe -1 is the emergency reserve; it is always locked last so lock order is the same everywhere. */
export const RESERVE_STRIPE = -1;

/** Cost, threshold and the pool total after the draw, from the statement's own snapshot (hence minus credits). */
const poolFacts = (credits: number) => sql`
  (p.cost_per_credit * ${credits})::numeric(14,6)::text as cost, p.stripe_count,
  coalesce(p.auto_refill_threshold_percent * p.last_refill_amount / 100, p.auto_refill_threshold) as threshold,
  (select coalesce(sum(t.balance), 0) from credit_pool_stripes t where t.provider = p.provider)::bigint - ${credits} as total_after`;

/**
 * One stripe with enough, the first free one in stripe order from a random start (then those before
 * it), skipping stripes other transactions hold, with its ledger entry, as CTEs (`draw_pool`,
 * `taken`, `draw_entry`) a statement ends with: it never waits, so it can never be part of a lock
 * cycle. A suspended pool gives no start, so nothing is locked; nor does a false `gate` (the
 * gateway's opening statement draws only when its hold was made). `reservationId` is an SQL value.
 */
export const freeStripeDrawCtes = (provider: string, credits: number, start: number, reservationId: SQL, gate: SQL = sql`true`) => sql`
  draw_pool as (
    select ${start}::int % cp.stripe_count as first from credit_pools cp where cp.provider = ${provider} and cp.status <> 'suspended' and ${gate}
  ), taken as (
    update credit_pool_stripes s set balance = s.balance - ${credits}, consumed = s.consumed + ${credits}
    from credit_pools p
    where p.provider = s.provider and s.provider = ${provider} and s.balance >= ${credits}
      and s.stripe = coalesce(
        (select c.stripe from credit_pool_stripes c
         where c.provider = ${provider} and c.stripe >= (select first from draw_pool) and c.balance >= ${credits}
         order by c.stripe limit 1 for update skip locked),
        (select c.stripe from credit_pool_stripes c
         where c.provider = ${provider} and c.stripe >= 0 and c.stripe < (select first from draw_pool) and c.balance >= ${credits}
         order by c.stripe limit 1 for update skip locked))
    returning s.stripe, s.balance, (p.cost_per_credit * ${credits})::numeric(14,6) as cost, p.stripe_count,
              coalesce(p.auto_refill_threshold_percent * p.last_refill_amount / 100, p.auto_refill_threshold) as threshold
  ), draw_entry as (
    insert into credit_pool_transactions (provider, transaction_type, credits_delta, stripe, stripe_balance_after, cost_usd, reservation_id)
    select ${provider}, 'consumption', -${credits}::int, taken.stripe, taken.balance, taken.cost, ${reservationId} from taken
  )`;

/** What a free-stripe draw answers (`stripeHit`), from `taken`. */
export const drawnColumns = (provider: string, credits: number) => sql`
  taken.stripe, taken.balance as balance_after, taken.cost::text as cost, taken.stripe_count, taken.threshold,
  -- The statement's snapshot does not see its own update, hence the subtraction.
  (select coalesce(sum(t.balance), 0) from credit_pool_stripes t where t.provider = ${provider})::bigint - ${credits} as total_after`;

/**
 * The free-stripe draw as a statement. FOR UPDATE can keep a lock on a row whose re-check failed (a
 * stripe another draw just drained): a statement that commits alone releases it at once; in a
 * caller's transaction it must not be kept into the ordered fallback, so there the same statement
 * runs as a function whose exception block releases it (migrations 0005, 0031). Exported so the
 * HTTP benchmark's floor runs this very statement.
 */
export const freeStripeDrawSql = (provider: string, credits: number, start: number, reservationId: string | null) =>
  sql`with ${freeStripeDrawCtes(provider, credits, start, sql`${reservationId}`)} select ${drawnColumns(provider, credits)} from taken`;

const takeFromFreeStripe = (db: DbOrTx, provider: string, credits: number, start: number, reservationId: string | null) =>
  queryOne(
    db,
    stripeHit,
    db instanceof PgTransaction ? sql`select * from creditdesk_draw_free_stripe(${provider}, ${credits}, ${start}, ${reservationId})` : freeStripeDrawSql(provider, credits, start, reservationId),
  );

/**
 * The fallback when every free stripe is busy or none alone has enough: locks all ordinary stripes
 * in stripe order (the one order every multi-stripe lock here uses) and drains them in that order.
 * Records its own ledger entries, one per stripe touched.
 */
const takeAcrossStripes = (provider: string, credits: number, reservationId: string | null) => sql`
  with s as (
    select s.stripe, s.balance from credit_pool_stripes s join credit_pools p on p.provider = s.provider
    where s.provider = ${provider} and s.stripe >= 0 and p.status <> 'suspended'
    order by s.stripe for update of s
  ), plan as (
    select stripe, least(balance, greatest(0, ${credits} - coalesce(sum(balance) over (order by stripe rows between unbounded preceding and 1 preceding), 0))) as take,
           sum(balance) over () as total
    from s
  ), upd as (
    update credit_pool_stripes c set balance = c.balance - plan.take, consumed = c.consumed + plan.take
    from plan where c.provider = ${provider} and c.stripe = plan.stripe and plan.take > 0 and plan.total >= ${credits}
    returning c.stripe, c.balance, plan.take
  ), entries as (
    insert into credit_pool_transactions (provider, transaction_type, credits_delta, stripe, stripe_balance_after, cost_usd, reservation_id)
    select ${provider}, 'consumption', -upd.take, upd.stripe, upd.balance, (p.cost_per_credit * upd.take)::numeric(14,6), ${reservationId}
    from upd join credit_pools p on p.provider = ${provider}
  )
  select min(upd.stripe) as stripe, min(upd.balance) as balance_after, ${poolFacts(credits)}
  from upd join credit_pools p on p.provider = ${provider}
  group by p.provider, p.cost_per_credit, p.stripe_count, p.auto_refill_threshold_percent, p.last_refill_amount, p.auto_refill_threshold`;

const takeFromReserve = (provider: string, credits: number) => sql`
  update credit_pool_stripes s set balance = s.balance - ${credits}, consumed = s.consumed + ${credits}
  from credit_pools p
  where s.provider = ${provider} and s.stripe = ${RESERVE_STRIPE} and s.balance >= ${credits} and p.provider = s.provider and p.status <> 'suspended'
  returning s.stripe, s.balance as balance_after, ${poolFacts(credits)}`;

const poolTotalRow = z.object({ total: col.integer });

export async function poolTotal(db: DbOrTx, provider: string): Promise<number> {
  const row = await queryOne(db, poolTotalRow, sql`select coalesce(sum(balance), 0)::text as total from credit_pool_stripes where provider = ${provider}`);
  return row?.total ?? 0;
}

/** Tries at a free stripe before a draw locks them all (exported so the HTTP benchmark's floor draws the same way). */
export const FREE_STRIPE_TRIES = 3;

/**
 * Draws a provider's credits and returns the USD cost, computed in SQL as credits × cost_per_credit.
 * Concurrent draws spread over the stripes instead of queueing on one row; only when free stripes
 * keep being busy (or none alone has enough) does a draw lock them all. The emergency reserve pays
 * only when the rest is empty (a critical alert). Null when the pool cannot pay or is suspended; an
 * empty pool is then marked depleted. Given the pool rather than a transaction, its common case (a
 * free stripe, the pool well above its threshold) is one statement that commits alone; whatever
 * writes more than that row and its entry (the fallbacks, a refill request) gets a transaction, and
 * when that fails the draw that committed alone is given back before the error is thrown.
 */
export async function drawFromPool(db: DbOrTx, provider: string, credits: number, ref: { reservationId?: string | null } = {}): Promise<PoolDraw | null> {
  const reservationId = ref.reservationId ?? null;
  let hit: StripeHit | undefined;
  for (let attempt = 0; attempt < FREE_STRIPE_TRIES && !hit; attempt++) {
    if (attempt > 0) await sleep(attempt * 2);
    hit = await takeFromFreeStripe(db, provider, credits, Math.floor(Math.random() * 4096), reservationId);
  }
  if (hit && !needsFollowUp(hit)) return toDraw(provider, credits, hit, false, null);
  const rest = (tx: DbOrTx) => finishDraw(tx, provider, credits, reservationId, hit);
  if (!hit || db instanceof PgTransaction) return inTransaction(db, rest);
  // The free-stripe draw committed alone: a follow-up that fails (the refill request) fails the
  // draw, and a caller that sees the error calls no provider and refunds nothing, so it goes back here.
  try {
    return await db.transaction(rest);
  } catch (err) {
    const undone = await db
      .transaction((tx) => refundToPool(tx, provider, credits, { reservationId, reason: 'the draw could not be completed' }))
      .then(
        () => null,
        (undoErr: unknown) => undoErr,
      );
    throw undone === null ? err : new AggregateError([err, undone], 'a pool draw failed after it was taken, and so did giving it back');
  }
}

/**
 * A free-stripe draw another statement made (`freeStripeDrawCtes`), finished as drawFromPool
 * finishes its own: a pool at or below its threshold asks for its refill.
 */
export async function completeDraw(db: DbOrTx, provider: string, credits: number, reservationId: string, hit: StripeHit): Promise<PoolDraw> {
  if (!needsFollowUp(hit)) return toDraw(provider, credits, hit, false, null);
  const drawn = await inTransaction(db, (tx) => finishDraw(tx, provider, credits, reservationId, hit));
  // finishDraw answers null only when no stripe paid, and this one did.
  return drawn ?? toDraw(provider, credits, hit, false, null);
}

const poolTotalAfter = (hit: StripeHit) => Math.max(0, hit.total_after);
/** At or below its threshold (an emptied pool too: thresholds are never negative) a pool asks for a refill, beyond the draw itself. */
const needsFollowUp = (hit: StripeHit) => poolTotalAfter(hit) <= hit.threshold;

const toDraw = (provider: string, credits: number, hit: StripeHit, emergency: boolean, refillRequestId: number | null): PoolDraw => ({
  provider,
  credits,
  costUsd: hit.cost,
  stripe: hit.stripe,
  emergency,
  refillRequestId,
});

/** The draw's slower part, in one transaction: the fallbacks when no free stripe paid, the refill request. */
async function finishDraw(db: DbOrTx, provider: string, credits: number, reservationId: string | null, freeHit: StripeHit | undefined): Promise<PoolDraw | null> {
  let hit = freeHit ?? (await queryOne(db, stripeHit, takeAcrossStripes(provider, credits, reservationId)));
  let emergency = false;
  if (!hit) {
    hit = await queryOne(db, stripeHit, takeFromReserve(provider, credits));
    if (!hit) {
      await db.execute(sql`
        update credit_pools set status = 'depleted', updated_at = now()
        where provider = ${provider} and status = 'active'
          and (select coalesce(sum(balance), 0) from credit_pool_stripes where provider = ${provider}) = 0`);
      return null;
    }
    emergency = true;
    await db.execute(sql`
      insert into credit_pool_transactions (provider, transaction_type, credits_delta, stripe, stripe_balance_after, cost_usd, reservation_id)
      values (${provider}, 'consumption', ${-credits}, ${hit.stripe}, ${hit.balance_after}, ${hit.cost}, ${reservationId})`);
    await recordAlert(db, {
      type: 'pool_emergency_reserve',
      level: 'critical',
      subject: provider,
      message: `The ${provider} pool is empty and is drawing on its emergency reserve (${hit.balance_after} left).`,
      metadata: { provider, reserveLeft: hit.balance_after },
    });
  }
  // The total can only be as fresh as the statement's snapshot: draws still in flight elsewhere are
  // not in it, so a crossing is seen when they commit, and the unique index keeps it to one refill.
  let refillRequestId: number | null = null;
  const total = poolTotalAfter(hit);
  if (total <= hit.threshold || emergency) refillRequestId = await requestAutoRefill(db, provider, total);
  if (total === 0) await db.execute(sql`update credit_pools set status = 'depleted', updated_at = now() where provider = ${provider} and status = 'active'`);
  return toDraw(provider, credits, hit, emergency, refillRequestId);
}

const refundedStripe = z.object({ balance_after: col.integer, stripe: col.integer });

/** Gives credits back to a pool (a provider leg that did not happen), into one free stripe. */
export async function refundToPool(db: DbOrTx, provider: string, credits: number, ref: { reservationId?: string | null; reason: string }) {
  const row = await queryOne(
    db,
    refundedStripe,
    sql`update credit_pool_stripes set balance = balance + ${credits}, consumed = greatest(0, consumed - ${credits})
        where provider = ${provider} and stripe = (
          select stripe from credit_pool_stripes where provider = ${provider} and stripe >= 0
          order by random() limit 1 for update skip locked)
        returning balance as balance_after, stripe`,
  );
  const target =
    row ??
    (await queryOne(
      db,
      refundedStripe,
      sql`update credit_pool_stripes set balance = balance + ${credits}, consumed = greatest(0, consumed - ${credits})
        where provider = ${provider} and stripe = 0 returning balance as balance_after, stripe`,
    ));
  if (!target) throw new Error(`pool ${provider} has no stripes`);
  await db.execute(sql`
    insert into credit_pool_transactions (provider, transaction_type, credits_delta, stripe, stripe_balance_after, reservation_id, reason)
    values (${provider}, 'refund', ${credits}, ${target.stripe}, ${target.balance_after}, ${ref.reservationId ?? null}, ${ref.reason})`);
  await db.execute(sql`update credit_pools set status = 'active', updated_at = now() where provider = ${provider} and status = 'depleted'`);
}
