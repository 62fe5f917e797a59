import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { DbOrTx } from '../../db/client';
import { queryOne, queryRows } from '../../db/rows';
import { checkLedger } from '../../ledger/reconcile';
import { checkPools } from '../../pools/reconcile';

/**
 * The books balance: every balance equals its ledger, every pool its ledger, no hold is pending past
 * its expiry, and every hold was settled exactly once (one hold entry, one capture or release).
 */
export async function expectBooksBalanced(db: DbOrTx) {
  const ledger = await checkLedger(db, { holdGraceSeconds: 0 });
  expect(ledger.offenders).toEqual([]);
  expect(ledger.overduePendingHolds).toBe(0);
  expect((await checkPools(db)).offenders).toEqual([]);
  const badHolds = await queryRows<{ id: string; holds: number; settles: number; status: string }>(
    db,
    sql`
    select r.id::text, r.status,
      (select count(*) from credit_transactions t where t.reservation_id = r.id and t.transaction_type = 'hold')::int as holds,
      (select count(*) from credit_transactions t where t.reservation_id = r.id and t.transaction_type in ('capture', 'release'))::int as settles
    from credit_reservations r`,
  );
  const wrong = badHolds.filter((h) => h.holds !== 1 || (h.status === 'pending' ? h.settles !== 0 : h.settles !== 1));
  expect(wrong).toEqual([]);
}

export async function pendingHolds(db: DbOrTx): Promise<number> {
  const row = await queryOne<{ n: number }>(db, sql`select count(*)::int as n from credit_reservations where status = 'pending'`);
  return Number(row!.n);
}
