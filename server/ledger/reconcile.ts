import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/client';
import { col, countRow, queryRows } from '../db/rows';

export type LedgerOffender = { userId: string; balance: number; ledgerSum: number };
/** A user whose allowance bucket went down without the month's spent allowance going up. */
export type UntrackedAllowance = { userId: string; allowanceBalance: number; spentThisPeriod: number; monthlyAllowance: number };
export type LedgerCheck = {
  ok: boolean;
  usersChecked: number;
  offenders: LedgerOffender[];
  untrackedAllowance: UntrackedAllowance[];
  overduePendingHolds: number;
};

/** Each user's balances beside the sum of their ledger entries. */
const userSumsRow = z.object({
  user_id: col.text,
  balance: col.integer,
  ledger_sum: col.integer,
  checked: col.integer,
  current_balance: col.integer,
  spent: col.integer,
  monthly_allowance: col.integer,
});

/**
 * The reconciliation: for every user the balance (allowance plus bonus) equals the sum of their
 * ledger entries, and no hold is left pending long past its expiry. Also that every credit taken
 * from the allowance bucket was counted as spent this month: the allowance balance plus the spent
 * counter is at least the allowance (equal, but for what a downgrade clamped at zero). Below it, a
 * tier change could hand those credits out again (ADR 005). Reports the offenders.
 */
export async function checkLedger(db: DbOrTx, opts: { holdGraceSeconds?: number } = {}): Promise<LedgerCheck> {
  const rows = await queryRows(
    db,
    userSumsRow,
    sql`
    with sums as (
      select user_id, sum(credits_delta) as ledger_sum from credit_transactions group by user_id
    )
    select uc.user_id, uc.current_balance + uc.bonus_balance as balance, coalesce(s.ledger_sum, 0)::text as ledger_sum,
           count(*) over ()::int as checked, uc.current_balance, uc.allowance_spent_this_period as spent, uc.monthly_allowance
    from user_credits uc left join sums s on s.user_id = uc.user_id`,
  );
  const offenders = rows.filter((r) => r.ledger_sum !== r.balance).map((r) => ({ userId: r.user_id, balance: r.balance, ledgerSum: r.ledger_sum }));
  const untrackedAllowance = rows
    .filter((r) => r.current_balance + r.spent < r.monthly_allowance)
    .map((r) => ({ userId: r.user_id, allowanceBalance: r.current_balance, spentThisPeriod: r.spent, monthlyAllowance: r.monthly_allowance }));
  const [overdue] = await queryRows(
    db,
    countRow,
    sql`select count(*)::int as n from credit_reservations
        where status = 'pending' and expires_at < now() - make_interval(secs => ${opts.holdGraceSeconds ?? 120})`,
  );
  const overduePendingHolds = overdue?.n ?? 0;
  return {
    ok: offenders.length === 0 && untrackedAllowance.length === 0 && overduePendingHolds === 0,
    usersChecked: rows[0]?.checked ?? 0,
    offenders,
    untrackedAllowance,
    overduePendingHolds,
  };
}
