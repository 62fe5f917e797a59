import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { z } from 'zod';
import { col, queryOne } from '../db/rows';
import { systemAlerts } from './tables';

export type AlertLevel = 'info' | 'warning' | 'error' | 'critical';

export type AlertInput = {
  type: string;
  level: AlertLevel;
  message: string;
  /** What the alert is about (a pool, a provider): repeats of one type + subject fold together. */
  subject?: string;
  metadata?: Record<string, unknown>;
};

/** Where domains raise alerts; the alerts domain delivers them to channels. */
export interface AlertSink {
  notify(db: DbOrTx, alert: AlertInput): Promise<{ id: number; repeated: boolean }>;
}

/**
 * Records the alert in system_alerts in the caller's transaction: the row is the outbox the
 * dispatcher delivers from after commit. A repeat of an alert still open (not resolved) is counted
 * on it instead of opening another — one statement on the open-alert unique index, so concurrent
 * repeats cannot split it. A repeat is not routed again (channels hear of the crossing, then of a
 * reminder after the repeat interval), unless it escalates the alert to critical.
 */
export const recordAlert: AlertSink['notify'] = async (db, alert) => {
  const row = await queryOne(
    db,
    z.object({ id: col.integer, occurrences: col.integer }),
    sql`insert into system_alerts (type, level, subject, message, metadata)
        values (${alert.type}, ${alert.level}, ${alert.subject ?? ''}, ${alert.message}, ${JSON.stringify(alert.metadata ?? {})}::jsonb)
        on conflict (type, subject) where status <> 'resolved' do update set
          occurrences = system_alerts.occurrences + 1, last_seen_at = now(), message = excluded.message,
          metadata = excluded.metadata,
          needs_routing = system_alerts.needs_routing or (excluded.level = 'critical' and system_alerts.level <> 'critical'),
          level = case when excluded.level = 'critical' then 'critical' else system_alerts.level end
        returning id, occurrences`,
  );
  return { id: row!.id, repeated: row!.occurrences > 1 };
};

/**
 * Closes, as resolved by the system, every unresolved alert of `type` about one of `subjects`: the
 * condition a check raised it for has cleared. Each is routed once more, for its resolved notice.
 */
export async function resolveCleared(db: DbOrTx, type: string, subjects: string[]): Promise<number> {
  if (!subjects.length) return 0;
  const rows = await db
    .update(systemAlerts)
    .set({ status: 'resolved', resolvedAt: sql`now()`, resolvedBy: 'system', needsRouting: true })
    .where(and(eq(systemAlerts.type, type), ne(systemAlerts.status, 'resolved'), inArray(systemAlerts.subject, subjects)))
    .returning({ id: systemAlerts.id });
  return rows.length;
}

/** Closes every unresolved alert of `type` whose subject is not among those still firing. */
export async function resolveAllBut(db: DbOrTx, type: string, stillFiring: string[]): Promise<number> {
  const open = await db
    .select({ subject: systemAlerts.subject })
    .from(systemAlerts)
    .where(and(eq(systemAlerts.type, type), ne(systemAlerts.status, 'resolved')));
  const firing = new Set(stillFiring);
  return resolveCleared(
    db,
    type,
    open.map((r) => r.subject).filter((s) => !firing.has(s)),
  );
}
