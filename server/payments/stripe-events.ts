import { eq, sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { DbOrTx } from '../db/client';
import { describeError } from '../db/errors';
import { stripeEvents } from './tables';
import { ignored, type EventOutcome } from './event-outcome';
import { applyCheckout, applyDispute, applyDisputeClosed, applyRefund } from './pack-events';
import { applySubscription } from './subscription-events';

export type AppliedEvent = { duplicate: true } | { duplicate: false; outcome: EventOutcome } | { duplicate: false; failed: string };

/** Each event type Creditdesk acts on, to its handler: subscriptions set tiers, Checkout grants packs, refunds and disputes take them back. */
async function dispatch(tx: DbOrTx, event: Stripe.Event): Promise<EventOutcome> {
  switch (event.type) {
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
      return applySubscription(tx, event, event.data.object, false);
    case 'customer.subscription.deleted':
      return applySubscription(tx, event, event.data.object, true);
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
      return applyCheckout(tx, event, event.data.object);
    case 'charge.refunded':
      return applyRefund(tx, event.data.object);
    case 'charge.dispute.created':
      return applyDispute(tx, event.data.object);
    case 'charge.dispute.closed':
      return applyDisputeClosed(tx, event.data.object);
    default:
      return ignored(`event type ${event.type} is not one Creditdesk acts on`);
  }
}

export const messageOf = (err: unknown) => describeError(err).slice(0, 2000);

/** Applies a claimed event (its stripe_events row `id`, locked by the caller's transaction) and records what it did on that row. */
export async function applyClaimedEvent(tx: DbOrTx, id: number, event: Stripe.Event): Promise<EventOutcome> {
  const outcome = await dispatch(tx, event);
  await tx
    .update(stripeEvents)
    .set({
      outcome: outcome.outcome,
      reason: outcome.reason,
      error: null,
      userId: outcome.userId ?? null,
      objectId: outcome.objectId ?? null,
      creditsDelta: outcome.creditsDelta ?? null,
      creditsLost: outcome.creditsLost ?? null,
    })
    .where(eq(stripeEvents.id, id));
  return outcome;
}

/**
 * One verified event, exactly once: its stripe_events row is inserted in the transaction of its
 * effects, and the unique event id makes a second delivery (also one arriving at the same moment,
 * which waits on the first's insert) find it and change nothing. A failure rolls the effects back and
 * records the event as failed; a later delivery of a failed event (or an admin's retry) processes it again.
 */
export async function applyStripeEvent(db: DbOrTx, event: Stripe.Event): Promise<AppliedEvent> {
  const row = { eventId: event.id, type: event.type, eventCreatedAt: new Date(event.created * 1000), payload: event as unknown };
  try {
    return await db.transaction(async (tx): Promise<AppliedEvent> => {
      const [claim] = await tx
        .insert(stripeEvents)
        .values({ ...row, outcome: 'processed' })
        .onConflictDoUpdate({
          target: stripeEvents.eventId,
          set: { outcome: 'processed', error: null, attempts: sql`${stripeEvents.attempts} + 1` },
          setWhere: sql`${stripeEvents.outcome} = 'failed'`,
        })
        .returning({ id: stripeEvents.id });
      if (!claim) return { duplicate: true };
      return { duplicate: false, outcome: await applyClaimedEvent(tx, claim.id, event) };
    });
  } catch (err) {
    const error = messageOf(err);
    await db
      .insert(stripeEvents)
      .values({ ...row, outcome: 'failed', error })
      .onConflictDoUpdate({
        target: stripeEvents.eventId,
        set: { error, attempts: sql`${stripeEvents.attempts} + 1` },
        setWhere: sql`${stripeEvents.outcome} = 'failed'`,
      });
    return { duplicate: false, failed: error };
  }
}

/** A request whose signature did not hold: recorded, nothing in its body believed or acted on. */
export async function recordRefusal(db: DbOrTx, reason: string): Promise<void> {
  await db.insert(stripeEvents).values({ outcome: 'refused', reason: reason.slice(0, 500) });
}
