import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { z } from 'zod';
import type { Tier } from '../../shared/enums';
import type { DbOrTx } from '../db/client';
import { col, countRow, queryOne } from '../db/rows';
import { checkLedger } from '../ledger/reconcile';
import { upsertUser } from '../ledger/users';
import { uniqueId } from './harness';

export const key = () => `idem-${randomUUID()}`;

export async function newUser(db: DbOrTx, tier: Tier) {
  const userId = uniqueId(tier);
  await upsertUser(db, { userId, tier, email: `${userId}@example.com` });
  return userId;
}

/** Puts a given number of credits in the user's allowance bucket (a test's starting state), as an adjustment would. */
export async function setAllowanceBalance(db: DbOrTx, userId: string, credits: number) {
  const row = await queryOne(db, z.object({ current_balance: col.integer }), sql`select current_balance from user_credits where user_id = ${userId}`);
  const delta = credits - row!.current_balance;
  await db.execute(sql`
    with u as (
      update user_credits set current_balance = ${credits}, allowance_spent_this_period = allowance_spent_this_period - ${delta}
      where user_id = ${userId} returning current_balance + bonus_balance as total)
    insert into credit_transactions (user_id, transaction_type, credits_delta, balance_after, source, reason)
    select ${userId}, 'adjustment', ${delta}, total, 'user_credits', 'test setup' from u`);
}

export async function balanceRow(db: DbOrTx, userId: string) {
  const row = await queryOne(
    db,
    z.object({ current_balance: col.integer, bonus_balance: col.integer, consumed_this_month: col.integer }),
    sql`select current_balance, bonus_balance, consumed_this_month from user_credits where user_id = ${userId}`,
  );
  return { allowance: row!.current_balance, bonus: row!.bonus_balance, total: row!.current_balance + row!.bonus_balance, consumed: row!.consumed_this_month };
}

export async function countEntries(db: DbOrTx, userId: string, type?: string) {
  const row = await queryOne(db, countRow, sql`select count(*)::int as n from credit_transactions where user_id = ${userId} ${type ? sql`and transaction_type = ${type}` : sql``}`);
  return row!.n;
}

/** Every scenario ends here: balances equal the sum of their ledger entries, spent allowance is counted, no stale holds. */
export async function expectLedgerClean(db: DbOrTx) {
  const check = await checkLedger(db);
  expect(check.offenders).toEqual([]);
  expect(check.grantOffenders).toEqual([]);
  expect(check.untrackedAllowance).toEqual([]);
  expect(check.overduePendingHolds).toBe(0);
  expect(check.ok).toBe(true);
}

export async function reasonOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'OK',
    (e: { cause?: { reason?: string }; reason?: string; code?: string }) => e.cause?.reason ?? e.reason ?? e.code ?? 'UNKNOWN',
  );
}
