/** Credit packs: bought through Checkout, taken back by a refund or a lost dispute, frozen while a dispute is open. */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import { z } from 'zod';
import { audit } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { col, queryOne } from '../db/rows';
import { grantCredits } from '../ledger/admin-ops';
import { creditTransactions } from '../ledger/tables';
import { lockCredits } from '../ledger/user-credits';
import { findPrice } from './prices';
import { stripeEvents, stripePackGrants } from './tables';
import { findUser, idOf, ignored, NotYetApplicable, stripeActor, type EventOutcome } from './event-outcome';

/**
 * Serialises the events of one payment: the checkout that grants its pack, and the refunds and
 * disputes that take it back. A refund or a dispute that finds no pack (its checkout not yet
 * applied: Stripe does not promise order, and a failed delivery comes again later) is recorded as
 * ignored with noPack's reason; the checkout, holding this lock, then sees it and applies it.
 */
async function lockPayment(tx: DbOrTx, paymentIntentId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`stripe_payment:${paymentIntentId}`}, 0))`);
}

const noPack = (paymentIntentId: string) => `no credit pack was granted for payment ${paymentIntentId}`;

/** The event types that act on a granted pack, found by its payment intent. */
const PACK_EVENT_TYPES = ['charge.refunded', 'charge.dispute.created', 'charge.dispute.closed'];

/**
 * The refunds and disputes of a payment that arrived before its pack was granted (ignored then for
 * want of a pack), applied now in the order Stripe created them, each recorded on its own row.
 */
async function applyEarlyPackEvents(tx: DbOrTx, paymentIntentId: string, sessionId: string): Promise<number> {
  const early = await tx
    .select({ id: stripeEvents.id, type: stripeEvents.type, payload: stripeEvents.payload })
    .from(stripeEvents)
    .where(and(eq(stripeEvents.outcome, 'ignored'), inArray(stripeEvents.type, PACK_EVENT_TYPES), eq(stripeEvents.reason, noPack(paymentIntentId))))
    .orderBy(asc(stripeEvents.eventCreatedAt), asc(stripeEvents.id))
    .for('update');
  for (const row of early) {
    const object = (row.payload as Stripe.Event).data.object;
    const outcome =
      row.type === 'charge.refunded'
        ? await applyRefund(tx, object as Stripe.Charge)
        : row.type === 'charge.dispute.created'
          ? await applyDispute(tx, object as Stripe.Dispute)
          : await applyDisputeClosed(tx, object as Stripe.Dispute);
    await tx
      .update(stripeEvents)
      .set({
        outcome: outcome.outcome,
        reason: `applied once checkout ${sessionId} granted the pack: ${outcome.reason}`.slice(0, 2000),
        userId: outcome.userId ?? null,
        objectId: outcome.objectId ?? null,
        creditsDelta: outcome.creditsDelta ?? null,
        creditsLost: outcome.creditsLost ?? null,
      })
      .where(eq(stripeEvents.id, row.id));
  }
  return early.length;
}

/** checkout.session.completed (or its async_payment_succeeded) for a price mapped to a pack: its credits, once per session. */
export async function applyCheckout(tx: DbOrTx, event: Stripe.Event, session: Stripe.Checkout.Session): Promise<EventOutcome> {
  const objectId = session.id;
  if (session.mode !== 'payment') return ignored(`a ${session.mode} checkout: subscriptions set tiers through customer.subscription.* events`, { objectId });
  if (session.payment_status !== 'paid') return ignored(`payment_status is ${session.payment_status}: a pack is granted once paid`, { objectId });
  const priceId = session.metadata?.creditdesk_price_id;
  if (!priceId) return ignored('no metadata.creditdesk_price_id: the session names no credit pack', { objectId });
  const price = await findPrice(tx, priceId);
  if (!price || price.kind !== 'pack' || !price.credits) return ignored(`unknown price: ${priceId} is not mapped to a credit pack`, { objectId });
  const found = await findUser(tx, session.customer, session.metadata);
  // Paid for a Creditdesk pack, so the money was taken: never ignored (200 would end Stripe's
  // deliveries and admins retry only failed events), but failed until the user exists (ADR 021).
  if (found.userId === null) throw new NotYetApplicable(`${found.reason}; the paid pack ${priceId} is granted once the user exists (Stripe's next delivery or an admin's retry)`);
  const userId = found.userId;
  const paymentIntentId = idOf(session.payment_intent);
  if (paymentIntentId) await lockPayment(tx, paymentIntentId);
  const [claim] = await tx
    .insert(stripePackGrants)
    .values({
      checkoutSessionId: session.id,
      paymentIntentId,
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
  const early = paymentIntentId ? await applyEarlyPackEvents(tx, paymentIntentId, session.id) : 0;
  return {
    outcome: 'processed',
    reason: `granted ${price.credits} credits (pack ${priceId}${expiresAt ? `, expiring ${expiresAt}` : ''})${early ? `; ${early} earlier refund or dispute event(s) of the payment applied` : ''}`,
    userId,
    objectId,
    creditsDelta: price.credits,
  };
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
export async function applyRefund(tx: DbOrTx, charge: Stripe.Charge): Promise<EventOutcome> {
  const paymentIntentId = idOf(charge.payment_intent);
  if (!paymentIntentId) return ignored('the charge has no payment intent: no credit pack to find', { objectId: charge.id });
  await lockPayment(tx, paymentIntentId);
  const grant = await lockPackGrant(tx, paymentIntentId);
  if (!grant) return ignored(noPack(paymentIntentId), { objectId: charge.id });
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
export async function applyDispute(tx: DbOrTx, dispute: Stripe.Dispute): Promise<EventOutcome> {
  const paymentIntentId = idOf(dispute.payment_intent);
  if (!paymentIntentId) return ignored('the dispute names no payment intent: no credit pack to find', { objectId: dispute.id });
  await lockPayment(tx, paymentIntentId);
  const pack = await lockPackGrant(tx, paymentIntentId);
  if (!pack) return ignored(noPack(paymentIntentId), { objectId: dispute.id });
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
export async function applyDisputeClosed(tx: DbOrTx, dispute: Stripe.Dispute): Promise<EventOutcome> {
  const paymentIntentId = idOf(dispute.payment_intent);
  if (!paymentIntentId) return ignored('the dispute names no payment intent: no credit pack to find', { objectId: dispute.id });
  await lockPayment(tx, paymentIntentId);
  const pack = await lockPackGrant(tx, paymentIntentId);
  if (!pack) return ignored(noPack(paymentIntentId), { objectId: dispute.id });
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
