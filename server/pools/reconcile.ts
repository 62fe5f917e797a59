import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/client';
import { col, queryRows } from '../db/rows';

export type PoolOffender = { provider: string; balance: number; ledgerSum: number };

const poolSumsRow = z.object({ provider: col.text, balance: col.integer, ledger_sum: col.integer });

/** The pool invariant: for every pool the sum of its stripes equals the sum of its ledger entries. */
export async function checkPools(db: DbOrTx): Promise<{ ok: boolean; offenders: PoolOffender[] }> {
  const rows = await queryRows(
    db,
    poolSumsRow,
    sql`
    select p.provider,
      (select coalesce(sum(balance), 0) from credit_pool_stripes s where s.provider = p.provider)::text as balance,
      (select coalesce(sum(credits_delta), 0) from credit_pool_transactions t where t.provider = p.provider)::text as ledger_sum
    from credit_pools p`,
  );
  const offenders = rows.filter((r) => r.balance !== r.ledger_sum).map((r) => ({ provider: r.provider, balance: r.balance, ledgerSum: r.ledger_sum }));
  return { ok: offenders.length === 0, offenders };
}
