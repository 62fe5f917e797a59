import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../auth/api-keys';
import { cliActor } from '../auth/audit';
import { createTestEnv, type TestEnv } from '../test/harness';
import { trpcHttp } from '../test/http-client';
import { key, newUser } from '../test/ledger-helpers';
import { startServer } from '../test/spawn';
import { waitFor } from '../test/wait';
import { startWebhookReceiver, verifyReceived, type WebhookReceiver } from '../test/webhook-receiver';
import { createEndpoint } from '../webhooks/endpoints';
import { webhookAttempts, webhookDeliveries, webhookEvents } from '../webhooks/tables';
import { expectReconciled } from './lib/reconciled';

let env: TestEnv;
let receiver: WebhookReceiver;
beforeAll(async () => {
  env = await createTestEnv();
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver.close();
  await env.close();
});

describe('[FAULT] kill -9 between the outbox commit and the delivery being recorded', () => {
  it('the event committed by the killed process is delivered by the next one, under the same webhook-id', async () => {
    const db = env.deps.dbHandle.db;
    const { secret } = await createEndpoint(db, env.deps, cliActor, { url: receiver.url, events: ['credits.depleted'] });
    const userId = await newUser(db, 'plus');
    const apiKey = await createApiKey(db, cliActor, { name: 'webhook kill test', scopes: ['credits:write'] });
    // In-process jobs (the dispatcher runs in the server); a short timeout keeps the claim's lease short.
    const serverEnv = { ...env.env, REDIS_URL: 'off', LOG_LEVEL: 'error', WEBHOOK_TIMEOUT_SECONDS: '3' };

    // The receiver takes the request and never answers: the victim is mid-send when it dies.
    receiver.state.hang = true;
    const victim = await startServer(serverEnv);
    const charged = await trpcHttp(victim.url, apiKey.secret).mutation('credits.consume', { userId, credits: 10, enhancementType: 'lighting', idempotencyKey: key() });
    expect(charged.body.result.data.remainingBalance).toBe(0);
    const [event] = await db.select().from(webhookEvents).where(eq(webhookEvents.type, 'credits.depleted'));
    expect(event).toBeDefined();

    await waitFor(() => receiver.state.received.length > 0, { timeoutMs: 30_000, what: 'the victim to start sending' });
    victim.child.kill('SIGKILL');
    await waitFor(() => victim.child.exitCode !== null || victim.child.signalCode !== null, { what: 'the victim to die' });
    const [orphan] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.eventId, event!.id));
    // Claimed and sent, never recorded: still pending, with no attempt logged.
    expect(orphan).toMatchObject({ status: 'pending', attempts: 1, deliveredAt: null });
    expect(await db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, orphan!.id))).toHaveLength(0);

    receiver.state.hang = false;
    const survivor = await startServer(serverEnv);
    try {
      await waitFor(
        async () => {
          const [d] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, orphan!.id));
          return d?.status === 'delivered';
        },
        { timeoutMs: 60_000, intervalMs: 250, what: 'the survivor to deliver the orphaned event' },
      );
    } finally {
      await survivor.stop();
    }
    const sent = receiver.of('credits.depleted', userId);
    expect(sent).toHaveLength(2);
    expect(sent.map((r) => r.headers['webhook-id'])).toEqual([event!.msgId, event!.msgId]);
    expect(verifyReceived(secret, sent[1]!)).toMatchObject({ type: 'credits.depleted', data: { userId, balance: 0 } });
    await expectReconciled(db);
  });
});
