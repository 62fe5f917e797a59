import { and, eq, inArray, sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Tier } from '../../shared/enums';
import type { DbOrTx } from '../db/client';
import { changeTier } from '../ledger/admin-ops';
import { users } from '../ledger/tables';
import { stripePrices, stripeSubscriptions } from './tables';
import { findUser, idOf, ignored, stripeActor, type EventOutcome } from './event-outcome';

/** A subscription in one of these states gives its price's tier; any other state (or deletion) gives free. */
const TIER_GIVING_STATUSES = ['active', 'trialing', 'past_due'];

/**
 * customer.subscription.created/updated/deleted. The subscription's latest applied event is kept in
 * stripe_subscriptions; an event older than it (by Stripe's `created`) changes nothing, and at the
 * same second a deletion is final. The user's tier is then the tier of their newest tier-giving
 * subscription, or free when none is left, moved by the tier-change rule (ADR 005).
 */
export async function applySubscription(tx: DbOrTx, event: Stripe.Event, sub: Stripe.Subscription, deleted: boolean): Promise<EventOutcome> {
  const found = await findUser(tx, sub.customer, sub.metadata);
  if (found.userId === null) return ignored(found.reason, { objectId: sub.id });
  const userId = found.userId;
  const status = deleted ? 'canceled' : sub.status;
  let tier: Tier = 'free';
  let priceId: string | null = null;
  if (TIER_GIVING_STATUSES.includes(status)) {
    const priceIds = sub.items.data.map((item) => item.price.id);
    const [mapped] = priceIds.length
      ? await tx
          .select()
          .from(stripePrices)
          .where(and(inArray(stripePrices.priceId, priceIds), eq(stripePrices.kind, 'tier')))
      : [];
    if (!mapped?.tier) return ignored(`unknown price: ${priceIds.join(', ') || 'none'} is not mapped to a tier`, { userId, objectId: sub.id });
    tier = mapped.tier;
    priceId = mapped.priceId;
  }
  // Every subscription event of one user is serialised here, so the tier chosen below sees the others.
  await tx.execute(sql`select 1 from users where user_id = ${userId} for update`);
  const eventCreatedAt = new Date(event.created * 1000);
  const applied = await tx
    .insert(stripeSubscriptions)
    .values({ subscriptionId: sub.id, customerId: idOf(sub.customer) ?? '', userId, priceId, status, tier, eventId: event.id, eventCreatedAt })
    .onConflictDoUpdate({
      target: stripeSubscriptions.subscriptionId,
      set: {
        customerId: sql`excluded.customer_id`,
        userId: sql`excluded.user_id`,
        priceId: sql`excluded.price_id`,
        status: sql`excluded.status`,
        tier: sql`excluded.tier`,
        eventId: sql`excluded.event_id`,
        eventCreatedAt: sql`excluded.event_created_at`,
        updatedAt: sql`now()`,
      },
      setWhere: sql`${stripeSubscriptions.eventCreatedAt} < excluded.event_created_at
                    or (${stripeSubscriptions.eventCreatedAt} = excluded.event_created_at and ${stripeSubscriptions.status} <> 'canceled')`,
    })
    .returning({ subscriptionId: stripeSubscriptions.subscriptionId });
  if (!applied.length) {
    const [newer] = await tx.select().from(stripeSubscriptions).where(eq(stripeSubscriptions.subscriptionId, sub.id));
    return ignored(`out of order: ${newer?.eventId ?? 'a newer event'} (created ${newer?.eventCreatedAt.toISOString() ?? '?'}) was already applied to ${sub.id}`, { userId, objectId: sub.id });
  }
  const [current] = await tx
    .select({ tier: stripeSubscriptions.tier, subscriptionId: stripeSubscriptions.subscriptionId })
    .from(stripeSubscriptions)
    .where(and(eq(stripeSubscriptions.userId, userId), inArray(stripeSubscriptions.status, TIER_GIVING_STATUSES)))
    .orderBy(sql`${stripeSubscriptions.eventCreatedAt} desc, ${stripeSubscriptions.updatedAt} desc`)
    .limit(1);
  const newTier = current?.tier ?? 'free';
  const [before] = await tx.select({ tier: users.tier }).from(users).where(eq(users.userId, userId));
  const why = current && current.subscriptionId !== sub.id ? ` (subscription ${current.subscriptionId} still gives ${newTier})` : '';
  await changeTier(tx, stripeActor, { userId, tier: newTier, reason: `Stripe ${event.type} ${sub.id} (${status}${priceId ? `, ${priceId}` : ''})${why}` });
  return {
    outcome: 'processed',
    reason: before?.tier === newTier ? `tier stays ${newTier}${why}` : `tier ${before?.tier ?? '?'} → ${newTier}${why}`,
    userId,
    objectId: sub.id,
  };
}
