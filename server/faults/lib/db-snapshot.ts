import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { queryOne } from '../../db/rows';

/**
 * Row counts of every table a public procedure may write, plus the sum of all balances and the
 * reservations by status: equal before and after a refused call means the call wrote nothing.
 */
export async function writeSnapshot(db: DbOrTx): Promise<Record<string, string>> {
  const row = await queryOne<Record<string, string>>(
    db,
    sql`select
      (select count(*) from users)::text as users,
      (select count(*) from user_credits)::text as user_credits,
      (select coalesce(sum(current_balance + bonus_balance), 0) from user_credits)::text as balance_sum,
      (select count(*) from credit_transactions)::text as credit_transactions,
      (select count(*) from credit_reservations)::text as credit_reservations,
      (select count(*) filter (where status = 'pending') from credit_reservations)::text as pending_reservations,
      (select count(*) from enhancement_requests)::text as enhancement_requests,
      (select count(*) from api_keys)::text as api_keys,
      (select count(*) from audit_log)::text as audit_log,
      (select count(*) from admin_sessions)::text as admin_sessions,
      (select coalesce(sum(balance), 0) from credit_pool_stripes)::text as pool_balance_sum,
      (select count(*) from credit_pool_transactions)::text as credit_pool_transactions`,
  );
  return row!;
}
