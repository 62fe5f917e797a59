import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/client';
import { col, queryOne } from '../db/rows';
import { requestEntries } from '../analytics/day-aggregates';
import { today } from '../analytics/days';

/** Today's requests, credits and cost: the live figures' share of the ledger (the nightly summary's definition). */
export type TodayTotals = { day: string; requests: number; credits: number; costUsd: string };

const totalsRow = z.object({ requests: col.integer, credits: col.integer, cost_usd: col.decimal });

const totalsOf = (base: { requests: number; credits: number; costUsd: string }) => sql`
  select (${base.requests}::int + count(*))::int as requests,
         (${base.credits}::int + coalesce(sum(e.credits_used) filter (where e.ok), 0))::int as credits,
         (${base.costUsd}::numeric + coalesce(sum(e.cost_usd) filter (where e.ok), 0))::numeric(14,6)::text as cost_usd`;

/**
 * Today's request entries with ids up to `upToId` (all of them when null): an index range over
 * today's rows, so its cost grows with the day; the hub runs it rarely and adds the rest.
 */
export async function countToday(db: DbOrTx, upToId: number | null = null): Promise<TodayTotals> {
  const day = today();
  const only = upToId === null ? undefined : sql`t.id <= ${upToId}`;
  const row = await queryOne(db, totalsRow, sql`${totalsOf({ requests: 0, credits: 0, costUsd: '0' })} from (${requestEntries(day, day, only)}) e`);
  return { day, requests: row!.requests, credits: row!.credits, costUsd: row!.cost_usd };
}

/**
 * `base` plus the request entries among `ids` (rows that became visible after the snapshot `base`
 * was counted in): primary-key lookups, so the cost follows the new rows, not the day's. The sum of
 * money stays in PostgreSQL's numeric.
 */
export async function addToToday(db: DbOrTx, base: TodayTotals, ids: readonly string[]): Promise<TodayTotals> {
  if (ids.length === 0) return base;
  // The ids are looked up first (offset 0 keeps PostgreSQL from folding the subquery into the day's
  // created_at range, which it may prefer and which reads every row of the day).
  const rows = sql`(select * from credit_transactions where id = any(${`{${ids.join(',')}}`}::bigint[]) offset 0)`;
  const row = await queryOne(db, totalsRow, sql`${totalsOf(base)} from (${requestEntries(base.day, base.day, undefined, rows)}) e`);
  return { day: base.day, requests: row!.requests, credits: row!.credits, costUsd: row!.cost_usd };
}
