import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/client';
import { col, countRow, queryOne, queryRows } from '../db/rows';

/** Grants expired per transaction: a backlog of any size never becomes one long transaction. */
const EXPIRY_BATCH = 1_000;

/**
 * Removes what is left of each grant past its expiry (never more: what was spent is gone already),
 * with a `grant_expiry` entry per grant that names it. In batches, each its own transaction (users
 * locked in id order, then one set-based statement for the grants, the balances and the entries); a
 * grant is marked in the batch that removes its credits, so a run that stops half-way leaves nothing
 * to redo twice. A grant given credits back after it expired (a late release) is due again.
 */
export async function expireGrants(db: DbOrTx, opts: { batchSize?: number } = {}): Promise<number> {
  const batchSize = opts.batchSize ?? EXPIRY_BATCH;
  let expired = 0;
  for (;;) {
    const n = await db.transaction(async (tx) => {
      // Users first, in id order, as every change of a grant locks its user: then their due grants are theirs alone.
      const locked = await queryRows(
        tx,
        z.object({ user_id: col.text }),
        sql`select user_id from user_credits
            where user_id in (select user_id from credit_grants where expired_at is null and expires_at <= now() order by user_id, id limit ${batchSize})
            order by user_id for update`,
      );
      if (!locked.length) return 0;
      const userIds = sql.join(
        locked.map((u) => sql`${u.user_id}`),
        sql`, `,
      );
      const row = await queryOne(
        tx,
        countRow,
        sql`
        with old as (
          select id, user_id, remaining, transaction_id from credit_grants
          where user_id in (${userIds}) and expired_at is null and expires_at <= now()
        ), marked as (
          update credit_grants g set remaining = 0, expired_at = now() from old where g.id = old.id returning g.id
        ), per_grant as (
          select old.id, old.user_id, old.remaining, old.transaction_id, u.current_balance + u.bonus_balance as balance_before,
                 sum(old.remaining) over (partition by old.user_id order by old.id rows unbounded preceding) as removed_so_far,
                 sum(old.remaining) over (partition by old.user_id) as removed_total
          from old join user_credits u on u.user_id = old.user_id
        ), upd as (
          update user_credits u set bonus_balance = u.bonus_balance - t.removed, updated_at = now()
          from (select distinct user_id, removed_total as removed from per_grant) t
          where u.user_id = t.user_id and t.removed > 0
        ), entries as (
          insert into credit_transactions (user_id, transaction_type, credits_used, credits_delta, bonus_credits, grant_draws, balance_after, source, reason)
          select user_id, 'grant_expiry', remaining, -remaining, remaining, jsonb_build_array(jsonb_build_array(id, -remaining)),
                 balance_before - removed_so_far, 'user_credits', 'grant ' || coalesce(transaction_id::text, 'g' || id::text) || ' expired'
          from per_grant where remaining > 0 order by user_id, id
        )
        -- One grant.expired event per grant, in the expiry's statement (credits: what was left of it).
        select count(*)::int as n,
               count(webhook_emit('grant.expired', jsonb_build_object('grantId', id::text, 'userId', user_id, 'credits', remaining,
                                                                      'transactionId', transaction_id::text))) as emitted
        from (select * from per_grant order by id) p`,
      );
      return row?.n ?? 0;
    });
    expired += n;
    if (n < batchSize) return expired;
  }
}
