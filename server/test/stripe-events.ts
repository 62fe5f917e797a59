import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';

/** Stripe events as Stripe sends them (the fields Creditdesk reads, and a few around them), signed locally. */
export const TEST_STRIPE_SECRET = `whsec_${randomBytes(24).toString('base64url')}`;

const sid = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

export type TestEvent = { id: string; object: 'event'; type: string; created: number; livemode: false; api_version: string; data: { object: Record<string, unknown> } };

export function stripeEvent(type: string, object: Record<string, unknown>, opts: { id?: string; created?: number } = {}): TestEvent {
  return { id: opts.id ?? sid('evt'), object: 'event', type, created: opts.created ?? now(), livemode: false, api_version: '2025-01-27.acacia', data: { object } };
}

export const newCustomerId = () => sid('cus');
export const newSubscriptionId = () => sid('sub');

export function subscriptionEvent(
  type: 'customer.subscription.created' | 'customer.subscription.updated' | 'customer.subscription.deleted',
  sub: { id: string; customer: string; priceId: string; status?: string; metadata?: Record<string, string> },
  opts: { created?: number; id?: string } = {},
) {
  return stripeEvent(
    type,
    {
      id: sub.id,
      object: 'subscription',
      customer: sub.customer,
      status: sub.status ?? (type === 'customer.subscription.deleted' ? 'canceled' : 'active'),
      metadata: sub.metadata ?? {},
      items: { object: 'list', data: [{ id: sid('si'), object: 'subscription_item', price: { id: sub.priceId, object: 'price' }, quantity: 1 }] },
    },
    opts,
  );
}

export function checkoutEvent(
  s: { customer?: string | null; priceId?: string; userId?: string; paymentIntent?: string; paymentStatus?: string; amount?: number; mode?: string; sessionId?: string },
  opts: { id?: string } = {},
) {
  const metadata: Record<string, string> = {};
  if (s.priceId) metadata.creditdesk_price_id = s.priceId;
  if (s.userId) metadata.creditdesk_user_id = s.userId;
  return stripeEvent(
    'checkout.session.completed',
    {
      id: s.sessionId ?? sid('cs_test'),
      object: 'checkout.session',
      mode: s.mode ?? 'payment',
      customer: s.customer ?? null,
      payment_status: s.paymentStatus ?? 'paid',
      payment_intent: s.paymentIntent ?? sid('pi'),
      amount_total: s.amount ?? 1000,
      currency: 'usd',
      metadata,
    },
    opts,
  );
}

export function refundEvent(c: { paymentIntent: string; amount: number; amountRefunded: number; chargeId?: string }, opts: { id?: string } = {}) {
  return stripeEvent(
    'charge.refunded',
    {
      id: c.chargeId ?? sid('ch'),
      object: 'charge',
      amount: c.amount,
      amount_refunded: c.amountRefunded,
      refunded: c.amountRefunded >= c.amount,
      currency: 'usd',
      payment_intent: c.paymentIntent,
    },
    opts,
  );
}

export function disputeEvent(d: { paymentIntent: string; chargeId?: string }) {
  return stripeEvent('charge.dispute.created', {
    id: sid('dp'),
    object: 'dispute',
    charge: d.chargeId ?? sid('ch'),
    payment_intent: d.paymentIntent,
    reason: 'fraudulent',
    status: 'needs_response',
    amount: 1000,
  });
}

/** charge.dispute.closed for a payment, with the dispute's outcome. */
export function disputeClosedEvent(d: { paymentIntent: string; status: 'won' | 'lost'; chargeId?: string }) {
  return stripeEvent('charge.dispute.closed', {
    id: sid('dp'),
    object: 'dispute',
    charge: d.chargeId ?? sid('ch'),
    payment_intent: d.paymentIntent,
    reason: 'fraudulent',
    status: d.status,
    amount: 1000,
  });
}

/** The `Stripe-Signature` header Stripe would send for `payload`, made by the stripe library itself. */
export const signStripe = (payload: string, opts: { secret?: string; timestamp?: number } = {}) =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret: opts.secret ?? TEST_STRIPE_SECRET, ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}) });

/** POSTs an event (or raw text) to a running server's /webhooks/stripe, signed unless `signature` is given. */
export async function postStripe(base: string, event: TestEvent | string, opts: { signature?: string | null; secret?: string; timestamp?: number } = {}) {
  const payload = typeof event === 'string' ? event : JSON.stringify(event);
  const signature = opts.signature === undefined ? signStripe(payload, opts) : opts.signature;
  const res = await fetch(`${base}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', ...(signature !== null ? { 'stripe-signature': signature } : {}) },
    body: payload,
  });
  return { status: res.status, body: (await res.json()) as { received: boolean; outcome?: string; reason?: string; duplicate?: boolean; error?: string } };
}
