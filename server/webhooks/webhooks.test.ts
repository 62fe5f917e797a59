import { and, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { systemAlerts } from '../alerts/tables';
import { cliActor } from '../auth/audit';
import { col, countRow, queryOne, queryRows } from '../db/rows';
import { grantCredits } from '../ledger/admin-ops';
import { expireGrants } from '../ledger/grant-expiry';
import { consumeCredits } from '../ledger/consume';
import { allocateMonthlyCredits } from '../ledger/monthly-reset';
import { creditGrants } from '../ledger/tables';
import { runEnhancement } from '../providers/gateway';
import { startImageServer } from '../test/fake-providers';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { configureProviders } from '../test/provider-helpers';
import { expectLedgerClean, key, newUser, setAllowanceBalance } from '../test/ledger-helpers';
import { startWebhookReceiver, verifyReceived, type WebhookReceiver } from '../test/webhook-receiver';
import { waitFor } from '../test/wait';
import type { WebhookEventType } from '../../shared/webhooks';
import { webhookRetryDelayMs } from './backoff';
import { metricsRegistry } from '../ops/metrics';
import { replayDelivery } from './delivery-admin';
import { runWebhookDispatch } from './dispatch';
import { createEndpoint } from './endpoints';
import { webhookDeliveries, webhookEndpoints } from './tables';

let env: TestEnv;
let images: Awaited<ReturnType<typeof startImageServer>>;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true' });
  images = await startImageServer();
});
afterEach(async () => {
  await expectLedgerClean(db());
  // Each test's endpoints hear only that test's events.
  await db().delete(webhookEndpoints);
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await images.close();
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const allEvents = [...(['credits.low', 'credits.depleted', 'credits.reset', 'grant.expired', 'enhancement.completed', 'enhancement.degraded'] as const)];

async function endpoint(events: WebhookEventType[] = allEvents) {
  const receiver = await startWebhookReceiver();
  receivers.push(receiver);
  const { endpoint: ep, secret } = await createEndpoint(db(), env.deps, cliActor, { url: receiver.url, events });
  return { receiver, secret, id: ep.id };
}

/** A dispatcher pass with the scheduling clock at `at` (jitter fixed at its middle). */
const dispatch = (at: Date = new Date()) => runWebhookDispatch(db(), { ...env.deps, now: () => at, random: () => 0.5, timeoutMs: 2_000 });

const consume = (userId: string, credits: number) => consumeCredits(db(), { userId, credits, enhancementType: 'lighting', idempotencyKey: key() });

async function eventsOf(type: string, userId: string) {
  const row = await queryOne(db(), countRow, sql`select count(*)::int as n from webhook_events where type = ${type} and payload->'data'->>'userId' = ${userId}`);
  return row!.n;
}

async function lastResetLastMonth(userId: string) {
  await db().execute(sql`update user_credits set last_reset_at = date_trunc('month', now(), 'UTC') - interval '3 days' where user_id = ${userId}`);
}

describe('[WEBHOOKS] events are emitted by their causes and delivered signed', () => {
  it('credits.low when the balance crosses below 20% of the allowance, credits.depleted at 0; both verify with the standardwebhooks library', async () => {
    const { receiver, secret } = await endpoint();
    const userId = await newUser(db(), 'plus'); // allowance 10: below 20% is a balance of 1 or 0
    await consume(userId, 8);
    expect(await eventsOf('credits.low', userId)).toBe(0);
    await consume(userId, 1);
    await consume(userId, 1);
    expect(await eventsOf('credits.low', userId)).toBe(1);
    expect(await eventsOf('credits.depleted', userId)).toBe(1);

    expect(await dispatch()).toMatchObject({ delivered: 2, retrying: 0 });
    // /metrics counts each attempt by event type and outcome.
    expect(await metricsRegistry.getSingleMetricAsString('creditdesk_webhook_deliveries_total')).toMatch(/event="credits\.low",outcome="delivered"\} [1-9]/);
    const [low] = receiver.of('credits.low', userId);
    const [depleted] = receiver.of('credits.depleted', userId);
    expect(verifyReceived(secret, low!)).toMatchObject({ type: 'credits.low', data: { userId, balance: 1, monthlyAllowance: 10, tier: 'plus' } });
    expect(verifyReceived(secret, depleted!)).toMatchObject({ type: 'credits.depleted', data: { userId, balance: 0 } });
    expect(low!.headers['webhook-id']).toMatch(/^msg_/);
    expect(low!.headers['webhook-signature']).toMatch(/^v1,/);
    expect(() => verifyReceived(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, low!)).toThrow();
  });

  it('credits.low is sent once per user per month: not again on the next consume below 20% nor on a second crossing that month, again after the monthly reset', async () => {
    const { receiver, secret } = await endpoint(['credits.low', 'credits.reset']);
    const userId = await newUser(db(), 'pro'); // allowance 25: below 20% is under 5
    await consume(userId, 21);
    await consume(userId, 1);
    await consume(userId, 1);
    expect(await eventsOf('credits.low', userId)).toBe(1);
    // Lifted above 20% by a grant and crossing again in the same month: the month's key was used.
    await grantCredits(db(), cliActor, { userId, credits: 10, reason: 'goodwill' });
    await consume(userId, 10);
    expect(await eventsOf('credits.low', userId)).toBe(1);

    await lastResetLastMonth(userId);
    expect((await allocateMonthlyCredits(db())).usersReset).toBeGreaterThanOrEqual(1);
    expect(await eventsOf('credits.reset', userId)).toBe(1);
    // 25 allowance + 2 bonus left of the grant: under 5 after 24 more.
    await consume(userId, 24);
    await consume(userId, 1);
    expect(await eventsOf('credits.low', userId)).toBe(2);

    await dispatch();
    expect(receiver.of('credits.low', userId)).toHaveLength(2);
    const [reset] = receiver.of('credits.reset', userId);
    expect(verifyReceived(secret, reset!)).toMatchObject({ type: 'credits.reset', data: { userId, balance: 27, monthlyAllowance: 25 } });
  });

  it('a rolled-back transaction emits nothing; the same change committed emits', async () => {
    await endpoint(['credits.low', 'credits.depleted']);
    const userId = await newUser(db(), 'plus');
    await expect(
      db().transaction(async (tx) => {
        await consumeCredits(tx, { userId, credits: 10, enhancementType: 'lighting', idempotencyKey: key() });
        throw new Error('the caller rolls back');
      }),
    ).rejects.toThrow('the caller rolls back');
    expect(await eventsOf('credits.depleted', userId)).toBe(0);
    expect(await eventsOf('credits.low', userId)).toBe(0);
    await db().transaction((tx) => consumeCredits(tx, { userId, credits: 10, enhancementType: 'lighting', idempotencyKey: key() }));
    expect(await eventsOf('credits.depleted', userId)).toBe(1);
  });

  it('grant.expired from the grant expiry job, delivered signed', async () => {
    const { receiver, secret } = await endpoint(['grant.expired']);
    const userId = await newUser(db(), 'free');
    await grantCredits(db(), cliActor, { userId, credits: 3, reason: 'trial credits', expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await db()
      .update(creditGrants)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(creditGrants.userId, userId));
    expect(await expireGrants(db())).toBe(1);
    await dispatch();
    const [got] = receiver.of('grant.expired', userId);
    expect(verifyReceived(secret, got!)).toMatchObject({ type: 'grant.expired', data: { userId, credits: 3 } });
    // The endpoint subscribed to grant.expired alone: the depletion the expiry caused is not sent to
    // it, nor even written, as no endpoint listens to credits.depleted.
    expect(receiver.of('credits.depleted', userId)).toHaveLength(0);
    expect(await eventsOf('credits.depleted', userId)).toBe(0);
  });

  it('enhancement.completed when a provider serves and enhancement.degraded when none can, from the finalising step', async () => {
    const { receiver, secret } = await endpoint(['enhancement.completed', 'enhancement.degraded']);
    const local = uniqueId('local').toLowerCase();
    await configureProviders(env.deps, [{ name: local, kind: 'local', baseUrl: 'http://localhost' }]);
    const userId = await newUser(db(), 'plus');
    const done = await runEnhancement(env.deps.gateway, { userId, inputImageUrl: images.inputUrl, enhancementType: 'upscale', idempotencyKey: key() });
    expect(done.status).toBe('enhanced');
    await db().execute(sql`update api_providers set is_active = false`);
    const degraded = await runEnhancement(env.deps.gateway, { userId, inputImageUrl: images.inputUrl, enhancementType: 'upscale', idempotencyKey: key() });
    expect(degraded.status).toBe('degraded');
    await dispatch();
    const [completed] = receiver.of('enhancement.completed', userId);
    const [degradedEvent] = receiver.of('enhancement.degraded', userId);
    expect(verifyReceived(secret, completed!)).toMatchObject({ data: { userId, result: { status: 'enhanced', provider: local } } });
    expect(verifyReceived(secret, degradedEvent!)).toMatchObject({ data: { userId, result: { status: 'degraded' } } });
  });
});

describe('[WEBHOOKS] delivery', () => {
  const deliveryOf = async (endpointId: string) => {
    const [d] = await db().select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpointId));
    return d!;
  };

  it('a delivery that fails is retried with backoff and delivered once the receiver recovers, under the same webhook-id', async () => {
    const { receiver, secret, id } = await endpoint(['credits.depleted']);
    receiver.state.status = 503;
    const userId = await newUser(db(), 'plus');
    await consume(userId, 10);
    const t0 = new Date();
    expect(await dispatch(t0)).toMatchObject({ delivered: 0, retrying: 1 });
    const afterFirst = await deliveryOf(id);
    expect(afterFirst.nextAttemptAt.getTime() - t0.getTime()).toBe(webhookRetryDelayMs(1, () => 0.5));

    receiver.state.status = 200;
    // Not due yet: nothing is sent before the backoff has passed.
    expect(await dispatch(new Date(afterFirst.nextAttemptAt.getTime() - 1000))).toMatchObject({ delivered: 0, retrying: 0 });
    expect(receiver.state.received).toHaveLength(1);
    expect(await dispatch(afterFirst.nextAttemptAt)).toMatchObject({ delivered: 1 });

    const [first, second] = receiver.state.received;
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(verifyReceived(secret, second!)).toMatchObject({ type: 'credits.depleted', data: { userId } });
    expect(await deliveryOf(id)).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 200, lastError: null });
    const attempts = await queryRows(db(), z.object({ response_status: col.integerOrNull }), sql`select response_status from webhook_attempts where delivery_id = ${afterFirst.id} order by id`);
    expect(attempts.map((a) => a.response_status)).toEqual([503, 200]);
    const [ep] = await db().select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
    expect(ep!.failingSince).toBeNull();
  });

  it('an endpoint failing every delivery for 24 hours is disabled with an alert, and its delivery gives up', async () => {
    const { receiver, id } = await endpoint(['credits.depleted']);
    receiver.state.status = 500;
    const userId = await newUser(db(), 'plus');
    await consume(userId, 10);
    const t0 = new Date();
    await dispatch(t0);
    let attempts = 1;
    for (let d = await deliveryOf(id); d.status === 'pending'; d = await deliveryOf(id)) {
      expect(attempts++).toBeLessThan(40);
      await dispatch(d.nextAttemptAt);
    }
    const gaveUp = await deliveryOf(id);
    expect(gaveUp.status).toBe('failed');
    expect(gaveUp.lastAttemptAt!.getTime() - t0.getTime()).toBe(24 * 3600_000);
    // Exponential: far fewer attempts than a fixed short interval would make.
    expect(gaveUp.attempts).toBeGreaterThan(8);
    expect(gaveUp.attempts).toBeLessThan(25);
    const [ep] = await db().select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
    expect(ep).toMatchObject({ status: 'disabled', disabledReason: 'every delivery failed for 24 hours' });
    const alerts = await db()
      .select()
      .from(systemAlerts)
      .where(and(eq(systemAlerts.type, 'webhook_endpoint_disabled'), eq(systemAlerts.subject, id)));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.message).toContain(receiver.url);
  });

  it('replay re-delivers a delivered event with the same webhook-id and a valid signature', async () => {
    const { receiver, secret, id } = await endpoint(['credits.depleted']);
    const userId = await newUser(db(), 'plus');
    await consume(userId, 10);
    await dispatch();
    const delivered = await deliveryOf(id);
    expect(delivered.status).toBe('delivered');
    const replay = await replayDelivery(db(), cliActor, String(delivered.id));
    expect(await dispatch()).toMatchObject({ delivered: 1 });
    const [first, again] = receiver.state.received;
    expect(again!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(again!.headers['webhook-id']).toBe(replay.msgId);
    expect(again!.raw).toBe(first!.raw);
    expect(verifyReceived(secret, again!)).toMatchObject({ type: 'credits.depleted' });
    expect(await deliveryOf(id)).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('a replay made while an attempt is in flight is kept: the attempt failing at the end of its window does not give the replayed delivery up', async () => {
    const { receiver, secret, id } = await endpoint(['credits.depleted']);
    receiver.state.status = 503;
    const userId = await newUser(db(), 'plus');
    await consume(userId, 10);
    const t0 = new Date();
    expect(await dispatch(t0)).toMatchObject({ retrying: 1 });
    // The delivery's last try, at the end of its 24 h window (the endpoint itself answered other deliveries meanwhile).
    await db().update(webhookEndpoints).set({ failingSince: null }).where(eq(webhookEndpoints.id, id));
    receiver.state.hang = true;
    const late = new Date(t0.getTime() + 24 * 3600_000);
    const run = dispatch(late);
    await waitFor(() => receiver.state.received.length === 2, { what: 'the in-flight attempt' });
    const delivery = await deliveryOf(id);
    // An admin replays it while that attempt is still waiting for an answer (it times out).
    await replayDelivery(db(), cliActor, String(delivery.id), late);
    expect(await run).toMatchObject({ delivered: 0 });
    expect(await deliveryOf(id)).toMatchObject({ status: 'pending' });
    receiver.state.hang = false;
    receiver.state.status = 200;
    expect(await dispatch(late)).toMatchObject({ delivered: 1 });
    const again = receiver.state.received.at(-1)!;
    expect(again.headers['webhook-id']).toBe(receiver.state.received[0]!.headers['webhook-id']);
    expect(verifyReceived(secret, again)).toMatchObject({ type: 'credits.depleted', data: { userId } });
    expect(await deliveryOf(id)).toMatchObject({ status: 'delivered' });
  });

  it('an event that no enabled endpoint listens to is not written: a monthly reset with no credits.reset subscriber writes no outbox rows', async () => {
    await endpoint(['credits.depleted']);
    const users = await Promise.all([newUser(db(), 'pro'), newUser(db(), 'plus'), newUser(db(), 'pro')]);
    for (const u of users) await lastResetLastMonth(u);
    expect((await allocateMonthlyCredits(db())).usersReset).toBeGreaterThanOrEqual(3);
    for (const u of users) expect(await eventsOf('credits.reset', u)).toBe(0);
    // The subscribed type still is.
    await consume(users[1], 10);
    expect(await eventsOf('credits.depleted', users[1])).toBe(1);
  });

  it('the balance triggers count in bigint: a balance of a billion credits still moves (5 × balance overflowed an integer)', async () => {
    await endpoint(['credits.low', 'credits.depleted']);
    const userId = await newUser(db(), 'pro');
    await setAllowanceBalance(db(), userId, 1_000_000_000);
    await consume(userId, 1);
    expect(await queryOne(db(), z.object({ b: col.integer }), sql`select current_balance as b from user_credits where user_id = ${userId}`)).toEqual({ b: 999_999_999 });
    expect(await eventsOf('credits.low', userId)).toBe(0);
  });

  it('a disabled endpoint is sent nothing; events of types it did not subscribe to are not sent to it', async () => {
    const on = await endpoint(['credits.depleted']);
    const off = await endpoint(['credits.depleted']);
    await db().update(webhookEndpoints).set({ status: 'disabled', disabledReason: 'test' }).where(eq(webhookEndpoints.id, off.id));
    const userId = await newUser(db(), 'pro');
    await consume(userId, 25);
    await dispatch();
    expect(on.receiver.of('credits.depleted', userId)).toHaveLength(1);
    expect(on.receiver.of('credits.low', userId)).toHaveLength(0);
    expect(off.receiver.state.received).toHaveLength(0);
  });
});
