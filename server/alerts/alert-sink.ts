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
 * Records the alert in system_alerts in the caller's transaction. A repeat of an alert that is
 * still open is counted on it instead of opening another.
 */
export const recordAlert: AlertSink['notify'] = async (db, alert) => {
  const subject = alert.subject ?? '';
  const repeated = await queryOne<{ id: number }>(
    db,
    sql`update system_alerts set occurrences = occurrences + 1, last_seen_at = now(), message = ${alert.message},
          metadata = ${JSON.stringify(alert.metadata ?? {})}::jsonb,
          level = case when ${alert.level} = 'critical' then 'critical' else level end
        where id = (select id from system_alerts where type = ${alert.type} and subject = ${subject} and status <> 'resolved'
                    order by id desc limit 1 for update skip locked)
        returning id`,
  );
  if (repeated) return { id: Number(repeated.id), repeated: true };
  const created = await queryOne<{ id: number }>(
    db,
    sql`insert into system_alerts (type, level, subject, message, metadata)
        values (${alert.type}, ${alert.level}, ${subject}, ${alert.message}, ${JSON.stringify(alert.metadata ?? {})}::jsonb)
        returning id`,
  );
  return { id: Number(created!.id), repeated: false };
};

export const databaseAlertSink: AlertSink = { notify: recordAlert };
