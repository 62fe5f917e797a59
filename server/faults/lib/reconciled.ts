import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { z } from 'zod';
import type { DbOrTx } from '../../db/client';
import { col, countRow, queryRows } from '../../db/rows';
import { checkLedger } from '../../ledger/reconcile';
import { expectLedgerClean } from '../../test/ledger-helpers';
import { expectPoolsClean } from '../../test/pool-helpers';

/** Reservations whose ledger is not one hold entry plus (once settled) exactly one capture or release. */
export async function badlySettledReservations(db: DbOrTx) {
  const rows = await queryRows(
    db,
    z.object({ id: col.id, status: col.text, holds: col.integer, settles: col.integer }),
    sql`
    select r.id::text, r.status,
      (select count(*) from credit_transactions t where t.reservation_id = r.id and t.transaction_type = 'hold')::int as holds,
      (select count(*) from credit_transactions t where t.reservation_id = r.id and t.transaction_type in ('capture', 'release'))::int as settles
    from credit_reservations r`,
  );
  return rows.filter((r) => r.holds !== 1 || r.settles !== (r.status === 'pending' ? 0 : 1));
}

/**
 * Every fault scenario ends here: balances and pools equal their ledgers, no hold is pending past
 * its expiry (no grace), and every hold was settled at most once, by exactly one entry.
 */
export async function expectReconciled(db: DbOrTx) {
  await expectLedgerClean(db);
  await expectPoolsClean(db);
  expect((await checkLedger(db, { holdGraceSeconds: 0 })).overduePendingHolds).toBe(0);
  expect(await badlySettledReservations(db)).toEqual([]);
}

export async function pendingHolds(db: DbOrTx): Promise<number> {
  const [row] = await queryRows(db, countRow, sql`select count(*)::int as n from credit_reservations where status = 'pending'`);
  return row!.n;
}
