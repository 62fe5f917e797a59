import { eq, sql } from 'drizzle-orm';
import type { BulkGrantInput, UserFilter } from '../../shared/users';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { countRow, queryOne } from '../db/rows';
import { DomainError } from '../errors';
import { idempotencyConflict } from './errors';
import { ALLOWANCE_PRIORITY } from './grant-order-sql';
import { requestHash } from './request-hash';
import { bulkGrants } from './tables';
import { userFilterWhere } from './user-filter';

/** The filter with its defaults spelled out, so equal filters hash alike and are stored alike. */
const normalised = (f: UserFilter) => ({ search: f.search || null, tier: f.tier ?? null, outOfCredits: f.outOfCredits ?? false });

/** How many users the Users page's filters match and what granting each `credits` would cost in total. */
export async function previewBulkGrant(db: DbOrTx, input: { filter: UserFilter; credits: number }) {
  const row = await queryOne(db, countRow, sql`select count(*)::int as n from users u join user_credits uc on uc.user_id = u.user_id where ${userFilterWhere(input.filter)}`);
  const users = row?.n ?? 0;
  return { users, totalCredits: users * input.credits };
}

const resultOf = (g: typeof bulkGrants.$inferSelect, replayed: boolean) => ({
  bulkGrantId: String(g.id),
  usersGranted: g.usersGranted,
  totalCredits: Number(g.totalCredits),
  replayed,
});

/**
 * A promotional grant to every user the filters match, with one reason: each user gets a grant, its `grant` entry
 * and a `credits.grant` audit entry, all in one transaction of set-based statements (the users'
 * rows locked in id order, as expireGrants locks them). The idempotency key is claimed in the same
 * transaction, so a retry (or a second click racing the first) returns the first result and grants
 * nothing more. When the filters no longer match the count the admin confirmed, nothing is granted.
 */
export async function bulkGrant(db: DbOrTx, actor: Actor, input: BulkGrantInput) {
  const filter = normalised(input.filter);
  const hash = requestHash('bulk-grant', { ...filter, credits: input.credits, reason: input.reason });
  return db.transaction(async (tx) => {
    const [claimed] = await tx
      .insert(bulkGrants)
      .values({ idempotencyKey: input.idempotencyKey, requestHash: hash, filter, credits: input.credits, reason: input.reason, usersGranted: 0, totalCredits: 0, actor: actor.label })
      .onConflictDoNothing({ target: bulkGrants.idempotencyKey })
      .returning();
    if (!claimed) {
      const [first] = await tx.select().from(bulkGrants).where(eq(bulkGrants.idempotencyKey, input.idempotencyKey));
      if (first!.requestHash !== hash) throw idempotencyConflict();
      return resultOf(first!, true);
    }
    const granted = await queryOne(
      tx,
      countRow,
      sql`
      with locked as (
        select uc.user_id from users u join user_credits uc on uc.user_id = u.user_id
        where ${userFilterWhere(input.filter)}
        order by u.user_id
        for update of uc
      ), upd as (
        update user_credits uc set bonus_balance = uc.bonus_balance + ${input.credits}::int, updated_at = now()
        from locked where uc.user_id = locked.user_id
        returning uc.user_id, uc.current_balance + uc.bonus_balance as balance_after, uc.bonus_balance as bonus_after
      ), grants as (
        insert into credit_grants (user_id, kind, priority, credits, remaining, reason, transaction_id)
        select user_id, 'promotional', ${ALLOWANCE_PRIORITY}::int, ${input.credits}::int, ${input.credits}::int, ${input.reason}::text,
               nextval(pg_get_serial_sequence('credit_transactions', 'id'))
        from upd order by user_id
        returning id, user_id, transaction_id
      ), entries as (
        insert into credit_transactions (id, user_id, transaction_type, credits_used, credits_delta, bonus_credits, grant_draws, balance_after, source, reason, actor, idempotency_key)
        select g.transaction_id, upd.user_id, 'grant', ${input.credits}::int, ${input.credits}::int, ${input.credits}::int,
               jsonb_build_array(jsonb_build_array(g.id, ${input.credits}::int)), upd.balance_after, 'user_credits', ${input.reason}::text, ${actor.label}::text,
               'bulk:' || ${claimed.id}::text || ':' || upd.user_id
        from upd join grants g on g.user_id = upd.user_id order by upd.user_id
      ), audits as (
        insert into audit_log (actor_admin_id, actor_label, action, target_type, target_id, before, after, reason)
        select ${actor.adminId}::uuid, ${actor.label}::text, 'credits.grant', 'user', user_id,
               jsonb_build_object('balance', balance_after - ${input.credits}::int, 'bonusBalance', bonus_after - ${input.credits}::int),
               jsonb_build_object('balance', balance_after, 'bonusBalance', bonus_after, 'credits', ${input.credits}::int, 'expiresAt', null, 'bulkGrantId', ${claimed.id}::text),
               ${input.reason}::text
        from upd order by user_id
      )
      select count(*)::int as n from upd`,
    );
    const users = granted?.n ?? 0;
    // Thrown after the statement so it rolls back with it: what is granted is exactly what was confirmed
    // (and expectedUsers' own bound caps how many one operation reaches).
    if (users !== input.expectedUsers) {
      throw new DomainError(
        'CONFLICT',
        'CONFLICT',
        `The filters now match ${users.toLocaleString('en-US')} users, not the ${input.expectedUsers.toLocaleString('en-US')} you confirmed. Nothing was granted: check the preview and confirm again.`,
      );
    }
    const [done] = await tx
      .update(bulkGrants)
      .set({ usersGranted: users, totalCredits: users * input.credits })
      .where(eq(bulkGrants.id, claimed.id))
      .returning();
    await audit(tx, actor, {
      action: 'credits.bulk_grant',
      targetType: 'bulk_grant',
      targetId: String(claimed.id),
      after: { filter, credits: input.credits, users, totalCredits: users * input.credits },
      reason: input.reason,
    });
    return resultOf(done!, false);
  });
}
