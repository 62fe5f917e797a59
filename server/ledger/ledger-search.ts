import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { creditSourceSchema } from '../../shared/credits';
import { ledgerRowSchema, type LedgerFilter, type LedgerRow, type LedgerSearchInput } from '../../shared/ledger';
import type { DbOrTx } from '../db/client';
import { col, countRow, queryRows } from '../db/rows';
import { allOf, isoUtc } from '../db/sql-helpers';

/** A credit_transactions row with its user's email, as the explorer and the live tail select it. */
export const ledgerSqlRow = z.object({
  id: col.id,
  user_id: col.text,
  email: col.textOrNull,
  transaction_type: col.text,
  source: creditSourceSchema.nullable(),
  credits_used: col.integer,
  credits_delta: col.integer,
  balance_after: col.integer,
  cost_usd: col.decimalOrNull,
  provider: col.textOrNull,
  enhancement_type: col.textOrNull,
  moodboard_id: col.textOrNull,
  reservation_id: col.textOrNull,
  status: col.text,
  reason: col.textOrNull,
  actor: col.textOrNull,
  idempotency_key: col.textOrNull,
  matched_by: ledgerRowSchema.shape.matchedBy,
  created_at: col.text,
});
export type LedgerSqlRow = z.output<typeof ledgerSqlRow>;

const transactionNumber = (q: string) => (/^\d{1,18}$/.test(q) ? q : null);

/**
 * The search key matches a transaction number, an idempotency key, a user id or a user's email,
 * exactly: an OR of the primary key, the idempotency unique index and the (user_id, id) index,
 * the users to look for resolved first by user id or email (users_email_idx).
 */
function queryMatch(q: string): { where: SQL; matchedBy: SQL } {
  const id = transactionNumber(q);
  const idMatch = id ? sql`ct.id = ${id}::bigint` : sql`false`;
  const userIds = sql`array(select u.user_id from users u where u.user_id = ${q} or u.email = ${q.toLowerCase()})`;
  return {
    where: sql`(${idMatch} or ct.idempotency_key = ${q} or ct.user_id = any(${userIds}))`,
    matchedBy: sql`case when ${idMatch} then 'transactionId' when ct.idempotency_key = ${q} then 'idempotencyKey' when ct.user_id = ${q} then 'userId' else 'email' end`,
  };
}

export function ledgerWhere(f: LedgerFilter): SQL {
  const where: SQL[] = [];
  if (f.query) where.push(queryMatch(f.query).where);
  if (f.type) where.push(sql`ct.transaction_type = ${f.type}`);
  if (f.source) where.push(sql`ct.source = ${f.source}`);
  if (f.provider) where.push(sql`ct.provider = ${f.provider}`);
  if (f.from) where.push(sql`ct.created_at >= ${new Date(f.from).toISOString()}::timestamptz`);
  if (f.to) where.push(sql`ct.created_at <= ${new Date(f.to).toISOString()}::timestamptz`);
  return allOf(where);
}

/** Newest first by id, so `afterId` continues a keyset scan where the last batch ended. */
export function ledgerRowsQuery(f: LedgerFilter, page: { afterId?: string | null; limit?: number | null; offset?: number; withTotal?: boolean }): SQL {
  const after = page.afterId ? sql` and ct.id < ${page.afterId}::bigint` : sql``;
  return sql`
    select ct.id::text as id, ct.user_id, u.email, ct.transaction_type, ct.source, ct.credits_used, ct.credits_delta,
           ct.balance_after, ct.cost_usd::text as cost_usd, ct.provider, ct.enhancement_type, ct.moodboard_id,
           ct.reservation_id::text as reservation_id, ct.status, ct.reason, ct.actor, ct.idempotency_key,
           ${f.query ? queryMatch(f.query).matchedBy : sql`null`} as matched_by,
           ${isoUtc(sql`ct.created_at`)} as created_at
           ${page.withTotal ? sql`, count(*) over ()::int as total` : sql``}
    from credit_transactions ct join users u on u.user_id = ct.user_id
    where ${ledgerWhere(f)}${after}
    order by ct.id desc
    ${page.limit ? sql`limit ${page.limit}` : sql``} ${page.offset ? sql`offset ${page.offset}` : sql``}`;
}

export const toLedgerRow = (r: LedgerSqlRow): LedgerRow => ({
  transactionId: r.id,
  userId: r.user_id,
  email: r.email,
  type: r.transaction_type,
  source: r.source,
  creditsUsed: r.credits_used,
  creditsDelta: r.credits_delta,
  balanceAfter: r.balance_after,
  costUsd: r.cost_usd,
  provider: r.provider,
  enhancementType: r.enhancement_type,
  moodboardId: r.moodboard_id,
  reservationId: r.reservation_id,
  status: r.status,
  reason: r.reason,
  actor: r.actor,
  idempotencyKey: r.idempotency_key,
  matchedBy: r.matched_by,
  createdAt: r.created_at,
});

/** How far past the page's first row the total is counted exactly; beyond it the total is a lower bound. */
export const LEDGER_TOTAL_CAP = 1000;

/** The filters other than the search key, for the branches that each match one key; only rows older than `before` when given. */
const restWhere = (f: LedgerFilter & { before?: string }) => {
  const rest = ledgerWhere({ ...f, query: undefined });
  return f.before ? sql`${rest} and ct.id < ${f.before}::bigint` : rest;
};

/**
 * The ids of the newest `n` matching transactions, newest first. A search key is split into one
 * branch per key it can match (each user it names, its idempotency key, its transaction number),
 * each read newest first from its own index and stopped after `n`: an OR of the keys would read
 * every entry of a heavy user (a bitmap of all of them, then a sort) to show 50.
 */
function newestIds(f: LedgerFilter & { before?: string }, userIds: { user_id: string }[], n: number): SQL {
  const rest = restWhere(f);
  if (!f.query) return sql`select ct.id from credit_transactions ct where ${rest} order by ct.id desc limit ${n}`;
  const q = f.query;
  const id = transactionNumber(q);
  const branches = [
    ...userIds.map((u) => sql`(select ct.id from credit_transactions ct where ct.user_id = ${u.user_id} and ${rest} order by ct.id desc limit ${n})`),
    sql`(select ct.id from credit_transactions ct where ct.idempotency_key = ${q} and ${rest})`,
    ...(id ? [sql`(select ct.id from credit_transactions ct where ct.id = ${id}::bigint and ${rest})`] : []),
  ];
  return sql`select m.id from (${sql.join(branches, sql` union `)}) m order by m.id desc limit ${n}`;
}

/**
 * One page of transactions across all users, newest first, with how many match: exact up to
 * LEDGER_TOTAL_CAP rows past the page's start, else that bound with `totalExact` false, so neither
 * the page nor its count reads more of a user's (or the whole) ledger than it shows. Given
 * `before` (the last row of the page before), the page and its count start at that row: the
 * total is the pages before it plus what is counted from there.
 */
export async function searchLedger(db: DbOrTx, input: LedgerSearchInput, totalCap = LEDGER_TOTAL_CAP): Promise<{ rows: LedgerRow[]; total: number; totalExact: boolean }> {
  const earlier = input.page * input.pageSize;
  const offset = input.before ? 0 : earlier;
  // The users the key names (by user id or email), resolved first: each gets its own branch.
  const userIds = input.query ? await queryRows(db, z.object({ user_id: col.text }), sql`select user_id from users where user_id = ${input.query} or email = ${input.query.toLowerCase()}`) : [];
  const pageIds = newestIds(input, userIds, offset + input.pageSize);
  const rows = await queryRows(
    db,
    ledgerSqlRow,
    sql`
    select ct.id::text as id, ct.user_id, u.email, ct.transaction_type, ct.source, ct.credits_used, ct.credits_delta,
           ct.balance_after, ct.cost_usd::text as cost_usd, ct.provider, ct.enhancement_type, ct.moodboard_id,
           ct.reservation_id::text as reservation_id, ct.status, ct.reason, ct.actor, ct.idempotency_key,
           ${input.query ? queryMatch(input.query).matchedBy : sql`null`} as matched_by,
           ${isoUtc(sql`ct.created_at`)} as created_at
    from credit_transactions ct join users u on u.user_id = ct.user_id
    where ct.id in (select p.id from (${pageIds}) p order by p.id desc offset ${offset})
    order by ct.id desc`,
  );
  const cap = offset + totalCap;
  const [count] = await queryRows(db, countRow, sql`select count(*)::int as n from (${newestIds(input, userIds, cap + 1)}) c`);
  const n = count?.n ?? 0;
  return { rows: rows.map(toLedgerRow), total: earlier - offset + Math.min(n, cap), totalExact: n <= cap };
}
