import { and, asc, eq, gt, isNull, lte, or, sql } from 'drizzle-orm';
import type { CreateSilenceInput, SilenceView } from '../../shared/alerts';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { alertSilences } from './tables';

type SilenceRow = typeof alertSilences.$inferSelect;

export const toSilenceView = (r: SilenceRow): SilenceView => ({
  id: String(r.id),
  alertType: r.alertType,
  subject: r.subject,
  reason: r.reason,
  startsAt: r.startsAt.toISOString(),
  endsAt: r.endsAt.toISOString(),
  createdBy: r.createdBy,
  endedAt: r.endedAt?.toISOString() ?? null,
  endedBy: r.endedBy,
});

/** A silence in force at `now`: started, not yet over, not ended by an admin. */
const inForce = (now: Date) => and(isNull(alertSilences.endedAt), lte(alertSilences.startsAt, now), gt(alertSilences.endsAt, now));

/** The silences in force now, soonest to end first. */
export async function listActiveSilences(db: DbOrTx, now = new Date()): Promise<SilenceView[]> {
  const rows = await db.select().from(alertSilences).where(inForce(now)).orderBy(asc(alertSilences.endsAt), asc(alertSilences.id));
  return rows.map(toSilenceView);
}

/** The id of a silence in force at `now` for this type and subject (a type-wide one matches every subject). */
export async function silenceFor(db: DbOrTx, alert: { type: string; subject: string }, now: Date): Promise<number | null> {
  const [row] = await db
    .select({ id: alertSilences.id })
    .from(alertSilences)
    .where(and(inForce(now), eq(alertSilences.alertType, alert.type), or(isNull(alertSilences.subject), eq(alertSilences.subject, alert.subject))))
    .orderBy(asc(alertSilences.id))
    .limit(1);
  return row?.id ?? null;
}

export async function createSilence(db: DbOrTx, actor: Actor, input: CreateSilenceInput): Promise<SilenceView> {
  const endsAt = new Date(input.endsAt);
  if (endsAt.getTime() <= Date.now()) throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', 'endsAt must be in the future.');
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(alertSilences).values({ alertType: input.alertType, subject: input.subject, reason: input.reason, endsAt, createdBy: actor.label }).returning();
    const view = toSilenceView(row!);
    await audit(tx, actor, { action: 'alert.silence.create', targetType: 'alert_silence', targetId: view.id, after: view, reason: input.reason });
    return view;
  });
}

/** Ends a silence before its time: the alerts it held back are sent by the next dispatch. */
export async function endSilence(db: DbOrTx, actor: Actor, input: { id: string }): Promise<SilenceView> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(alertSilences)
      .set({ endedAt: sql`now()`, endedBy: actor.label })
      .where(and(eq(alertSilences.id, Number(input.id)), isNull(alertSilences.endedAt), gt(alertSilences.endsAt, sql`now()`)))
      .returning();
    if (!row) {
      const [exists] = await tx
        .select({ id: alertSilences.id })
        .from(alertSilences)
        .where(eq(alertSilences.id, Number(input.id)));
      if (!exists) throw new DomainError('NOT_FOUND', 'NOT_FOUND', `Silence ${input.id} does not exist.`);
      throw new DomainError('CONFLICT', 'CONFLICT', `Silence ${input.id} is already over.`);
    }
    const view = toSilenceView(row);
    await audit(tx, actor, { action: 'alert.silence.end', targetType: 'alert_silence', targetId: input.id, after: view });
    return view;
  });
}
