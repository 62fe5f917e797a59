import { and, asc, count, desc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import type { AlertHistoryInput, AlertLevelName, AlertView } from '../../shared/alerts';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { alertDeliveries, systemAlerts } from './tables';

type AlertRow = typeof systemAlerts.$inferSelect;

export const toAlertView = (r: AlertRow): AlertView => ({
  id: String(r.id),
  type: r.type,
  level: r.level as AlertView['level'],
  subject: r.subject,
  message: r.message,
  metadata: (r.metadata ?? {}) as Record<string, unknown>,
  status: r.status as AlertView['status'],
  occurrences: r.occurrences,
  createdAt: r.createdAt.toISOString(),
  lastSeenAt: r.lastSeenAt.toISOString(),
  acknowledgedAt: r.acknowledgedAt?.toISOString() ?? null,
  acknowledgedBy: r.acknowledgedBy,
  resolvedAt: r.resolvedAt?.toISOString() ?? null,
  resolvedBy: r.resolvedBy,
});

// The active list is what needs attention now; a flood beyond this belongs in the history view.
const ACTIVE_LIMIT = 500;

/** Open and acknowledged alerts, most recently seen first. */
export async function listActiveAlerts(db: DbOrTx, input: { level?: AlertLevelName }): Promise<AlertView[]> {
  const rows = await db
    .select()
    .from(systemAlerts)
    .where(and(inArray(systemAlerts.status, ['open', 'acknowledged']), input.level ? eq(systemAlerts.level, input.level) : undefined))
    .orderBy(desc(systemAlerts.lastSeenAt), desc(systemAlerts.id))
    .limit(ACTIVE_LIMIT);
  return rows.map(toAlertView);
}

/** The alert history's filters, `from`/`to` keeping the alerts active within the window; its CSV export uses them too. */
export const alertHistoryWhere = (input: Omit<AlertHistoryInput, 'page' | 'pageSize'>) =>
  and(
    input.level ? eq(systemAlerts.level, input.level) : undefined,
    input.type ? eq(systemAlerts.type, input.type) : undefined,
    input.status ? eq(systemAlerts.status, input.status) : undefined,
    input.from ? gte(systemAlerts.lastSeenAt, new Date(input.from)) : undefined,
    input.to ? lte(systemAlerts.createdAt, new Date(input.to)) : undefined,
  );

/** Every alert matching the filters, newest first. */
export async function alertHistory(db: DbOrTx, input: AlertHistoryInput) {
  const where = alertHistoryWhere(input);
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(systemAlerts)
      .where(where)
      .orderBy(desc(systemAlerts.createdAt), desc(systemAlerts.id))
      .limit(input.pageSize)
      .offset(input.page * input.pageSize),
    db.select({ n: count() }).from(systemAlerts).where(where),
  ]);
  return { rows: rows.map(toAlertView), total: total?.n ?? 0 };
}

/** Where an alert was sent: each channel's delivery, attempts and last error. */
export async function alertDeliveriesOf(db: DbOrTx, alertId: string) {
  const rows = await db
    .select()
    .from(alertDeliveries)
    .where(eq(alertDeliveries.alertId, Number(alertId)))
    .orderBy(asc(alertDeliveries.id));
  return rows.map((d) => ({
    id: String(d.id),
    alertId: String(d.alertId),
    channel: d.channel as 'slack' | 'email' | 'sms' | 'in_app',
    status: d.status as 'pending' | 'sent' | 'failed',
    attempts: d.attempts,
    nextAttemptAt: d.nextAttemptAt.toISOString(),
    lastError: d.lastError,
    createdAt: d.createdAt.toISOString(),
    sentAt: d.sentAt?.toISOString() ?? null,
  }));
}

async function notChangeable(db: DbOrTx, id: string, wanted: string): Promise<DomainError> {
  const [row] = await db
    .select({ status: systemAlerts.status })
    .from(systemAlerts)
    .where(eq(systemAlerts.id, Number(id)));
  if (!row) return new DomainError('NOT_FOUND', 'NOT_FOUND', `Alert ${id} does not exist.`);
  return new DomainError('CONFLICT', 'CONFLICT', `Alert ${id} is ${row.status}: it cannot be ${wanted}.`);
}

/** Someone is on it: open → acknowledged, with who and when. */
export async function acknowledgeAlert(db: DbOrTx, actor: Actor, input: { id: string; note?: string }): Promise<AlertView> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(systemAlerts)
      .set({ status: 'acknowledged', acknowledgedAt: sql`now()`, acknowledgedBy: actor.label })
      .where(and(eq(systemAlerts.id, Number(input.id)), eq(systemAlerts.status, 'open')))
      .returning();
    if (!row) throw await notChangeable(tx, input.id, 'acknowledged');
    const view = toAlertView(row);
    await audit(tx, actor, { action: 'alert.acknowledge', targetType: 'alert', targetId: input.id, before: { status: 'open' }, after: view, reason: input.note ?? null });
    return view;
  });
}

/**
 * Closes an open or acknowledged alert, with who and when; the channels that got it hear it is
 * resolved. Its next occurrence opens a new alert (the open-alert unique index covers unresolved rows only).
 */
export async function resolveAlert(db: DbOrTx, actor: Actor, input: { id: string; note?: string }): Promise<AlertView> {
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select({ status: systemAlerts.status })
      .from(systemAlerts)
      .where(eq(systemAlerts.id, Number(input.id)))
      .for('update');
    const [row] = await tx
      .update(systemAlerts)
      .set({ status: 'resolved', resolvedAt: sql`now()`, resolvedBy: actor.label, needsRouting: true })
      .where(and(eq(systemAlerts.id, Number(input.id)), inArray(systemAlerts.status, ['open', 'acknowledged'])))
      .returning();
    if (!row) throw await notChangeable(tx, input.id, 'resolved');
    const view = toAlertView(row);
    await audit(tx, actor, { action: 'alert.resolve', targetType: 'alert', targetId: input.id, before: { status: before?.status }, after: view, reason: input.note ?? null });
    return view;
  });
}
