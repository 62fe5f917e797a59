import { and, eq, sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import { z } from 'zod';
import type { StripeEventView } from '../../shared/payments';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { toEventView } from './event-list';
import { applyClaimedEvent, messageOf } from './stripe-events';
import { stripeEvents } from './tables';

/** The stored event was verified when it arrived; this only proves it still has the shape dispatch reads. */
const storedEventSchema = z.looseObject({ id: z.string(), type: z.string(), created: z.number(), data: z.looseObject({ object: z.looseObject({}) }) });

/** Marks an error thrown while the event's effects ran, as opposed to the retry being refused. */
class ProcessingFailed extends Error {}

/**
 * An admin's retry of a failed event, from the payload stored when it arrived. The row is locked
 * first, so of two retries at once (or a retry and Stripe's own redelivery, whose insert waits on the
 * same row) exactly one finds it failed and applies it; the other is refused (or is a duplicate). A
 * retry that fails again rolls its effects back and keeps the row failed with the new error. Both
 * ends are audited.
 */
export async function retryStripeEvent(db: DbOrTx, actor: Actor, input: { id: string }): Promise<StripeEventView> {
  const id = Number(input.id);
  let before: { eventId: string | null; type: string | null; error: string | null; attempts: number } | undefined;
  try {
    await db.transaction(async (tx) => {
      const [row] = await tx.select().from(stripeEvents).where(eq(stripeEvents.id, id)).for('update');
      if (!row) throw new DomainError('NOT_FOUND', 'NOT_FOUND', `No Stripe event ${input.id}.`);
      if (row.outcome !== 'failed') {
        throw new DomainError(
          'CONFLICT',
          'CONFLICT',
          `Stripe event ${row.eventId ?? input.id} is ${row.outcome}, not failed: only a failed event is retried (a retry or Stripe's redelivery may have applied it already).`,
        );
      }
      const parsed = storedEventSchema.safeParse(row.payload);
      if (!parsed.success) throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `Stripe event ${row.eventId ?? input.id} has no stored payload to apply again.`);
      before = { eventId: row.eventId, type: row.type, error: row.error, attempts: row.attempts };
      await tx
        .update(stripeEvents)
        .set({ attempts: sql`${stripeEvents.attempts} + 1` })
        .where(eq(stripeEvents.id, id));
      const outcome = await applyClaimedEvent(tx, id, parsed.data as unknown as Stripe.Event).catch((err: unknown) => {
        throw new ProcessingFailed(messageOf(err));
      });
      await audit(tx, actor, {
        action: 'payments.event.retry',
        targetType: 'stripe_event',
        targetId: String(id),
        before: { ...before, outcome: 'failed' },
        after: { outcome: outcome.outcome, reason: outcome.reason, creditsDelta: outcome.creditsDelta ?? null },
      });
    });
  } catch (err) {
    if (!(err instanceof ProcessingFailed)) throw err;
    // The effects rolled back; the row stays failed, with this attempt's error.
    await db.transaction(async (tx) => {
      await tx
        .update(stripeEvents)
        .set({ error: err.message, attempts: sql`${stripeEvents.attempts} + 1` })
        .where(and(eq(stripeEvents.id, id), eq(stripeEvents.outcome, 'failed')));
      await audit(tx, actor, {
        action: 'payments.event.retry',
        targetType: 'stripe_event',
        targetId: String(id),
        before: { ...before, outcome: 'failed' },
        after: { outcome: 'failed', error: err.message },
      });
    });
  }
  const [row] = await db.select().from(stripeEvents).where(eq(stripeEvents.id, id));
  return toEventView(row!);
}
