import { and, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cliActor } from '../auth/audit';
import { checkAllProviders } from '../jobs/provider-health';
import { creditPool } from '../pools/credit-pool';
import { drawFromPool } from '../pools/draw';
import { checkProviderBalances } from '../pools/provider-balance-check';
import { creditPurchaseRequests, platformSettings } from '../pools/tables';
import { startFakeBilling } from '../test/fake-billing';
import { startFakeChannels, type FakeChannels } from '../test/fake-channels';
import { startFakeProvider } from '../test/fake-providers';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { expectLedgerClean } from '../test/ledger-helpers';
import { expectPoolsClean, seedPool } from '../test/pool-helpers';
import { configureProviders } from '../test/provider-helpers';
import { runAlertDispatch } from './alert-service';
import { updateChannel } from './channel-settings';
import { checkCreditThresholds } from './credit-thresholds';
import { alertDeliveries, systemAlerts } from './tables';

let env: TestEnv;
let fakes: FakeChannels;
let billing: Awaited<ReturnType<typeof startFakeBilling>>;
let provider: Awaited<ReturnType<typeof startFakeProvider>>;
let admin: Awaited<ReturnType<typeof signedInCaller>>;
const db = () => env.deps.dbHandle.db;
const deps = () => ({ secrets: env.deps.secrets, outbound: env.deps.outbound, log: env.deps.log, channelTimeoutMs: 2_000 });
// The dispatcher's clock for reminders: every run of a test is within one repeat interval of the first.
const dispatch = (minutes = 0) => runAlertDispatch(db(), deps(), new Date(Date.now() + minutes * 60_000));

beforeAll(async () => {
  env = await createTestEnv();
  [fakes, billing, provider] = await Promise.all([startFakeChannels(), startFakeBilling(), startFakeProvider('fal')]);
  admin = await signedInCaller(env.deps, 'admin');
  await updateChannel(db(), env.deps.secrets, cliActor, { channel: 'slack', enabled: true, cooldownSeconds: 900, webhookUrl: fakes.slackUrl('T1/B1/resolve') });
  await updateChannel(db(), env.deps.secrets, cliActor, {
    channel: 'email',
    enabled: true,
    cooldownSeconds: 900,
    config: { ...fakes.smtp, secure: false, from: 'alerts@creditdesk.test', to: ['ops@example.com'], user: null },
  });
});
beforeEach(() => fakes.reset());
afterEach(async () => {
  await expectLedgerClean(db());
  await expectPoolsClean(db());
});
afterAll(async () => {
  await Promise.all([fakes.close(), billing.close(), provider.close()]);
  await env.close();
});

/** Slack messages about one alert type and subject, as the receiver got them. */
const slackAbout = (type: string, subject: string) => fakes.state.slack.map((s) => String(s.body.text)).filter((t) => t.includes(`${type}: ${subject}`));
const mailAbout = (type: string, subject: string) => fakes.state.mail.map((m) => m.subject).filter((s) => s.includes(`${type}: ${subject}`));
const alertsOf = (type: string, subject: string) =>
  db()
    .select()
    .from(systemAlerts)
    .where(and(eq(systemAlerts.type, type), eq(systemAlerts.subject, subject)))
    .orderBy(systemAlerts.id);
const kindsOf = async (alertId: number) =>
  (await db().select().from(alertDeliveries).where(eq(alertDeliveries.alertId, alertId)).orderBy(alertDeliveries.id)).map((d) => `${d.kind}:${d.channel}:${d.status}`);

describe('[ALERTS] a cleared condition resolves its alert by itself', () => {
  it('a provider that passes its health check again resolves provider_unhealthy and the Slack and email receivers get one resolved notice each', async () => {
    const name = uniqueId('fh').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: provider.url }]);

    provider.state.behaviour = 'error500';
    expect(await checkAllProviders(env.deps)).toMatchObject({ unhealthy: [name] });
    await dispatch();
    // Still down at the next check: counted on the open alert, not sent again.
    expect(await checkAllProviders(env.deps)).toMatchObject({ unhealthy: [name] });
    await dispatch(1);
    const [alert] = await alertsOf('provider_unhealthy', name);
    expect(alert).toMatchObject({ status: 'open', level: 'error', occurrences: 2 });
    expect(slackAbout('provider_unhealthy', name)).toEqual([expect.stringMatching(/^\[ERROR\] provider_unhealthy/)]);
    expect(mailAbout('provider_unhealthy', name)).toEqual([`[Creditdesk ERROR] provider_unhealthy: ${name}`]);

    provider.state.behaviour = 'ok';
    expect(await checkAllProviders(env.deps)).toMatchObject({ unhealthy: [] });
    const [resolved] = await alertsOf('provider_unhealthy', name);
    expect(resolved).toMatchObject({ id: alert!.id, status: 'resolved', resolvedBy: 'system', needsRouting: true });
    expect(resolved!.resolvedAt).not.toBeNull();

    await dispatch(2);
    // More passing checks and runs say nothing more.
    await checkAllProviders(env.deps);
    await dispatch(3);
    expect(slackAbout('provider_unhealthy', name)).toEqual([expect.stringMatching(/^\[ERROR\] provider_unhealthy/), expect.stringMatching(/^\[RESOLVED\] provider_unhealthy/)]);
    expect(mailAbout('provider_unhealthy', name)).toEqual([`[Creditdesk ERROR] provider_unhealthy: ${name}`, `[Creditdesk RESOLVED] provider_unhealthy: ${name}`]);
    expect(await alertsOf('provider_unhealthy', name)).toHaveLength(1);
    // The resolved notices' channels come in no set order.
    expect((await kindsOf(alert!.id)).sort()).toEqual(['firing:email:sent', 'firing:in_app:sent', 'firing:slack:sent', 'resolved:email:sent', 'resolved:slack:sent']);
  });

  it('a provider disabled while its provider_unhealthy alert is open is no longer routed to: the alert resolves with one resolved notice', async () => {
    const name = uniqueId('fd').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: provider.url }]);
    provider.state.behaviour = 'error500';
    expect(await checkAllProviders(env.deps)).toMatchObject({ unhealthy: [name] });
    await dispatch();
    const [alert] = await alertsOf('provider_unhealthy', name);
    expect(alert).toMatchObject({ status: 'open' });

    // Another provider takes over and this one is disabled (configureProviders deactivates the rest).
    await configureProviders(env.deps, [{ name: uniqueId('lo').toLowerCase(), kind: 'local', baseUrl: 'http://localhost' }]);
    expect(await checkAllProviders(env.deps)).toMatchObject({ unhealthy: [] });
    expect((await alertsOf('provider_unhealthy', name))[0]).toMatchObject({ id: alert!.id, status: 'resolved', resolvedBy: 'system' });
    await dispatch(1);
    expect(slackAbout('provider_unhealthy', name)).toEqual([expect.stringMatching(/^\[ERROR\] provider_unhealthy/), expect.stringMatching(/^\[RESOLVED\] provider_unhealthy/)]);
    provider.state.behaviour = 'ok';
  });

  it('pool_provider_drift is raised when the provider reports a balance beyond the tolerance and resolved, with one resolved notice, once it is back within it', async () => {
    const pool = await seedPool(env.deps, 0, { billingMode: 'http', billingUrl: billing.url });
    await creditPool(db(), pool, 50, { reason: 'seed' });
    const [settings] = await db().select().from(platformSettings).where(eq(platformSettings.id, 1));
    const tolerance = settings!.providerDriftTolerance;

    billing.state.behaviour = 'ok';
    billing.state.balance = 50 + tolerance + 1;
    const drifted = await checkProviderBalances(db(), env.deps.secrets, env.deps.outbound, 2_000);
    expect(drifted.find((r) => r.provider === pool)).toMatchObject({ poolBalance: 50, drift: tolerance + 1, error: null });
    await dispatch();
    await checkProviderBalances(db(), env.deps.secrets, env.deps.outbound, 2_000);
    await dispatch(1);
    const [alert] = await alertsOf('pool_provider_drift', pool);
    expect(alert).toMatchObject({ status: 'open', level: 'warning', occurrences: 2 });
    expect(slackAbout('pool_provider_drift', pool)).toEqual([expect.stringMatching(/^\[WARNING\] pool_provider_drift/)]);

    // Exactly at the tolerance counts as within it.
    billing.state.balance = 50 - tolerance;
    const back = await checkProviderBalances(db(), env.deps.secrets, env.deps.outbound, 2_000);
    expect(back.find((r) => r.provider === pool)).toMatchObject({ drift: -tolerance });
    expect((await alertsOf('pool_provider_drift', pool))[0]).toMatchObject({ id: alert!.id, status: 'resolved', resolvedBy: 'system' });

    await dispatch(2);
    await checkProviderBalances(db(), env.deps.secrets, env.deps.outbound, 2_000);
    await dispatch(3);
    expect(slackAbout('pool_provider_drift', pool)).toEqual([expect.stringMatching(/^\[WARNING\] pool_provider_drift/), expect.stringMatching(/^\[RESOLVED\] pool_provider_drift/)]);
    // A warning never went to email, so its resolved notice does not either.
    expect(mailAbout('pool_provider_drift', pool)).toEqual([]);
    expect(await alertsOf('pool_provider_drift', pool)).toHaveLength(1);
    expect(await kindsOf(alert!.id)).toEqual(['firing:in_app:sent', 'firing:slack:sent', 'resolved:slack:sent']);
  });

  it('refill_awaiting_approval stays open while the refill waits and resolves, with one resolved notice, once an admin approves it', async () => {
    const pool = await seedPool(env.deps, 12, { autoRefillThreshold: 10, autoRefillAmount: 50 });
    // The draw that crosses the threshold asks for a refill; a manual-billing pool's waits for an admin.
    expect(await db().transaction((tx) => drawFromPool(tx, pool, 5))).not.toBeNull();
    const [request] = await db().select().from(creditPurchaseRequests).where(eq(creditPurchaseRequests.provider, pool));
    expect(request).toMatchObject({ status: 'pending_manual_approval', trigger: 'auto', amountRequested: 50 });

    await dispatch();
    await checkCreditThresholds(db());
    await dispatch(1);
    const [alert] = await alertsOf('refill_awaiting_approval', pool);
    expect(alert).toMatchObject({ status: 'open' });
    expect(slackAbout('refill_awaiting_approval', pool)).toHaveLength(1);

    await admin.caller.admin.purchaseRequests.approve({ id: String(request!.id), reason: 'bought from the provider' });
    await checkCreditThresholds(db());
    expect((await alertsOf('refill_awaiting_approval', pool))[0]).toMatchObject({ id: alert!.id, status: 'resolved', resolvedBy: 'system' });
    await dispatch(2);
    await checkCreditThresholds(db());
    await dispatch(3);
    expect(slackAbout('refill_awaiting_approval', pool)).toEqual([expect.stringMatching(/^\[WARNING\] refill_awaiting_approval/), expect.stringMatching(/^\[RESOLVED\] refill_awaiting_approval/)]);
    expect(await kindsOf(alert!.id)).toEqual(['firing:in_app:sent', 'firing:slack:sent', 'resolved:slack:sent']);
  });

  it('refill_over_budget resolves, with one resolved notice, once an admin rejects the refill, while another pool still waiting keeps its alert', async () => {
    const [settings] = await db().select().from(platformSettings).where(eq(platformSettings.id, 1));
    // A budget of 80 USD: 10 000 credits at 0.039 USD are over it.
    await db().update(platformSettings).set({ monthlyRevenueUsd: '100.00' }).where(eq(platformSettings.id, 1));
    try {
      const [rejected, waiting] = [await seedPool(env.deps, 5), await seedPool(env.deps, 5)];
      const asked = await admin.caller.admin.pools.refill({ provider: rejected, amount: 10_000 });
      await admin.caller.admin.pools.refill({ provider: waiting, amount: 10_000 });
      expect(asked.status).toBe('pending_manual_approval');
      await dispatch();
      const [alert] = await alertsOf('refill_over_budget', rejected);
      expect(alert).toMatchObject({ status: 'open' });
      expect(slackAbout('refill_over_budget', rejected)).toHaveLength(1);

      await admin.caller.admin.purchaseRequests.reject({ id: asked.id, reason: 'too much this month' });
      await checkCreditThresholds(db());
      expect((await alertsOf('refill_over_budget', rejected))[0]).toMatchObject({ id: alert!.id, status: 'resolved', resolvedBy: 'system' });
      expect((await alertsOf('refill_over_budget', waiting))[0]).toMatchObject({ status: 'open' });
      await dispatch(1);
      await checkCreditThresholds(db());
      await dispatch(2);
      expect(slackAbout('refill_over_budget', rejected)).toEqual([expect.stringMatching(/^\[WARNING\] refill_over_budget/), expect.stringMatching(/^\[RESOLVED\] refill_over_budget/)]);
      expect(slackAbout('refill_over_budget', waiting)).toEqual([expect.stringMatching(/^\[WARNING\] refill_over_budget/)]);
      expect(await kindsOf(alert!.id)).toEqual(['firing:in_app:sent', 'firing:slack:sent', 'resolved:slack:sent']);
    } finally {
      await db().update(platformSettings).set({ monthlyRevenueUsd: settings!.monthlyRevenueUsd }).where(eq(platformSettings.id, 1));
    }
  });
});
