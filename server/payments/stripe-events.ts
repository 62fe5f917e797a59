import { and, eq, inArray, sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Tier } from '../../shared/enums';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { describeError } from '../db/errors';
import { col, queryOne } from '../db/rows';
import { changeTier, grantCredits } from '../ledger/admin-ops';
import { creditTransactions, users } from '../ledger/tables';
import { lockCredits } from '../ledger/user-credits';
import { findPrice } from './prices';
import { stripeEvents, stripePackGrants, stripePrices, stripeSubscriptions } from './tables';
import { z } from 'zod';

/** Who the audit log and the ledger name for what Stripe's events change. */
export const stripeActor: Actor = { adminId: null, label: 'stripe' };

/** What a verified event did, as recorded on its stripe_events row. */
export type EventOutcome = {
  outcome: 'processed' | 'ignored';
  reason: string;
  userId?: string | null;
  objectId?: string | null;
  creditsDelta?: number | null;
  creditsLost?: number | null;
};

export type AppliedEvent = { duplicate: true } | { duplicate: false; outcome: EventOutcome } | { duplicate: false; failed: string };

/** A subscription in one of these states gives its price's tier; any other state (or deletion) gives free. */
const TIER_GIVING_STATUSES = ['active', 'trialing', 'past_due'];

const ignored = (reason: string, extra: Omit<EventOutcome, 'outcome' | 'reason'> = {}): EventOutcome => ({ outcome: 'ignored', reason, ...extra });

const idOf = (ref: string | { id: string } | null | undefined): string | null => (typeof ref === 'string' ? ref : (ref?.id ?? null));

type FoundUser = { userId: string } | { userId: null; reason: string };

/**
 * The user an event is about: the one linked to its customer (users.upsert's stripeCustomerId), else
 * the one its object's (or its expanded customer's) `metadata.creditdesk_user_id` names.
 */
async function findUser(tx: DbOrTx, customer: string | Stripe.Customer | Stripe.DeletedCustomer | null, metadata: Stripe.Metadata | null | undefined): Promise<FoundUser> {
  const customerId = idOf(customer);
  if (customerId) {
    const [linked] = await tx.select({ userId: users.userId }).from(users).where(eq(users.stripeCustomerId, customerId));
    if (linked) return linked;
  }
  const customerMetadata = customer && typeof customer === 'object' && !customer.deleted ? customer.metadata : undefined;
  const named = metadata?.creditdesk_user_id ?? customerMetadata?.creditdesk_user_id;
  if (named) {
    const [user] = await tx.select({ userId: users.userId }).from(users).where(eq(users.userId, named));
    if (user) return user;
    return { userId: null, reason: `unknown user: metadata.creditdesk_user_id names ${named}, which does not exist` };
  }
  return {
    userId: null,
    reason: customerId
      ? `unknown customer: no user is linked to ${customerId} (users.upsert stripeCustomerId) and the event carries no metadata.creditdesk_user_id`
      : 'unknown customer: the event names no customer and carries no metadata.creditdesk_user_id',
  };
}

/**
 * customer.subscription.created/updated/deleted. The subscription's latest applied event is kept in
 * stripe_subscriptions; an event older than it (by Stripe's `created`) changes nothing, and at the
 * same second a deletion is final. The user's tier is then the tier of their newest tier-giving
 * subscription, or free when none is left, moved by the tier-change rule (ADR 005).
 */
async function applySubscription(tx: DbOrTx, event: Stripe.Event, sub: Stripe.Subscription, deleted: boolean): Promise<EventOutcome> {
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

/** checkout.session.completed (or its async_payment_succeeded) for a price mapped to a pack: its credits, once per session. */
async function applyCheckout(tx: DbOrTx, event: Stripe.Event, session: Stripe.Checkout.Session): Promise<EventOutcome> {
  const objectId = session.id;
  if (session.mode !== 'payment') return ignored(`a ${session.mode} checkout: subscriptions set tiers through customer.subscription.* events`, { objectId });
  if (session.payment_status !== 'paid') return ignored(`payment_status is ${session.payment_status}: a pack is granted once paid`, { objectId });
  const priceId = session.metadata?.creditdesk_price_id;
  if (!priceId) return ignored('no metadata.creditdesk_price_id: the session names no credit pack', { objectId });
  const price = await findPrice(tx, priceId);
  if (!price || price.kind !== 'pack' || !price.credits) return ignored(`unknown price: ${priceId} is not mapped to a credit pack`, { objectId });
  const found = await findUser(tx, session.customer, session.metadata);
  if (found.userId === null) return ignored(found.reason, { objectId });
  const userId = found.userId;
  const [claim] = await tx
    .insert(stripePackGrants)
    .values({
      checkoutSessionId: session.id,
      paymentIntentId: idOf(session.payment_intent),
      eventId: event.id,
      userId,
      priceId,
      credits: price.credits,
      amountPaid: session.amount_total,
      currency: session.currency,
    })
    .onConflictDoNothing({ target: stripePackGrants.checkoutSessionId })
    .returning({ id: stripePackGrants.id });
  if (!claim) return ignored(`checkout ${session.id} was already granted its pack`, { userId, objectId });
  const expiresAt = price.expiresInDays ? new Date(Date.now() + price.expiresInDays * 86_400_000).toISOString() : undefined;
  const { transaction, grantId } = await grantCredits(tx, stripeActor, {
    userId,
    credits: price.credits,
    kind: 'paid',
    reason: `Stripe credit pack ${priceId} (checkout ${session.id})`,
    ...(expiresAt ? { expiresAt } : {}),
  });
  await tx
    .update(stripePackGrants)
    .set({ transactionId: Number(transaction.transactionId), creditGrantId: grantId })
    .where(eq(stripePackGrants.id, claim.id));
  return { outcome: 'processed', reason: `granted ${price.credits} credits (pack ${priceId}${expiresAt ? `, expiring ${expiresAt}` : ''})`, userId, objectId, creditsDelta: price.credits };
}

type PackGrant = typeof stripePackGrants.$inferSelect;

async function lockPackGrant(tx: DbOrTx, paymentIntentId: string): Promise<PackGrant | undefined> {
  const [grant] = await tx.select().from(stripePackGrants).where(eq(stripePackGrants.paymentIntentId, paymentIntentId)).for('update');
  return grant;
}

const takenRow = z.object({ from_balance: col.integer, from_frozen: col.integer });

/** An `adjustment` entry by Stripe that moves the pack's grant by `delta` (a claw-back, a freeze, a restore). */
async function packAdjustment(tx: DbOrTx, pack: PackGrant, delta: number, reason: string): Promise<void> {
  const row = await queryOne(
    tx,
    z.object({ balance_after: col.integer }),
    sql`update user_credits set bonus_balance = bonus_balance + ${delta}::int, updated_at = now()
        where user_id = ${pack.userId} returning current_balance + bonus_balance as balance_after`,
  );
  await tx.insert(creditTransactions).values({
    userId: pack.userId,
    transactionType: 'adjustment',
    creditsUsed: Math.abs(delta),
    creditsDelta: delta,
    bonusCredits: Math.abs(delta),
    grantDraws: [[pack.creditGrantId!, delta]],
    balanceAfter: row!.balance_after,
    source: 'user_credits',
    reason,
    actor: stripeActor.label,
  });
}

/**
 * Takes back up to `due` credits of a pack from its own paid grant (ADR 022): what is left of it,
 * then what a dispute holds frozen of it. The rest of `due` was spent already and is lost. The
 * grant keeps what it gave; its expiry later removes only what the refund left of it.
 */
async function clawBack(tx: DbOrTx, pack: PackGrant, due: number, reason: string): Promise<{ taken: number; lost: number }> {
  await lockCredits(tx, pack.userId);
  const row =
    pack.creditGrantId === null
      ? undefined
      : await queryOne(
          tx,
          takenRow,
          sql`with old as (select id, remaining, frozen_credits from credit_grants where id = ${pack.creditGrantId}),
                   part as (select id, least(remaining, ${due}::int) as from_balance,
                                   least(frozen_credits, ${due}::int - least(remaining, ${due}::int)) as from_frozen from old)
              update credit_grants g set remaining = g.remaining - part.from_balance, frozen_credits = g.frozen_credits - part.from_frozen
              from part where g.id = part.id
              returning part.from_balance, part.from_frozen`,
        );
  const fromBalance = row?.from_balance ?? 0;
  const taken = fromBalance + (row?.from_frozen ?? 0);
  if (fromBalance > 0) await packAdjustment(tx, pack, -fromBalance, reason);
  await audit(tx, stripeActor, {
    action: 'payments.clawback',
    targetType: 'user',
    targetId: pack.userId,
    before: { packGrantId: String(pack.id), credits: pack.credits, clawedBack: pack.creditsClawedBack, lost: pack.creditsLost },
    after: { due, taken, lost: due - taken },
    reason,
  });
  return { taken, lost: due - taken };
}

/**
 * charge.refunded: the pack's share of the refund, `floor(credits × amount_refunded / amount)` (all
 * of it for a full refund), less what earlier refunds or a dispute already accounted for.
 * `amount_refunded` is cumulative, so a repeated or late event finds nothing more due.
 */
async function applyRefund(tx: DbOrTx, charge: Stripe.Charge): Promise<EventOutcome> {
  const paymentIntentId = idOf(charge.payment_intent);
  if (!paymentIntentId) return ignored('the charge has no payment intent: no credit pack to find', { objectId: charge.id });
  const grant = await lockPackGrant(tx, paymentIntentId);
  if (!grant) return ignored(`no credit pack was granted for payment ${paymentIntentId}`, { objectId: charge.id });
  const full = charge.amount_refunded >= charge.amount;
  const share = full || charge.amount <= 0 ? grant.credits : Number((BigInt(grant.credits) * BigInt(charge.amount_refunded)) / BigInt(charge.amount));
  const due = share - grant.creditsClawedBack - grant.creditsLost;
  const base = { userId: grant.userId, objectId: charge.id };
  if (due <= 0) {
    await tx
      .update(stripePackGrants)
      .set({ amountRefunded: sql`greatest(${stripePackGrants.amountRefunded}, ${charge.amount_refunded})`, updatedAt: sql`now()` })
      .where(eq(stripePackGrants.id, grant.id));
    return ignored(`nothing more to take back: ${grant.creditsClawedBack + grant.creditsLost} of the pack's ${grant.credits} credits already accounted for`, base);
  }
  const { taken, lost } = await clawBack(tx, grant, due, `Stripe refund of ${charge.id} (${charge.amount_refunded}/${charge.amount} ${charge.currency}): pack ${grant.priceId}`);
  await tx
    .update(stripePackGrants)
    .set({
      creditsClawedBack: sql`${stripePackGrants.creditsClawedBack} + ${taken}`,
      creditsLost: sql`${stripePackGrants.creditsLost} + ${lost}`,
      amountRefunded: sql`greatest(${stripePackGrants.amountRefunded}, ${charge.amount_refunded})`,
      status: grant.status === 'frozen' ? 'frozen' : full ? 'refunded' : 'granted',
      updatedAt: sql`now()`,
    })
    .where(eq(stripePackGrants.id, grant.id));
  return {
    outcome: 'processed',
    reason: `refund ${full ? 'in full' : `of ${charge.amount_refunded}/${charge.amount}`}: ${due} credits due, ${taken} clawed back${lost ? `, ${lost} already spent (lost)` : ''}`,
    ...base,
    creditsDelta: -taken,
    creditsLost: lost,
  };
}

/**
 * charge.dispute.created: the pack's grant is frozen. What is left of it leaves the balance (an
 * adjustment) and waits as frozen credits for the dispute's outcome: charge.dispute.closed gives
 * them back when the dispute is won, and takes them for good when it is lost (ADR 022).
 */
async function applyDispute(tx: DbOrTx, dispute: Stripe.Dispute): Promise<EventOutcome> {
  const paymentIntentId = idOf(dispute.payment_intent);
  if (!paymentIntentId) return ignored('the dispute names no payment intent: no credit pack to find', { objectId: dispute.id });
  const pack = await lockPackGrant(tx, paymentIntentId);
  if (!pack) return ignored(`no credit pack was granted for payment ${paymentIntentId}`, { objectId: dispute.id });
  const base = { userId: pack.userId, objectId: dispute.id };
  if (pack.status === 'frozen') return ignored(`pack grant ${pack.id} is already frozen`, base);
  if (pack.creditGrantId === null) return ignored(`pack grant ${pack.id} has no credit grant to freeze`, base);
  await lockCredits(tx, pack.userId);
  const frozen = await queryOne(
    tx,
    z.object({ frozen: col.integer }),
    sql`with old as (select id, remaining from credit_grants where id = ${pack.creditGrantId})
        update credit_grants g set frozen_credits = g.frozen_credits + old.remaining, remaining = 0, frozen_at = now()
        from old where g.id = old.id returning old.remaining as frozen`,
  );
  const n = frozen?.frozen ?? 0;
  if (n > 0) await packAdjustment(tx, pack, -n, `Stripe dispute ${dispute.id} of ${idOf(dispute.charge) ?? paymentIntentId} (${dispute.reason}): pack ${pack.priceId} frozen`);
  await tx
    .update(stripePackGrants)
    .set({ status: 'frozen', disputedAt: sql`now()`, updatedAt: sql`now()` })
    .where(eq(stripePackGrants.id, pack.id));
  return { outcome: 'processed', reason: `disputed (${dispute.reason}): pack frozen, ${n} unspent credits held until the dispute is decided`, ...base, creditsDelta: -n };
}

/** charge.dispute.closed: won gives the frozen credits back; lost takes them, and what was spent of the pack is lost. */
async function applyDisputeClosed(tx: DbOrTx, dispute: Stripe.Dispute): Promise<EventOutcome> {
  const paymentIntentId = idOf(dispute.payment_intent);
  if (!paymentIntentId) return ignored('the dispute names no payment intent: no credit pack to find', { objectId: dispute.id });
  const pack = await lockPackGrant(tx, paymentIntentId);
  if (!pack) return ignored(`no credit pack was granted for payment ${paymentIntentId}`, { objectId: dispute.id });
  const base = { userId: pack.userId, objectId: dispute.id };
  if (pack.status !== 'frozen' || pack.creditGrantId === null) return ignored(`pack grant ${pack.id} is not frozen`, base);
  if (dispute.status === 'won' || dispute.status === 'warning_closed') {
    await lockCredits(tx, pack.userId);
    const restored = await queryOne(
      tx,
      z.object({ restored: col.integer }),
      sql`with old as (select id, frozen_credits from credit_grants where id = ${pack.creditGrantId})
          update credit_grants g set remaining = g.remaining + old.frozen_credits, frozen_credits = 0, frozen_at = null
          from old where g.id = old.id returning old.frozen_credits as restored`,
    );
    const n = restored?.restored ?? 0;
    if (n > 0) await packAdjustment(tx, pack, n, `Stripe dispute ${dispute.id} won: pack ${pack.priceId} restored`);
    await tx
      .update(stripePackGrants)
      .set({ status: 'granted', updatedAt: sql`now()` })
      .where(eq(stripePackGrants.id, pack.id));
    return { outcome: 'processed', reason: `dispute won: ${n} frozen credits given back`, ...base, creditsDelta: n };
  }
  if (dispute.status !== 'lost') return ignored(`dispute status ${dispute.status} decides nothing`, base);
  const due = pack.credits - pack.creditsClawedBack - pack.creditsLost;
  const { taken, lost } = due > 0 ? await clawBack(tx, pack, due, `Stripe dispute ${dispute.id} lost: pack ${pack.priceId}`) : { taken: 0, lost: 0 };
  await tx
    .update(stripePackGrants)
    .set({
      creditsClawedBack: sql`${stripePackGrants.creditsClawedBack} + ${taken}`,
      creditsLost: sql`${stripePackGrants.creditsLost} + ${lost}`,
      status: 'refunded',
      updatedAt: sql`now()`,
    })
    .where(eq(stripePackGrants.id, pack.id));
  // The frozen credits already left the balance when the dispute opened: nothing moves now.
  return { outcome: 'processed', reason: `dispute lost: ${taken} frozen credits taken${lost ? `, ${lost} already spent (lost)` : ''}`, ...base, creditsDelta: 0, creditsLost: lost };
}

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
