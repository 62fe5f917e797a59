import { and, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../auth/tables';
import { consumeCredits } from '../ledger/consume';
import { createTestEnv, signedInCaller, type TestEnv } from '../test/harness';
import { expectLedgerClean, key, newUser, reasonOf } from '../test/ledger-helpers';
import { startWebhookReceiver, verifyReceived, type WebhookReceiver } from '../test/webhook-receiver';
import { runWebhookDispatch } from './dispatch';
import { webhookEndpoints } from './tables';

let env: TestEnv;
const receivers: WebhookReceiver[] = [];
beforeAll(async () => {
  env = await createTestEnv();
});
afterEach(async () => {
  await expectLedgerClean(env.deps.dbHandle.db);
  await env.deps.dbHandle.db.delete(webhookEndpoints);
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const audits = (action: string, targetId: string) =>
  db()
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, action), eq(auditLog.targetId, targetId)));
async function receiver() {
  const r = await startWebhookReceiver();
  receivers.push(r);
  return r;
}
const dispatch = () => runWebhookDispatch(db(), { ...env.deps, timeoutMs: 2_000 });

describe('[WEBHOOKS] admin.webhooks procedures', () => {
  it('create answers the whsec_ secret once; list never carries it and the stored value is sealed; every change is audited', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const r = await receiver();
    const created = await caller.admin.webhooks.create({ url: r.url, events: ['credits.depleted', 'credits.depleted', 'credits.low'] });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.endpoint).toMatchObject({ url: r.url, events: ['credits.depleted', 'credits.low'], status: 'enabled' });
    const listed = await caller.admin.webhooks.list();
    expect(JSON.stringify(listed)).not.toContain(created.secret.slice(6));
    const [row] = await db().select().from(webhookEndpoints).where(eq(webhookEndpoints.id, created.endpoint.id));
    expect(row!.secretEncrypted).not.toContain(created.secret.slice(6));

    const id = created.endpoint.id;
    expect(await caller.admin.webhooks.update({ id, events: ['credits.reset'], enabled: false })).toMatchObject({ events: ['credits.reset'], status: 'disabled' });
    expect(await caller.admin.webhooks.update({ id, enabled: true })).toMatchObject({ status: 'enabled', disabledReason: null });
    await caller.admin.webhooks.delete({ id });
    expect(await caller.admin.webhooks.list()).toEqual([]);
    for (const action of ['webhook.create', 'webhook.update', 'webhook.delete']) expect((await audits(action, id)).length).toBeGreaterThan(0);
    const [createdAudit] = await audits('webhook.create', id);
    expect(JSON.stringify(createdAudit!.after)).not.toContain(created.secret.slice(6));
  });

  it('a rotated secret signs every delivery from then on; the old one no longer verifies', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const r = await receiver();
    const created = await caller.admin.webhooks.create({ url: r.url, events: ['credits.depleted'] });
    const rotated = await caller.admin.webhooks.rotateSecret({ id: created.endpoint.id });
    expect(rotated.secret).not.toBe(created.secret);
    const userId = await newUser(db(), 'plus');
    await consumeCredits(db(), { userId, credits: 10, enhancementType: 'lighting', idempotencyKey: key() });
    await dispatch();
    const [got] = r.of('credits.depleted', userId);
    expect(verifyReceived(rotated.secret, got!)).toMatchObject({ type: 'credits.depleted' });
    expect(() => verifyReceived(created.secret, got!)).toThrow();
    expect(await audits('webhook.rotate_secret', created.endpoint.id)).toHaveLength(1);
  });

  it('deliveries are listed a page at a time with their attempts, and replay queues one again (audited)', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const r = await receiver();
    const { endpoint } = await caller.admin.webhooks.create({ url: r.url, events: ['credits.depleted'] });
    const users = [await newUser(db(), 'plus'), await newUser(db(), 'plus'), await newUser(db(), 'plus')];
    for (const userId of users) await consumeCredits(db(), { userId, credits: 10, enhancementType: 'lighting', idempotencyKey: key() });
    await dispatch();
    const page0 = await caller.admin.webhooks.deliveries({ endpointId: endpoint.id, page: 0, pageSize: 2 });
    const page1 = await caller.admin.webhooks.deliveries({ endpointId: endpoint.id, page: 1, pageSize: 2 });
    expect(page0.total).toBe(3);
    expect(page0.rows).toHaveLength(2);
    expect(page1.rows).toHaveLength(1);
    expect(page0.rows[0]).toMatchObject({ status: 'delivered', attempts: 1, eventType: 'credits.depleted', lastStatus: 200 });
    expect(page0.rows[0]!.recentAttempts).toEqual([expect.objectContaining({ responseStatus: 200, error: null })]);

    const target = page1.rows[0]!;
    expect(await caller.admin.webhooks.replay({ deliveryId: target.id })).toEqual({ id: target.id, msgId: target.msgId });
    await dispatch();
    expect(r.state.received.filter((x) => x.headers['webhook-id'] === target.msgId)).toHaveLength(2);
    expect(await audits('webhook.replay', target.id)).toHaveLength(1);
    expect(await reasonOf(caller.admin.webhooks.replay({ deliveryId: '999999999' }))).toBe('NOT_FOUND');
  });

  it('analysts read endpoints and deliveries but change nothing; a URL the outbound policy refuses is refused at create', async () => {
    const { caller: admin } = await signedInCaller(env.deps, 'admin');
    const { caller: analyst } = await signedInCaller(env.deps, 'analyst');
    const r = await receiver();
    const { endpoint } = await admin.admin.webhooks.create({ url: r.url, events: ['credits.low'] });
    expect(await analyst.admin.webhooks.list()).toHaveLength(1);
    expect((await analyst.admin.webhooks.deliveries({ endpointId: endpoint.id })).total).toBe(0);
    const refusals = await Promise.all([
      reasonOf(analyst.admin.webhooks.create({ url: r.url, events: ['credits.low'] })),
      reasonOf(analyst.admin.webhooks.update({ id: endpoint.id, enabled: false })),
      reasonOf(analyst.admin.webhooks.delete({ id: endpoint.id })),
      reasonOf(analyst.admin.webhooks.rotateSecret({ id: endpoint.id })),
      reasonOf(analyst.admin.webhooks.replay({ deliveryId: '1' })),
    ]);
    expect(refusals).toEqual(Array(5).fill('FORBIDDEN'));

    const strict = await createTestEnv({ ALLOW_PRIVATE_OUTBOUND: 'false' });
    try {
      const { caller } = await signedInCaller(strict.deps, 'admin');
      expect(await reasonOf(caller.admin.webhooks.create({ url: r.url, events: ['credits.low'] }))).toBe('BAD_REQUEST');
      expect(await strict.deps.dbHandle.db.execute(sql`select 1 from webhook_endpoints`)).toHaveLength(0);
    } finally {
      await strict.close();
    }
  });
});
