import type { FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import type { AppDeps } from '../app-deps';
import { applyStripeEvent, recordRefusal } from './stripe-events';

/** Stripe's signature check needs the library's webhook helpers only; no API key is ever used. */
const webhooks = Stripe.webhooks;

export type StripeAnswer = { status: number; body: Record<string, unknown>; changed: boolean };

/**
 * Verifies and applies one delivery. A bad, missing or too-old signature is 400 and recorded as a
 * refusal; an event applied or ignored is 200 (Stripe stops sending it); one whose processing failed
 * is 500, so Stripe sends it again.
 */
export async function receiveStripeWebhook(
  deps: Pick<AppDeps, 'dbHandle' | 'config' | 'log'>,
  input: { body: Buffer; signature: string | string[] | undefined; secret: string },
): Promise<StripeAnswer> {
  let event: Stripe.Event;
  try {
    if (typeof input.signature !== 'string' || input.signature === '') throw new Error('no Stripe-Signature header');
    event = webhooks.constructEvent(input.body, input.signature, input.secret, deps.config.STRIPE_WEBHOOK_TOLERANCE_SECONDS);
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
    await recordRefusal(deps.dbHandle.db, `signature refused: ${message}`);
    return { status: 400, body: { received: false, error: `Signature verification failed: ${message}` }, changed: true };
  }
  const applied = await applyStripeEvent(deps.dbHandle.db, event);
  if (applied.duplicate) return { status: 200, body: { received: true, duplicate: true }, changed: false };
  if ('failed' in applied) {
    deps.log.error({ eventId: event.id, type: event.type, err: applied.failed }, 'stripe event failed');
    return { status: 500, body: { received: false, error: 'processing failed; Stripe will send the event again' }, changed: true };
  }
  return { status: 200, body: { received: true, outcome: applied.outcome.outcome, reason: applied.outcome.reason }, changed: true };
}

/**
 * POST /webhooks/stripe, in its own scope: the body is kept as the raw bytes Stripe signed (any
 * content type), which the signature is checked against. Without STRIPE_WEBHOOK_SECRET it answers 503.
 */
export async function registerStripeWebhookRoute(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post('/webhooks/stripe', async (req, reply) => {
      const secret = deps.config.STRIPE_WEBHOOK_SECRET;
      if (!secret) {
        return reply.code(503).send({ received: false, error: 'Stripe webhooks are not configured on this server: set STRIPE_WEBHOOK_SECRET to the endpoint signing secret (whsec_…).' });
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const answer = await receiveStripeWebhook(deps, { body, signature: req.headers['stripe-signature'], secret });
      if (answer.changed) deps.realtime.bus.changed();
      return reply.code(answer.status).send(answer.body);
    });
  });
}
