import { and, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApp } from '../app';
import { auditLog } from '../auth/tables';
import { col, countRow, queryOne } from '../db/rows';
import { cliActor } from '../auth/audit';
import { grantCredits } from '../ledger/admin-ops';
import { consumeCredits } from '../ledger/consume';
import { creditGrants } from '../ledger/tables';
import { signedInCaller, uniqueId } from '../test/harness';
import { startStripeServer, type StripeServer } from '../test/stripe-server';
import { balanceRow, countEntries, expectLedgerClean, key, newUser, reasonOf } from '../test/ledger-helpers';
import { checkoutEvent, disputeClosedEvent, disputeEvent, newCustomerId, newSubscriptionId, postStripe, refundEvent, signStripe, stripeEvent, subscriptionEvent } from '../test/stripe-events';
import { stripeEvents, stripePackGrants } from './tables';

let server: StripeServer;
let base: string;
let admin: StripeServer['admin'];
let users: StripeServer['users'];
const db = () => server.env.deps.dbHandle.db;

const PLUS = 'price_test_plus';
const PRO = 'price_test_pro';
const PACK = 'price_test_pack10';
const EXPIRING_PACK = 'price_test_pack5_30d';

beforeAll(async () => {
  server = await startStripeServer();
  ({ base, admin, users } = server);
  await admin.admin.payments.prices.upsert({ priceId: PLUS, kind: 'tier', tier: 'plus' });
  await admin.admin.payments.prices.upsert({ priceId: PRO, kind: 'tier', tier: 'pro' });
  await admin.admin.payments.prices.upsert({ priceId: PACK, kind: 'pack', credits: 10 });
  await admin.admin.payments.prices.upsert({ priceId: EXPIRING_PACK, kind: 'pack', credits: 5, expiresInDays: 30 });
});
afterEach(async () => {
  await expectLedgerClean(db());
});
afterAll(async () => {
  await server?.close();
});

/** A user linked to a new Stripe customer through users.upsert, as a product app would make it. */
async function linkedUser(tier: 'free' | 'plus' | 'pro' = 'free') {
  const userId = uniqueId('stripe');
  const customer = newCustomerId();
  await users.users.upsert({ userId, tier, stripeCustomerId: customer });
  return { userId, customer };
}

const eventRow = async (eventId: string) => (await db().select().from(stripeEvents).where(eq(stripeEvents.eventId, eventId)))[0];
const tierOf = async (userId: string) => (await queryOne(db(), z.object({ tier: col.text }), sql`select tier from users where user_id = ${userId}`))!.tier;
const spend = (userId: string, credits: number) => consumeCredits(db(), { userId, credits, enhancementType: 'upscale', idempotencyKey: key() });

describe('[PAYMENTS] price mapping', () => {
  it('admin.payments.prices.upsert maps a price to a tier or a pack, changes it in place, is audited, and refuses an inconsistent mapping', async () => {
    const priceId = `price_${uniqueId('map').replace(/-/g, '_')}`;
    expect(await admin.admin.payments.prices.upsert({ priceId, kind: 'pack', credits: 20, expiresInDays: 7 })).toMatchObject({ priceId, kind: 'pack', credits: 20, expiresInDays: 7, tier: null });
    expect(await admin.admin.payments.prices.upsert({ priceId, kind: 'tier', tier: 'pro' })).toMatchObject({ priceId, kind: 'tier', tier: 'pro', credits: null, expiresInDays: null });
    expect((await admin.admin.payments.prices.list()).filter((p) => p.priceId === priceId)).toHaveLength(1);
    const audits = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'payments.price.upsert'), eq(auditLog.targetId, priceId)));
    expect(audits).toHaveLength(2);
    expect(audits.map((a) => a.before === null)).toContain(true);
    expect(await reasonOf(admin.admin.payments.prices.upsert({ priceId, kind: 'tier' }))).toBe('BAD_REQUEST');
    expect(await reasonOf(admin.admin.payments.prices.upsert({ priceId, kind: 'pack', tier: 'plus', credits: 3 }))).toBe('BAD_REQUEST');
    const analyst = (await signedInCaller(server.env.deps, 'analyst')).caller;
    expect(await reasonOf(analyst.admin.payments.prices.upsert({ priceId, kind: 'pack', credits: 3 }))).toBe('FORBIDDEN');
    expect((await analyst.admin.payments.prices.list()).length).toBeGreaterThan(0);
  });

  it('users.upsert links a Stripe customer to one user only', async () => {
    const { customer } = await linkedUser();
    expect(await reasonOf(users.users.upsert({ userId: uniqueId('other'), tier: 'free', stripeCustomerId: customer }))).toBe('CONFLICT');
  });
});

describe('[PAYMENTS] tiers from subscriptions', () => {
  it('[PAYMENTS] a subscription upgrade and downgrade move the tier by the tier-change rule: spent allowance is never restored, deletion is free', async () => {
    const { userId, customer } = await linkedUser('free');
    const sub = newSubscriptionId();
    const t0 = Math.floor(Date.now() / 1000);
    expect((await postStripe(base, subscriptionEvent('customer.subscription.created', { id: sub, customer, priceId: PLUS }, { created: t0 }))).body).toMatchObject({ outcome: 'processed' });
    expect(await tierOf(userId)).toBe('plus');
    expect((await balanceRow(db(), userId)).allowance).toBe(10);
    await spend(userId, 4);
    // Upgrade: 25 − 4 spent.
    await postStripe(base, subscriptionEvent('customer.subscription.updated', { id: sub, customer, priceId: PRO }, { created: t0 + 1 }));
    expect(await tierOf(userId)).toBe('pro');
    expect((await balanceRow(db(), userId)).allowance).toBe(21);
    // Downgrade: 10 − 4 spent, not 10.
    const down = subscriptionEvent('customer.subscription.updated', { id: sub, customer, priceId: PLUS }, { created: t0 + 2 });
    await postStripe(base, down);
    expect(await tierOf(userId)).toBe('plus');
    expect((await balanceRow(db(), userId)).allowance).toBe(6);
    // And back up: still 25 − 4, nothing restored by the flip.
    await postStripe(base, subscriptionEvent('customer.subscription.updated', { id: sub, customer, priceId: PRO }, { created: t0 + 3 }));
    expect((await balanceRow(db(), userId)).allowance).toBe(21);
    expect((await postStripe(base, subscriptionEvent('customer.subscription.deleted', { id: sub, customer, priceId: PRO }, { created: t0 + 4 }))).body).toMatchObject({ outcome: 'processed' });
    expect(await tierOf(userId)).toBe('free');
    expect((await balanceRow(db(), userId)).allowance).toBe(0);
    expect(await eventRow(down.id)).toMatchObject({ outcome: 'processed', userId, objectId: sub, reason: 'tier pro → plus' });
    expect(await countEntries(db(), userId, 'tier_change')).toBe(5);
  });

  it('[PAYMENTS] a user without a stored link is found through the subscription metadata creditdesk_user_id', async () => {
    const userId = await newUser(db(), 'free');
    const event = subscriptionEvent('customer.subscription.created', { id: newSubscriptionId(), customer: newCustomerId(), priceId: PRO, metadata: { creditdesk_user_id: userId } });
    expect((await postStripe(base, event)).status).toBe(200);
    expect(await tierOf(userId)).toBe('pro');
  });

  it('[PAYMENTS] an older subscription update arriving after a newer one changes nothing (ignored, out of order)', async () => {
    const { userId, customer } = await linkedUser('free');
    const sub = newSubscriptionId();
    const t0 = Math.floor(Date.now() / 1000);
    await postStripe(base, subscriptionEvent('customer.subscription.created', { id: sub, customer, priceId: PLUS }, { created: t0 }));
    await postStripe(base, subscriptionEvent('customer.subscription.updated', { id: sub, customer, priceId: PRO }, { created: t0 + 20 }));
    const late = subscriptionEvent('customer.subscription.updated', { id: sub, customer, priceId: PLUS }, { created: t0 + 10 });
    const answer = await postStripe(base, late);
    expect(answer.status).toBe(200);
    expect(answer.body.outcome).toBe('ignored');
    expect(await tierOf(userId)).toBe('pro');
    expect((await eventRow(late.id))!.reason).toMatch(/^out of order/);
    // A deletion is final, even against an update stamped the same second.
    await postStripe(base, subscriptionEvent('customer.subscription.deleted', { id: sub, customer, priceId: PRO }, { created: t0 + 30 }));
    expect((await postStripe(base, subscriptionEvent('customer.subscription.updated', { id: sub, customer, priceId: PRO }, { created: t0 + 30 }))).body.outcome).toBe('ignored');
    expect(await tierOf(userId)).toBe('free');
  });

  it('[PAYMENTS] cancelling an old subscription keeps the tier of the user’s newer live one', async () => {
    const { userId, customer } = await linkedUser('free');
    const [oldSub, newSub] = [newSubscriptionId(), newSubscriptionId()];
    const t0 = Math.floor(Date.now() / 1000);
    await postStripe(base, subscriptionEvent('customer.subscription.created', { id: oldSub, customer, priceId: PLUS }, { created: t0 }));
    await postStripe(base, subscriptionEvent('customer.subscription.created', { id: newSub, customer, priceId: PRO }, { created: t0 + 1 }));
    await postStripe(base, subscriptionEvent('customer.subscription.deleted', { id: oldSub, customer, priceId: PLUS }, { created: t0 + 2 }));
    expect(await tierOf(userId)).toBe('pro');
  });

  it('[PAYMENTS] an unknown price or an unknown customer is recorded as ignored with its reason, 200 to Stripe, nothing changed', async () => {
    const { userId, customer } = await linkedUser('plus');
    const before = await balanceRow(db(), userId);
    const unknownPrice = subscriptionEvent('customer.subscription.created', { id: newSubscriptionId(), customer, priceId: 'price_nobody_mapped' });
    const answer = await postStripe(base, unknownPrice);
    expect(answer).toMatchObject({ status: 200, body: { received: true, outcome: 'ignored' } });
    expect(await eventRow(unknownPrice.id)).toMatchObject({ outcome: 'ignored', userId, reason: 'unknown price: price_nobody_mapped is not mapped to a tier' });
    expect(await tierOf(userId)).toBe('plus');
    expect(await balanceRow(db(), userId)).toEqual(before);

    const unknownCustomer = subscriptionEvent('customer.subscription.created', { id: newSubscriptionId(), customer: newCustomerId(), priceId: PRO });
    expect((await postStripe(base, unknownCustomer)).status).toBe(200);
    expect((await eventRow(unknownCustomer.id))!.reason).toMatch(/^unknown customer: no user is linked to cus_/);

    const unknownPack = checkoutEvent({ customer, priceId: 'price_nobody_mapped' });
    expect((await postStripe(base, unknownPack)).body.outcome).toBe('ignored');
    expect((await eventRow(unknownPack.id))!.reason).toBe('unknown price: price_nobody_mapped is not mapped to a credit pack');
    expect(await balanceRow(db(), userId)).toEqual(before);

    const other = stripeEvent('invoice.paid', { id: 'in_1', object: 'invoice' });
    expect((await postStripe(base, other)).body.outcome).toBe('ignored');
  });
});

describe('[PAYMENTS] credit packs', () => {
  it('[PAYMENTS] a paid checkout for a pack grants its credits as a paid grant, once per checkout session, with the pack’s expiry', async () => {
    const { userId, customer } = await linkedUser('plus');
    const event = checkoutEvent({ customer, priceId: PACK });
    expect((await postStripe(base, event)).body).toMatchObject({ outcome: 'processed' });
    expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 10, bonus: 10 });
    expect(await eventRow(event.id)).toMatchObject({ outcome: 'processed', creditsDelta: 10, userId });
    const [grant] = await db().select().from(stripePackGrants).where(eq(stripePackGrants.eventId, event.id));
    expect(grant).toMatchObject({ userId, credits: 10, status: 'granted' });
    expect(grant!.transactionId).not.toBeNull();
    // A paid grant, spent after the allowance and promotions (priority 100), without expiry.
    const [paid] = await db().select().from(creditGrants).where(eq(creditGrants.id, grant!.creditGrantId!));
    expect(paid).toMatchObject({ kind: 'paid', priority: 100, credits: 10, remaining: 10, expiresAt: null });

    // The same session in another event (Stripe's async_payment_succeeded) grants nothing more.
    const again = stripeEvent('checkout.session.async_payment_succeeded', event.data.object);
    expect((await postStripe(base, again)).body.outcome).toBe('ignored');
    expect((await balanceRow(db(), userId)).bonus).toBe(10);

    // Unpaid is not granted; an expiring pack has its credit_grants row.
    expect((await postStripe(base, checkoutEvent({ customer, priceId: PACK, paymentStatus: 'unpaid' }))).body.outcome).toBe('ignored');
    const expiring = checkoutEvent({ userId, priceId: EXPIRING_PACK });
    await postStripe(base, expiring);
    expect((await balanceRow(db(), userId)).bonus).toBe(15);
    const [pack] = await db().select().from(stripePackGrants).where(eq(stripePackGrants.eventId, expiring.id));
    const [expiry] = await db().select().from(creditGrants).where(eq(creditGrants.id, pack!.creditGrantId!));
    expect(expiry!.credits).toBe(5);
    const days = (expiry!.expiresAt!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
  });

  it('[PAYMENTS] the same Stripe event sent twice at once grants its pack once', async () => {
    const { userId, customer } = await linkedUser('free');
    const event = checkoutEvent({ customer, priceId: PACK });
    const payload = JSON.stringify(event);
    const signature = signStripe(payload);
    const answers = await Promise.all([1, 2, 3].map(() => postStripe(base, payload, { signature })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.filter((a) => a.body.duplicate === true)).toHaveLength(2);
    expect((await balanceRow(db(), userId)).bonus).toBe(10);
    expect(await countEntries(db(), userId, 'grant')).toBe(1);
    expect(await db().select().from(stripeEvents).where(eq(stripeEvents.eventId, event.id))).toHaveLength(1);
  });

  it("[PAYMENTS] a refund after partial use claws back what is left of the pack's own grant, records the spent part as a loss, and leaves other grants alone", async () => {
    const { userId, customer } = await linkedUser('plus');
    // A promotion spent after the pack (priority 200 > the pack's 100): the refund must not take it.
    await grantCredits(db(), cliActor, { userId, credits: 4, priority: 200, reason: 'promotion after the pack' });
    const paymentIntent = `pi_${uniqueId('refund').replace(/-/g, '')}`;
    await postStripe(base, checkoutEvent({ customer, priceId: PACK, paymentIntent, amount: 1000 }));
    expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 10, bonus: 14 });
    // 13 spent: the allowance's 10, then 3 of the pack.
    await spend(userId, 13);
    expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 0, bonus: 11 });
    const refund = refundEvent({ paymentIntent, amount: 1000, amountRefunded: 1000 });
    expect((await postStripe(base, refund)).body.outcome).toBe('processed');
    expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 0, bonus: 4 });
    const left = await db().select().from(creditGrants).where(eq(creditGrants.userId, userId));
    expect(left.map((g) => [g.kind, g.remaining]).sort()).toEqual([
      ['paid', 0],
      ['promotional', 4],
    ]);
    expect(await eventRow(refund.id)).toMatchObject({ outcome: 'processed', creditsDelta: -7, creditsLost: 3, userId });
    const [grant] = await db().select().from(stripePackGrants).where(eq(stripePackGrants.paymentIntentId, paymentIntent));
    expect(grant).toMatchObject({ creditsClawedBack: 7, creditsLost: 3, amountRefunded: 1000, status: 'refunded' });
    // Stripe sending it again (another event id, same cumulative refund) takes nothing more.
    const repeat = refundEvent({ paymentIntent, amount: 1000, amountRefunded: 1000, chargeId: refund.data.object.id as string });
    expect((await postStripe(base, repeat)).body.outcome).toBe('ignored');
  });

  it('[PAYMENTS] a partial refund claws back its share of the pack: half the money, half the credits', async () => {
    const { userId, customer } = await linkedUser('free');
    const paymentIntent = `pi_${uniqueId('half').replace(/-/g, '')}`;
    await postStripe(base, checkoutEvent({ customer, priceId: PACK, paymentIntent, amount: 2000 }));
    const chargeId = `ch_${uniqueId('c').replace(/-/g, '')}`;
    await postStripe(base, refundEvent({ paymentIntent, amount: 2000, amountRefunded: 1000, chargeId }));
    expect((await balanceRow(db(), userId)).bonus).toBe(5);
    // A later partial refund, then the rest: cumulative amounts, each taking what is due beyond the last.
    await postStripe(base, refundEvent({ paymentIntent, amount: 2000, amountRefunded: 1500, chargeId }));
    expect((await balanceRow(db(), userId)).bonus).toBe(3);
    // An older event with the smaller cumulative amount, late: nothing.
    expect((await postStripe(base, refundEvent({ paymentIntent, amount: 2000, amountRefunded: 1000, chargeId }))).body.outcome).toBe('ignored');
    await postStripe(base, refundEvent({ paymentIntent, amount: 2000, amountRefunded: 2000, chargeId }));
    expect((await balanceRow(db(), userId)).bonus).toBe(0);
    const [grant] = await db().select().from(stripePackGrants).where(eq(stripePackGrants.paymentIntentId, paymentIntent));
    expect(grant).toMatchObject({ creditsClawedBack: 10, creditsLost: 0, status: 'refunded' });
  });

  it('[PAYMENTS] a refunded expiring pack leaves nothing of itself to expire', async () => {
    const { userId, customer } = await linkedUser('free');
    const paymentIntent = `pi_${uniqueId('exp').replace(/-/g, '')}`;
    await postStripe(base, checkoutEvent({ customer, priceId: EXPIRING_PACK, paymentIntent }));
    await postStripe(base, refundEvent({ paymentIntent, amount: 1000, amountRefunded: 1000 }));
    const [pack] = await db().select().from(stripePackGrants).where(eq(stripePackGrants.paymentIntentId, paymentIntent));
    const [expiry] = await db().select().from(creditGrants).where(eq(creditGrants.id, pack!.creditGrantId!));
    // The grant keeps what it gave; nothing of it is left for its expiry to remove.
    expect(expiry).toMatchObject({ kind: 'paid', credits: 5, remaining: 0 });
    expect((await balanceRow(db(), userId)).bonus).toBe(0);
  });

  it('[PAYMENTS] a disputed charge freezes what is unspent of its pack; a lost dispute takes it and records the spent part as lost, once', async () => {
    const { userId, customer } = await linkedUser('free');
    const paymentIntent = `pi_${uniqueId('dispute').replace(/-/g, '')}`;
    await postStripe(base, checkoutEvent({ customer, priceId: PACK, paymentIntent }));
    await spend(userId, 2);
    const dispute = disputeEvent({ paymentIntent });
    expect((await postStripe(base, dispute)).body.outcome).toBe('processed');
    expect(await eventRow(dispute.id)).toMatchObject({ creditsDelta: -8 });
    let [pack] = await db().select().from(stripePackGrants).where(eq(stripePackGrants.paymentIntentId, paymentIntent));
    expect(pack).toMatchObject({ status: 'frozen', creditsClawedBack: 0, creditsLost: 0 });
    expect(pack!.disputedAt).not.toBeNull();
    const [frozen] = await db().select().from(creditGrants).where(eq(creditGrants.id, pack!.creditGrantId!));
    expect(frozen).toMatchObject({ remaining: 0, frozenCredits: 8 });
    expect((await balanceRow(db(), userId)).bonus).toBe(0);
    // A second delivery of the opening freezes nothing more.
    expect((await postStripe(base, disputeEvent({ paymentIntent }))).body.outcome).toBe('ignored');

    const closed = disputeClosedEvent({ paymentIntent, status: 'lost' });
    expect((await postStripe(base, closed)).body.outcome).toBe('processed');
    expect(await eventRow(closed.id)).toMatchObject({ creditsDelta: 0, creditsLost: 2 });
    [pack] = await db().select().from(stripePackGrants).where(eq(stripePackGrants.paymentIntentId, paymentIntent));
    expect(pack).toMatchObject({ status: 'refunded', creditsClawedBack: 8, creditsLost: 2 });
    // The refund that usually follows a lost dispute finds nothing more to take.
    expect((await postStripe(base, refundEvent({ paymentIntent, amount: 1000, amountRefunded: 1000 }))).body.outcome).toBe('ignored');
    expect((await balanceRow(db(), userId)).bonus).toBe(0);
  });

  it('[PAYMENTS] a refund or a dispute that arrives before its checkout (whose first delivery failed) is applied when the pack is granted: the refunded credits are not kept', async () => {
    const { userId, customer } = await linkedUser('free');
    const refunded = `pi_${uniqueId('early').replace(/-/g, '')}`;
    // Stripe does not promise order: the checkout's delivery failed and is sent again after the refund.
    const refund = refundEvent({ paymentIntent: refunded, amount: 1000, amountRefunded: 1000 });
    expect((await postStripe(base, refund)).body.outcome).toBe('ignored');
    expect((await postStripe(base, checkoutEvent({ customer, priceId: PACK, paymentIntent: refunded, amount: 1000 }))).body.outcome).toBe('processed');
    expect((await balanceRow(db(), userId)).bonus).toBe(0);
    expect(await eventRow(refund.id)).toMatchObject({ outcome: 'processed', creditsDelta: -10, creditsLost: 0, userId });
    const [pack] = await db().select().from(stripePackGrants).where(eq(stripePackGrants.paymentIntentId, refunded));
    expect(pack).toMatchObject({ creditsClawedBack: 10, creditsLost: 0, amountRefunded: 1000, status: 'refunded' });

    // A dispute opened before the checkout arrived freezes the pack as soon as it is granted.
    const disputed = `pi_${uniqueId('early').replace(/-/g, '')}`;
    const dispute = disputeEvent({ paymentIntent: disputed });
    expect((await postStripe(base, dispute)).body.outcome).toBe('ignored');
    await postStripe(base, checkoutEvent({ customer, priceId: PACK, paymentIntent: disputed }));
    expect((await balanceRow(db(), userId)).bonus).toBe(0);
    expect(await eventRow(dispute.id)).toMatchObject({ outcome: 'processed', creditsDelta: -10 });
    const [frozen] = await db().select().from(stripePackGrants).where(eq(stripePackGrants.paymentIntentId, disputed));
    expect(frozen).toMatchObject({ status: 'frozen' });

    // Both at the same moment, either one first: the pack is taken back all the same.
    for (let i = 0; i < 5; i++) {
      const racing = `pi_${uniqueId('race').replace(/-/g, '')}`;
      await Promise.all([
        postStripe(base, refundEvent({ paymentIntent: racing, amount: 1000, amountRefunded: 1000 })),
        postStripe(base, checkoutEvent({ customer, priceId: PACK, paymentIntent: racing, amount: 1000 })),
      ]);
      expect((await balanceRow(db(), userId)).bonus).toBe(0);
    }
  });

  it('[PAYMENTS] a won dispute gives the frozen credits back to the pack, which is spent as before', async () => {
    const { userId, customer } = await linkedUser('free');
    const paymentIntent = `pi_${uniqueId('won').replace(/-/g, '')}`;
    await postStripe(base, checkoutEvent({ customer, priceId: PACK, paymentIntent }));
    await spend(userId, 3);
    await postStripe(base, disputeEvent({ paymentIntent }));
    expect((await balanceRow(db(), userId)).bonus).toBe(0);
    // Frozen credits cannot be spent meanwhile.
    await expect(spend(userId, 1)).rejects.toThrow();
    const won = disputeClosedEvent({ paymentIntent, status: 'won' });
    expect((await postStripe(base, won)).body.outcome).toBe('processed');
    expect(await eventRow(won.id)).toMatchObject({ creditsDelta: 7 });
    const [pack] = await db().select().from(stripePackGrants).where(eq(stripePackGrants.paymentIntentId, paymentIntent));
    expect(pack).toMatchObject({ status: 'granted', creditsClawedBack: 0, creditsLost: 0 });
    expect((await balanceRow(db(), userId)).bonus).toBe(7);
    await spend(userId, 1);
    expect((await balanceRow(db(), userId)).bonus).toBe(6);
    // Closed twice: nothing more.
    expect((await postStripe(base, disputeClosedEvent({ paymentIntent, status: 'won' }))).body.outcome).toBe('ignored');
  });
});

describe('[PAYMENTS] signatures', () => {
  const refusals = async () => (await queryOne(db(), countRow, sql`select count(*)::int as n from stripe_events where outcome = 'refused'`))!.n;

  it('[PAYMENTS] an unsigned, wrongly signed or too-old event is refused with 400, recorded as refused, and changes nothing', async () => {
    const { userId, customer } = await linkedUser('free');
    const before = await balanceRow(db(), userId);
    const refusedBefore = await refusals();
    const event = checkoutEvent({ customer, priceId: PACK });
    const cases = [
      await postStripe(base, event, { signature: null }),
      await postStripe(base, event, { secret: 'whsec_not_the_endpoint_secret' }),
      await postStripe(base, event, { signature: 't=1,v1=deadbeef' }),
      // A genuinely signed event replayed 10 minutes later (tolerance 5 minutes).
      await postStripe(base, event, { timestamp: Math.floor(Date.now() / 1000) - 600 }),
    ];
    // The body changed after signing.
    const payload = JSON.stringify(event);
    const signature = signStripe(payload);
    cases.push(await postStripe(base, payload.replace('"amount_total":1000', '"amount_total":1'), { signature }));
    expect(cases.map((c) => c.status)).toEqual([400, 400, 400, 400, 400]);
    expect(cases.every((c) => c.body.received === false && /Signature verification failed/.test(c.body.error ?? ''))).toBe(true);
    expect(await refusals()).toBe(refusedBefore + 5);
    expect(await eventRow(event.id)).toBeUndefined();
    expect(await balanceRow(db(), userId)).toEqual(before);
    expect(await tierOf(userId)).toBe('free');
  });

  it('without STRIPE_WEBHOOK_SECRET the route answers 503 and says what to set', async () => {
    const bare = await buildApp({ ...server.env.deps, config: { ...server.env.deps.config, STRIPE_WEBHOOK_SECRET: undefined } });
    try {
      const res = await bare.inject({ method: 'POST', url: '/webhooks/stripe', payload: JSON.stringify(checkoutEvent({})), headers: { 'content-type': 'application/json' } });
      expect(res.statusCode).toBe(503);
      expect(res.json<{ error: string }>().error).toContain('STRIPE_WEBHOOK_SECRET');
    } finally {
      await bare.close();
    }
  });

  it('the events list shows each event with its outcome, newest first, filtered by outcome', async () => {
    const page = await admin.admin.payments.events.list({ limit: 5 });
    expect(page.items.length).toBe(5);
    expect(Number(page.items[0]!.id)).toBeGreaterThan(Number(page.items[4]!.id));
    const next = await admin.admin.payments.events.list({ limit: 5, cursor: page.nextCursor! });
    expect(Number(next.items[0]!.id)).toBeLessThan(Number(page.items[4]!.id));
    const refused = await admin.admin.payments.events.list({ outcome: 'refused', limit: 200 });
    expect(refused.items.length).toBeGreaterThan(0);
    expect(refused.items.every((e) => e.outcome === 'refused' && e.eventId === null)).toBe(true);
  });
});
