import type { DbOrTx } from '../db/client';
import { countRow, queryOne } from '../db/rows';
import { monthlyResetSql } from './reset-sql';

/**
 * The monthly reset for every user in one statement (the rule itself is `monthlyResetSql`): each
 * user whose last reset is before the month of `at` gets the tier's current allowance, with one
 * `allocation` entry for the difference. A second run in the same month finds nobody due and changes nothing.
 */
export async function allocateMonthlyCredits(db: DbOrTx, opts: { at?: Date } = {}): Promise<{ usersReset: number }> {
  const row = await queryOne(db, countRow, monthlyResetSql({ at: opts.at }));
  return { usersReset: row?.n ?? 0 };
}
