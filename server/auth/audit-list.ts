import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { AuditEntryView, AuditFilter, AuditListInput } from '../../shared/audit';
import type { DbOrTx } from '../db/client';
import { col, countRow, queryRows } from '../db/rows';
import { allOf, isoUtc, prefixPattern } from '../db/sql-helpers';

/** An audit_log row as `auditRowsQuery` selects it (the page's query adds its `total`). */
export const auditSqlRow = z.object({
  id: col.id,
  actor: col.text,
  action: col.text,
  target_type: col.text,
  target_id: col.textOrNull,
  before: col.json,
  after: col.json,
  reason: col.textOrNull,
  created_at: col.text,
});
export type AuditSqlRow = z.output<typeof auditSqlRow>;

/**
 * The filters of the Audit page and its export. Actor and a trailing-dot action (`pool.`) match as
 * prefixes, on text_pattern_ops indexes; the rest match exactly.
 */
export function auditWhere(f: AuditFilter): SQL {
  const where: SQL[] = [];
  if (f.actor) where.push(sql`a.actor_label like ${prefixPattern(f.actor.toLowerCase())}`);
  if (f.action) where.push(f.action.endsWith('.') ? sql`a.action like ${prefixPattern(f.action)}` : sql`a.action = ${f.action}`);
  if (f.targetType) where.push(sql`a.target_type = ${f.targetType}`);
  if (f.targetId) where.push(sql`a.target_id = ${f.targetId}`);
  if (f.from) where.push(sql`a.created_at >= ${new Date(f.from).toISOString()}::timestamptz`);
  if (f.to) where.push(sql`a.created_at <= ${new Date(f.to).toISOString()}::timestamptz`);
  return allOf(where);
}

/** Newest first by id, so `afterId` continues a keyset scan where the last batch ended. */
export function auditRowsQuery(f: AuditFilter, page: { afterId?: string | null; limit?: number | null; offset?: number; withTotal?: boolean }): SQL {
  const after = page.afterId ? sql` and a.id < ${page.afterId}::bigint` : sql``;
  return sql`
    select a.id::text as id, a.actor_label as actor, a.action, a.target_type, a.target_id,
           a.before, a.after, a.reason, ${isoUtc(sql`a.created_at`)} as created_at
           ${page.withTotal ? sql`, count(*) over ()::int as total` : sql``}
    from audit_log a
    where ${auditWhere(f)}${after}
    order by a.id desc
    ${page.limit ? sql`limit ${page.limit}` : sql``} ${page.offset ? sql`offset ${page.offset}` : sql``}`;
}

export const toAuditView = (r: AuditSqlRow): AuditEntryView => ({
  id: r.id,
  actor: r.actor,
  action: r.action,
  targetType: r.target_type,
  targetId: r.target_id,
  before: r.before,
  after: r.after,
  reason: r.reason,
  createdAt: r.created_at,
});

/** One page of the audit log, newest first, with the number of entries the filters match. */
export async function listAudit(db: DbOrTx, input: AuditListInput): Promise<{ rows: AuditEntryView[]; total: number }> {
  const rows = await queryRows(db, auditSqlRow.extend({ total: col.integer }), auditRowsQuery(input, { limit: input.pageSize, offset: input.page * input.pageSize, withTotal: true }));
  if (rows.length === 0 && input.page > 0) {
    // Past the last page: the window function has no row to carry the total on.
    const [count] = await queryRows(db, countRow, sql`select count(*)::int as n from audit_log a where ${auditWhere(input)}`);
    return { rows: [], total: count?.n ?? 0 };
  }
  return { rows: rows.map(toAuditView), total: rows[0]?.total ?? 0 };
}
