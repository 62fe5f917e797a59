import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { LiveAlert, LiveProvider } from '../../shared/live';
import type { DbOrTx } from '../db/client';
import { col, queryRows } from '../db/rows';
import { isoUtc } from '../db/sql-helpers';

const providerStateRow = z.object({ name: col.text, is_active: col.bool, healthy: col.bool.nullable(), archived: col.bool, pool_status: col.textOrNull });

/** Every provider's routing state (a small table, read once per hub tick, never per subscriber). */
export async function providerStates(db: DbOrTx): Promise<LiveProvider[]> {
  const rows = await queryRows(
    db,
    providerStateRow,
    sql`select a.name, a.is_active, a.last_health_ok as healthy, a.archived_at is not null as archived,
               (select status from credit_pools p where p.provider = a.name) as pool_status
        from api_providers a order by a.priority, a.name`,
  );
  return rows.map((r) => ({ name: r.name, isActive: r.is_active, healthy: r.healthy, archived: r.archived, poolStatus: r.pool_status }));
}

const openAlertRow = z.object({
  id: col.id,
  type: col.text,
  level: col.text,
  subject: col.text,
  message: col.text,
  status: col.text,
  occurrences: col.integer,
  last_seen_at: col.text,
});

/** The unresolved alerts (the partial set an operator watches; repeats move occurrences and last seen). */
export async function openAlerts(db: DbOrTx): Promise<LiveAlert[]> {
  const rows = await queryRows(
    db,
    openAlertRow,
    sql`select id::text as id, type, level, subject, message, status, occurrences, ${isoUtc(sql`last_seen_at`)} as last_seen_at
        from system_alerts where status <> 'resolved' order by id desc limit 200`,
  );
  return rows.map((r) => ({ id: r.id, type: r.type, level: r.level, subject: r.subject, message: r.message, status: r.status, occurrences: r.occurrences, lastSeenAt: r.last_seen_at }));
}
