import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** A Stripe price mapped to a tier (subscriptions) or to a credit pack (one-off checkouts). */
export const stripePrices = pgTable(
  'stripe_prices',
  {
    priceId: text('price_id').primaryKey(),
    kind: text('kind', { enum: ['tier', 'pack'] }).notNull(),
    tier: text('tier', { enum: ['free', 'plus', 'pro'] }),
    credits: integer('credits'),
    expiresInDays: integer('expires_in_days'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check(
      'stripe_prices_kind_check',
      sql`(${t.kind} = 'tier' and ${t.tier} in ('free', 'plus', 'pro') and ${t.credits} is null and ${t.expiresInDays} is null)
          or (${t.kind} = 'pack' and ${t.tier} is null and ${t.credits} > 0 and (${t.expiresInDays} is null or ${t.expiresInDays} > 0))`,
    ),
  ],
);

/**
 * Every request to POST /webhooks/stripe: a verified event once per Stripe event id (the unique index
 * is the idempotency guard, inserted in the transaction of the event's effects), or a refusal
 * (`event_id` null: the signature did not hold, so nothing in the body is believed).
 */
export const stripeEvents = pgTable(
  'stripe_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    eventId: text('event_id'),
    type: text('type'),
    /** The event's own `created` (Stripe's clock, seconds). */
    eventCreatedAt: timestamp('event_created_at', { withTimezone: true }),
    outcome: text('outcome', { enum: ['processed', 'ignored', 'failed', 'refused'] }).notNull(),
    reason: text('reason'),
    error: text('error'),
    userId: text('user_id'),
    /** The subscription, checkout session, charge or dispute the event is about. */
    objectId: text('object_id'),
    /** Credits the event moved: a pack's grant (+), a claw-back (−). */
    creditsDelta: integer('credits_delta'),
    /** Credits a refund or dispute could not take back because they were already spent. */
    creditsLost: integer('credits_lost'),
    attempts: integer('attempts').notNull().default(1),
    payload: jsonb('payload'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('stripe_events_event_id_uq').on(t.eventId),
    check('stripe_events_outcome_check', sql`${t.outcome} in ('processed', 'ignored', 'failed', 'refused')`),
    check('stripe_events_refused_check', sql`(${t.outcome} = 'refused') = (${t.eventId} is null)`),
  ],
);

/**
 * The latest applied state of each subscription: an update older (by the event's `created`) than the
 * one applied is ignored, so events arriving out of order never move a tier backwards.
 */
export const stripeSubscriptions = pgTable('stripe_subscriptions', {
  subscriptionId: text('subscription_id').primaryKey(),
  customerId: text('customer_id').notNull(),
  userId: text('user_id').notNull(),
  priceId: text('price_id'),
  status: text('status').notNull(),
  tier: text('tier', { enum: ['free', 'plus', 'pro'] }).notNull(),
  eventId: text('event_id').notNull(),
  eventCreatedAt: timestamp('event_created_at', { withTimezone: true }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A credit pack granted for a paid checkout, once per checkout session: what a refund or a dispute of
 * its payment finds (by payment intent) and how much of it has been taken back or lost (ADR 021).
 */
export const stripePackGrants = pgTable(
  'stripe_pack_grants',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    checkoutSessionId: text('checkout_session_id').notNull(),
    paymentIntentId: text('payment_intent_id'),
    eventId: text('event_id').notNull(),
    userId: text('user_id').notNull(),
    priceId: text('price_id').notNull(),
    credits: integer('credits').notNull(),
    /** The `grant` entry in credit_transactions (set in the claiming transaction, right after the claim). */
    transactionId: bigint('transaction_id', { mode: 'number' }),
    /** Its credit_grants row when the pack expires. */
    creditGrantId: bigint('credit_grant_id', { mode: 'number' }),
    /** Smallest currency unit, as Stripe counts. */
    amountPaid: bigint('amount_paid', { mode: 'number' }),
    currency: text('currency'),
    amountRefunded: bigint('amount_refunded', { mode: 'number' }).notNull().default(0),
    creditsClawedBack: integer('credits_clawed_back').notNull().default(0),
    creditsLost: integer('credits_lost').notNull().default(0),
    status: text('status', { enum: ['granted', 'refunded', 'frozen'] })
      .notNull()
      .default('granted'),
    disputedAt: timestamp('disputed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('stripe_pack_grants_session_uq').on(t.checkoutSessionId),
    uniqueIndex('stripe_pack_grants_payment_intent_uq').on(t.paymentIntentId),
    check('stripe_pack_grants_status_check', sql`${t.status} in ('granted', 'refunded', 'frozen')`),
    check('stripe_pack_grants_taken_check', sql`${t.creditsClawedBack} >= 0 and ${t.creditsLost} >= 0 and ${t.creditsClawedBack} + ${t.creditsLost} <= ${t.credits}`),
  ],
);
