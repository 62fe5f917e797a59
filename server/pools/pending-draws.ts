import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { countRow, queryOne } from '../db/rows';

/**
 * Pending holds that drew this provider's pool and have not had it back: enhancements in flight on
 * it (the gateway draws before the call and refunds a failure). Archiving under them would strand
 * a capture or a refund on something that is no longer in service.
 */
export async function pendingHoldsOn(db: DbOrTx, provider: string): Promise<number> {
  const row = await queryOne(
    db,
    countRow,
    sql`select count(*)::int as n from (
          select r.id from credit_reservations r
          join credit_pool_transactions t on t.reservation_id = r.id::text and t.provider = ${provider}
          where r.status = 'pending'
          group by r.id having sum(t.credits_delta) < 0) held`,
  );
  return row?.n ?? 0;
}

export const pendingHoldsMessage = (what: string, n: number) =>
  `${what} has ${n} enhancement${n === 1 ? '' : 's'} in flight (pending holds drawn on its pool). Archive it once they settle, within a few minutes; disable it first so no new ones start.`;
