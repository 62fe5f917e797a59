import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { grantKinds, type Balance, type GrantView, type TransactionView } from '../../shared/credits';
import { col, queryRows } from '../db/rows';
import { ALLOWANCE_PRIORITY, allowanceExpirySql } from './grant-order-sql';
import type { DbOrTx } from '../db/client';
import { creditTransactions, userCredits } from './tables';
import { ensureUserCredits, resetUserIfDue } from './user-credits';
import { toTransactionView } from './views';

/**
 * The user's credit state. A first read creates the row for their tier; a read after the month
 * turned resets that user first (once), so the answer is never last month's balance.
 */
export async function getBalance(db: DbOrTx, userId: string): Promise<Balance> {
  return db.transaction(async (tx) => {
    await ensureUserCredits(tx, userId);
    await resetUserIfDue(tx, userId);
    return loadBalance(tx, userId);
  });
}

const grantRow = z.object({
  grant_id: col.id.nullable(),
  kind: z.enum(grantKinds),
  priority: col.integer,
  credits: col.integer,
  remaining: col.integer,
  frozen_credits: col.integer,
  expires_at: col.timeOrNull,
  created_at: col.time,
  reason: col.textOrNull,
});

const iso = (t: string | Date) => new Date(t).toISOString();

/**
 * The allowance and the user's unexpired grants holding credits, in the order a charge spends them
 * (the draw's own ordering, grant-order-sql): their `remaining` adds up to the balance.
 */
export async function listGrants(db: DbOrTx, userId: string): Promise<GrantView[]> {
  const rows = await queryRows(
    db,
    grantRow,
    sql`
    select * from (
      select null::bigint as grant_id, 'allowance' as kind, ${ALLOWANCE_PRIORITY}::int as priority, uc.monthly_allowance as credits,
             uc.current_balance as remaining, 0 as frozen_credits, ${allowanceExpirySql(sql`uc.last_reset_at`)} as expires_at,
             uc.last_reset_at as created_at, null::text as reason, 0::bigint as sort_id
      from user_credits uc where uc.user_id = ${userId}
      union all
      select g.id, g.kind, g.priority, g.credits, g.remaining, g.frozen_credits, g.expires_at, g.created_at, g.reason, g.id
      from credit_grants g
      where g.user_id = ${userId} and g.expired_at is null and (g.remaining > 0 or g.frozen_credits > 0)
    ) pots
    order by priority, expires_at nulls last, created_at, sort_id`,
  );
  return rows.map((r) => ({
    grantId: r.grant_id,
    kind: r.kind,
    priority: r.priority,
    credits: r.credits,
    remaining: r.remaining,
    frozenCredits: r.frozen_credits,
    expiresAt: r.expires_at === null ? null : iso(r.expires_at),
    createdAt: iso(r.created_at),
    reason: r.reason,
  }));
}

/** The user's balance with its grants, read as it stands (in the caller's transaction when given one). */
export async function loadBalance(db: DbOrTx, userId: string): Promise<Balance> {
  const [c] = await db.select().from(userCredits).where(eq(userCredits.userId, userId));
  return toBalance(c!, await listGrants(db, userId));
}

export const toBalance = (c: typeof userCredits.$inferSelect, grants: GrantView[]): Balance => ({
  userId: c.userId,
  tier: c.subscriptionTier as Balance['tier'],
  monthlyAllowance: c.monthlyAllowance,
  currentBalance: c.currentBalance + c.bonusBalance,
  bonusBalance: c.bonusBalance,
  consumedThisMonth: c.consumedThisMonth,
  lifetimeConsumed: c.lifetimeConsumed,
  lastResetAt: c.lastResetAt.toISOString(),
  grants,
});

/** A page of the user's ledger, newest first; the cursor is the last transaction id seen. */
export async function getHistory(db: DbOrTx, input: { userId: string; cursor?: string; limit: number }): Promise<{ items: TransactionView[]; nextCursor: string | null }> {
  const cursor = input.cursor && /^\d+$/.test(input.cursor) ? Number(input.cursor) : null;
  const rows = await db
    .select()
    .from(creditTransactions)
    .where(and(eq(creditTransactions.userId, input.userId), cursor !== null ? lt(creditTransactions.id, cursor) : undefined))
    .orderBy(desc(creditTransactions.id))
    .limit(input.limit + 1);
  const items = rows.slice(0, input.limit).map(toTransactionView);
  return { items, nextCursor: rows.length > input.limit ? items.at(-1)!.transactionId : null };
}
