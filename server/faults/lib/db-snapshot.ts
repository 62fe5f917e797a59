import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../../db/client';
import { col, queryOne, queryRows } from '../../db/rows';

/**
 * Row counts of every table a public procedure may write, plus the sum of all balances and the
 * reservations by status: equal before and after a refused call means the call wrote nothing.
 */
export async function writeSnapshot(db: DbOrTx): Promise<Record<string, string>> {
  const row = await queryOne(
    db,
    z.record(z.string(), col.text),
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

/**
 * A fingerprint of every table in the public schema (row count and a hash of all rows): equal
 * before and after means nothing at all was written. Tables in `countOnly` are only counted (e.g.
 * api_keys, whose last_used_at a successful key check may touch).
 */
export async function tableFingerprint(db: DbOrTx, opts: { countOnly?: string[] } = {}): Promise<Record<string, string>> {
  const tables = await queryRows(
    db,
    z.object({ name: col.text }),
    sql`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
  );
  const parts = tables.map(({ name }) =>
    opts.countOnly?.includes(name)
      ? sql`select ${name}::text as name, count(*)::text as fp from ${sql.identifier(name)}`
      : sql`select ${name}::text as name, count(*) || ':' || md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as fp from ${sql.identifier(name)} t`,
  );
  const rows = await queryRows(db, z.object({ name: col.text, fp: col.text }), sql.join(parts, sql` union all `));
  return Object.fromEntries(rows.map((r) => [r.name, r.fp]));
}

/** The tables whose fingerprints differ. */
export const changedTables = (before: Record<string, string>, after: Record<string, string>) => [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => before[k] !== after[k]);
