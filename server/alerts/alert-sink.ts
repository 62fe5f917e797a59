import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { queryOne } from '../db/rows';

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
 * on it instead of opening another — one statement, so concurrent repeats cannot split it.
 */
export const recordAlert: AlertSink['notify'] = async (db, alert) => {
  const row = await queryOne<{ id: number; occurrences: number }>(
    db,
    sql`insert into system_alerts (type, level, subject, message, metadata)
        values (${alert.type}, ${alert.level}, ${alert.subject ?? ''}, ${alert.message}, ${JSON.stringify(alert.metadata ?? {})}::jsonb)
        on conflict (type, subject) where status <> 'resolved' do update set
          occurrences = system_alerts.occurrences + 1, last_seen_at = now(), message = excluded.message,
          metadata = excluded.metadata, needs_routing = true,
          level = case when excluded.level = 'critical' then 'critical' else system_alerts.level end
        returning id, occurrences`,
  );
  return { id: Number(row!.id), repeated: Number(row!.occurrences) > 1 };
};

export const databaseAlertSink: AlertSink = { notify: recordAlert };
