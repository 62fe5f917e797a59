import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { LiveLedgerFilter, LiveLedgerRow } from '../../shared/live';
import type { DbOrTx } from '../db/client';
import { col, queryOne, queryRows } from '../db/rows';
import { isoUtc } from '../db/sql-helpers';
import { ledgerSqlRow, toLedgerRow } from '../ledger/ledger-search';

/** A gap older than this is taken for a rolled-back insert (its id is never used) and forgotten. */
export const GAP_WINDOW_MS = 15_000;
const MAX_GAPS = 64;
const BATCH = 500;
const MAX_BATCHES_PER_POLL = 6;

type Gap = { from: number; to: number; seenAt: number };
/** Where a tail stands, to put it back when the rows a poll read could not be used. */
export type TailMark = { maxId: number | null; gaps: Gap[] };

const columns = sql`ct.id::text as id, ct.user_id, u.email, ct.transaction_type, ct.source, ct.credits_used, ct.credits_delta,
  ct.balance_after, ct.cost_usd::text as cost_usd, ct.provider, ct.enhancement_type, ct.moodboard_id,
  ct.reservation_id::text as reservation_id, ct.status, ct.reason, ct.actor, ct.idempotency_key,
  null as matched_by, ${isoUtc(sql`ct.created_at`)} as created_at`;

export function liveLedgerWhere(f: LiveLedgerFilter): SQL {
  const parts: SQL[] = [sql`true`];
  if (f.userId) parts.push(sql`ct.user_id = ${f.userId}`);
  if (f.type) parts.push(sql`ct.transaction_type = ${f.type}`);
  if (f.source) parts.push(sql`ct.source = ${f.source}`);
  if (f.provider) parts.push(sql`ct.provider = ${f.provider}`);
  return sql.join(parts, sql` and `);
}

export const matchesLiveFilter = (f: LiveLedgerFilter, r: LiveLedgerRow) =>
  (!f.userId || r.userId === f.userId) && (!f.type || r.type === f.type) && (!f.source || r.source === f.source) && (!f.provider || r.provider === f.provider);

/** The newest transaction id ('0' on an empty ledger): where a stream with nothing to show resumes from. */
export async function maxLedgerId(db: DbOrTx): Promise<string> {
  const row = await queryOne(db, z.object({ max: col.textOrNull }), sql`select max(id)::text as max from credit_transactions`);
  return row?.max ?? '0';
}

/** Rows matching `f` after `afterId`, oldest first (a resumed stream's catch-up). */
export async function ledgerRowsAfter(db: DbOrTx, f: LiveLedgerFilter, afterId: string, limit: number): Promise<LiveLedgerRow[]> {
  const rows = await queryRows(
    db,
    ledgerSqlRow,
    sql`select ${columns} from credit_transactions ct join users u on u.user_id = ct.user_id
        where ct.id > ${afterId}::bigint and ${liveLedgerWhere(f)} order by ct.id limit ${limit}`,
  );
  return rows.map(toLedgerRow);
}

/** The newest `limit` rows matching `f`, oldest first (a fresh stream's opening). */
export async function latestLedgerRows(db: DbOrTx, f: LiveLedgerFilter, limit: number): Promise<LiveLedgerRow[]> {
  const rows = await queryRows(
    db,
    ledgerSqlRow,
    sql`select ${columns} from credit_transactions ct join users u on u.user_id = ct.user_id
        where ${liveLedgerWhere(f)} order by ct.id desc limit ${limit}`,
  );
  return rows.map(toLedgerRow).reverse();
}

/**
 * This process's tail of credit_transactions by id: each poll reads the rows committed since the
 * last one. Ids come from a sequence at insert time, so a transaction can commit a LOWER id after a
 * higher one is visible; the ids skipped over are kept as gaps and read again on every poll for
 * GAP_WINDOW_MS, after which they are taken for rolled-back inserts. So a late commit inside the
 * window still reaches the feed, and nothing rolled back ever does (it is never visible).
 */
export class LedgerTail {
  private maxId: number | null = null;
  private gaps: Gap[] = [];

  constructor(
    private readonly db: DbOrTx,
    private readonly now: () => number = Date.now,
  ) {}

  /** The highest id read: every row visible at the last poll with an id up to it has been returned (or its gap given up). */
  get lastId(): number | null {
    return this.maxId;
  }

  mark(): TailMark {
    return { maxId: this.maxId, gaps: this.gaps.map((g) => ({ ...g })) };
  }

  reset(mark: TailMark): void {
    this.maxId = mark.maxId;
    this.gaps = mark.gaps.map((g) => ({ ...g }));
  }

  /** Starts at the current end: history before it is the streams' own catch-up, not the tail's. */
  async start(db: DbOrTx = this.db): Promise<void> {
    this.maxId = Number(await maxLedgerId(db));
  }

  /**
   * The rows that became visible since the last poll; `db` may be a caller's snapshot (repeatable
   * read) to read more in. All or nothing: a poll that fails part-way (a batch read, the next one
   * refused) leaves the tail where it was, so the next poll returns those rows again instead of
   * having moved past rows nobody received.
   */
  async poll(db: DbOrTx = this.db): Promise<LiveLedgerRow[]> {
    if (this.maxId === null) await this.start(db);
    const mark = this.mark();
    try {
      return await this.read(db);
    } catch (err) {
      this.reset(mark);
      throw err;
    }
  }

  private async read(db: DbOrTx): Promise<LiveLedgerRow[]> {
    const out: LiveLedgerRow[] = [];
    const at = this.now();
    this.gaps = this.gaps.filter((g) => at - g.seenAt < GAP_WINDOW_MS);
    for (let batch = 0; batch < MAX_BATCHES_PER_POLL; batch++) {
      const gapSql = this.gaps.map((g) => sql` or ct.id between ${g.from} and ${g.to}`);
      const rows = await queryRows(
        db,
        ledgerSqlRow,
        sql`select ${columns} from credit_transactions ct join users u on u.user_id = ct.user_id
            where ct.id > ${this.maxId} ${sql.join(gapSql, sql``)} order by ct.id limit ${BATCH}`,
      );
      for (const r of rows) {
        const id = Number(r.id);
        if (id > this.maxId!) {
          if (id > this.maxId! + 1) this.addGap(this.maxId! + 1, id - 1, at);
          this.maxId = id;
        } else {
          this.fillGap(id);
        }
        out.push(toLedgerRow(r));
      }
      if (rows.length < BATCH) break;
    }
    return out;
  }

  private addGap(from: number, to: number, seenAt: number) {
    this.gaps.push({ from, to, seenAt });
    // Bounded: past MAX_GAPS the oldest are given up first (they are the likeliest rollbacks).
    if (this.gaps.length > MAX_GAPS) this.gaps.splice(0, this.gaps.length - MAX_GAPS);
  }

  private fillGap(id: number) {
    const i = this.gaps.findIndex((g) => id >= g.from && id <= g.to);
    if (i < 0) return;
    const g = this.gaps[i]!;
    const rest: Gap[] = [];
    if (g.from < id) rest.push({ from: g.from, to: id - 1, seenAt: g.seenAt });
    if (id < g.to) rest.push({ from: id + 1, to: g.to, seenAt: g.seenAt });
    this.gaps.splice(i, 1, ...rest);
  }
}
