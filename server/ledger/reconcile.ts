import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/client';
import { col, countRow, queryRows } from '../db/rows';

export type LedgerOffender = { userId: string; balance: number; ledgerSum: number };
/** A user whose allowance bucket went down without the month's spent allowance going up. */
export type UntrackedAllowance = { userId: string; allowanceBalance: number; spentThisPeriod: number; monthlyAllowance: number };
/** A grant whose `remaining` is not what its entries say, or a user whose bonus is not their grants' sum. */
export type GrantOffender = { grantId: string | null; userId: string; held: number; fromEntries: number };
export type LedgerCheck = {
  ok: boolean;
  usersChecked: number;
  offenders: LedgerOffender[];
  grantOffenders: GrantOffender[];
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
 * ledger entries, each grant's remaining credits equal what its entries gave and took (from its
 * opening amount), each user's bonus equals their unexpired grants' sum, and no hold is left
 * pending long past its expiry. Also that every credit taken
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
  const grantOffenders = (
    await queryRows(
      db,
      z.object({ grant_id: col.id.nullable(), user_id: col.text, held: col.integer, from_entries: col.integer }),
      sql`
      with deltas as (
        select (d->>0)::bigint as grant_id, sum((d->>1)::int) as delta
        from credit_transactions t, jsonb_array_elements(t.grant_draws) d
        where t.grant_draws is not null group by 1
      ), grants as (
        select g.id::text as grant_id, g.user_id, g.remaining as held, (g.opening_credits + coalesce(d.delta, 0))::text as from_entries
        from credit_grants g left join deltas d on d.grant_id = g.id
        where g.remaining <> g.opening_credits + coalesce(d.delta, 0)
      ), bonus as (
        select null::text as grant_id, uc.user_id, uc.bonus_balance as held, coalesce(s.held, 0)::text as from_entries
        from user_credits uc
        left join (select user_id, sum(remaining) as held from credit_grants where expired_at is null group by user_id) s on s.user_id = uc.user_id
        where uc.bonus_balance <> coalesce(s.held, 0)
      )
      select * from grants union all select * from bonus`,
    )
  ).map((r) => ({ grantId: r.grant_id, userId: r.user_id, held: r.held, fromEntries: r.from_entries }));
  const [overdue] = await queryRows(
    db,
    countRow,
    sql`select count(*)::int as n from credit_reservations
        where status = 'pending' and expires_at < now() - make_interval(secs => ${opts.holdGraceSeconds ?? 120})`,
  );
  const overduePendingHolds = overdue?.n ?? 0;
  return {
    ok: offenders.length === 0 && grantOffenders.length === 0 && untrackedAllowance.length === 0 && overduePendingHolds === 0,
    usersChecked: rows[0]?.checked ?? 0,
    offenders,
    grantOffenders,
    untrackedAllowance,
    overduePendingHolds,
  };
}
