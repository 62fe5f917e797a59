import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import type { StripeEventOutcome, StripeEventView } from '../../shared/payments';
import type { DbOrTx } from '../db/client';
import { stripeEvents } from './tables';

type EventRow = typeof stripeEvents.$inferSelect;

export const toEventView = (r: EventRow): StripeEventView => ({
  id: String(r.id),
  eventId: r.eventId,
  type: r.type,
  eventCreatedAt: r.eventCreatedAt?.toISOString() ?? null,
  outcome: r.outcome,
  reason: r.reason,
  error: r.error,
  userId: r.userId,
  objectId: r.objectId,
  creditsDelta: r.creditsDelta,
  creditsLost: r.creditsLost,
  attempts: r.attempts,
  receivedAt: r.receivedAt.toISOString(),
});

/** Events received, newest first (refusals too), optionally of one outcome. The payload stays in the database. */
export async function listStripeEvents(db: DbOrTx, input: { outcome?: StripeEventOutcome; cursor?: string; limit: number }) {
  const where: SQL[] = [];
  if (input.outcome) where.push(eq(stripeEvents.outcome, input.outcome));
  if (input.cursor) where.push(lt(stripeEvents.id, Number(input.cursor)));
  const rows = await db
    .select()
    .from(stripeEvents)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(stripeEvents.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  return { items: page.map(toEventView), nextCursor: rows.length > input.limit ? String(page[page.length - 1]!.id) : null };
}
