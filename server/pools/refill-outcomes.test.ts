import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { systemAlerts } from '../alerts/tables';
import { auditLog } from '../auth/tables';
import { col, queryOne } from '../db/rows';
import { signedInCaller } from '../test/harness';
import { REMOTE_BODY_MARKER } from '../test/fake-billing';
import { reasonOf } from '../test/ledger-helpers';
import { waitFor } from '../test/wait';
import { seedPool } from '../test/pool-helpers';
import { poolTotal } from './draw';
import { getPool } from './pool-admin';
import { MAX_REFILL_FAILURES, processApprovedRefills, processRefill, purchaseKey } from './refill-purchase';
import { useRefillEnv } from '../test/refill-env';

const { ctx: t, db, refillDeps, draw, requestsOf } = useRefillEnv();
const alertsOf = (provider: string, type: string) =>
  db()
    .select()
    .from(systemAlerts)
    .where(and(eq(systemAlerts.subject, provider), eq(systemAlerts.type, type)));
const httpPool = (credits = 3) => seedPool(t.env.deps, credits, { autoRefillThreshold: 2, autoRefillAmount: 100, billingMode: 'http', billingUrl: t.billing.url });
/** The backoff has run out: what an hour passing would do, without waiting for it. */
const backoffElapsed = (provider: string) => db().execute(sql`update credit_pools set refill_backoff_until = now() where provider = ${provider}`);
/** Credits the pool's ledger received for one purchase request (over all its stripes). */
const creditedFor = async (requestId: number) =>
  (await queryOne(db(), z.object({ n: col.integer }), sql`select coalesce(sum(credits_delta), 0)::text as n from credit_pool_transactions where purchase_request_id = ${requestId}`))!.n;
const backoffSeconds = async (provider: string) =>
  (await queryOne(db(), z.object({ s: col.integer }), sql`select round(extract(epoch from refill_backoff_until - now()))::text as s from credit_pools where provider = ${provider}`))!.s;

describe('[POOLS] a purchase whose outcome is unknown is never bought twice', () => {
  it.each(['record_then_hang', 'record_then_reset', 'record_then_500'] as const)(
    'billing %s: the request stays unknown, the provider is asked, exactly one purchase, the pool credited once',
    async (behaviour) => {
      const provider = await httpPool();
      await draw(provider);
      t.billing.state.script = [behaviour];
      await processApprovedRefills(db(), refillDeps(), provider);
      const [first] = await requestsOf(provider);
      expect(first).toMatchObject({ status: 'outcome_unknown', attempts: 1, providerTransactionId: null });
      expect(first!.errorMessage).not.toContain(REMOTE_BODY_MARKER);
      expect(await poolTotal(db(), provider)).toBe(2);

      // An hour later the pool is still low: no second purchase is started in its place.
      await backoffElapsed(provider);
      await draw(provider);
      expect(await requestsOf(provider)).toHaveLength(1);

      // The retry asks the provider, which has the purchase: it is booked, nothing bought again.
      expect(await processApprovedRefills(db(), refillDeps(), provider)).toBe(1);
      const [settled] = await requestsOf(provider);
      expect(settled).toMatchObject({ status: 'completed', attempts: 2, providerTransactionId: expect.stringMatching(/^prov-tx-/) });
      expect(t.billing.purchasesFor(purchaseKey(settled!.id))).toHaveLength(1);
      expect(t.billing.state.purchaseCalls.filter((c) => c.idempotencyKey === purchaseKey(settled!.id))).toHaveLength(1);
      expect(t.billing.state.lookups).toContain(purchaseKey(settled!.id));
      expect(await creditedFor(settled!.id)).toBe(100);
      expect(await poolTotal(db(), provider)).toBe(101);
      expect((await getPool(db(), provider)).refillFailures).toBe(0);
      expect(await processApprovedRefills(db(), refillDeps(), provider)).toBe(0);
    },
  );

  it('an unknown outcome the provider has no record of is sent again under the same idempotency key', async () => {
    const provider = await httpPool();
    await draw(provider);
    t.billing.state.script = ['timeout'];
    await processApprovedRefills(db(), refillDeps(), provider);
    const [request] = await requestsOf(provider);
    expect(request).toMatchObject({ status: 'outcome_unknown', errorMessage: expect.stringMatching(/timed out/) });

    // The lookup itself fails: still unknown, still no new purchase.
    await backoffElapsed(provider);
    t.billing.state.lookup = 'error500';
    await processApprovedRefills(db(), refillDeps(), provider);
    expect((await requestsOf(provider))[0]).toMatchObject({ status: 'outcome_unknown', attempts: 2, errorMessage: 'billing status lookup answered HTTP 500 Internal Server Error' });

    await backoffElapsed(provider);
    t.billing.state.lookup = 'ok';
    await processApprovedRefills(db(), refillDeps(), provider);
    const [done] = await requestsOf(provider);
    expect(done).toMatchObject({ status: 'completed', attempts: 3 });
    const key = purchaseKey(done!.id);
    expect(t.billing.state.purchaseCalls.filter((c) => c.idempotencyKey === key)).toHaveLength(2);
    expect(t.billing.purchasesFor(key)).toHaveLength(1);
    expect(await creditedFor(done!.id)).toBe(100);
  });

  it('a worker whose claim was taken over and settled meanwhile does not reopen the request when its own call then fails', async () => {
    const provider = await httpPool();
    await draw(provider);
    const [request] = await requestsOf(provider);
    // Worker A's purchase reaches the provider, which sells, and then never answers.
    t.billing.state.script = ['record_then_hang'];
    const first = processRefill(db(), { ...refillDeps(), billingTimeoutMs: 4_000 }, request!.id);
    await waitFor(() => t.billing.state.purchaseCalls.some((c) => c.idempotencyKey === purchaseKey(request!.id)), { what: "worker A's purchase call" });
    // A is stalled past the claim's five minutes: worker B takes the request over and books the purchase.
    await db().execute(sql`update credit_purchase_requests set processing_started_at = now() - interval '6 minutes' where id = ${request!.id}`);
    expect(await processRefill(db(), refillDeps(), request!.id)).toMatchObject({ status: 'completed' });
    expect(await creditedFor(request!.id)).toBe(100);
    // A's call times out: an unknown outcome, but of a request that is no longer A's.
    await first;
    expect((await requestsOf(provider))[0]).toMatchObject({ status: 'completed', providerTransactionId: expect.stringMatching(/^prov-tx-/) });
    await backoffElapsed(provider);
    expect(await processApprovedRefills(db(), refillDeps(), provider)).toBe(0);
    expect(t.billing.purchasesFor(purchaseKey(request!.id))).toHaveLength(1);
    expect(await creditedFor(request!.id)).toBe(100);
    expect(await poolTotal(db(), provider)).toBe(102);
  });

  it('a refused purchase fails its request, and a later refill may buy anew', async () => {
    const provider = await httpPool();
    await draw(provider);
    t.billing.state.script = ['refuse'];
    await processApprovedRefills(db(), refillDeps(), provider);
    const [refused] = await requestsOf(provider);
    expect(refused).toMatchObject({ status: 'failed', errorMessage: 'billing endpoint answered HTTP 402 Payment Required' });
    await backoffElapsed(provider);
    await draw(provider);
    const requests = await requestsOf(provider);
    expect(requests).toHaveLength(2);
    await processApprovedRefills(db(), refillDeps(), provider);
    expect((await requestsOf(provider))[1]).toMatchObject({ status: 'completed' });
    expect(t.billing.purchasesFor(purchaseKey(refused!.id))).toHaveLength(0);
    expect(await poolTotal(db(), provider)).toBe(101);
  });
});

describe('[POOLS] failing refills back off exponentially and stop after 3 in a row', () => {
  it('backs off 1×, 2× the backoff, then stops with one error alert naming the pool and the last error; an admin re-enables it', async () => {
    const { caller } = await signedInCaller(t.env.deps, 'admin');
    const { caller: analyst } = await signedInCaller(t.env.deps, 'analyst');
    const base = (await caller.admin.platformSettings.get()).refillBackoffSeconds;
    const provider = await httpPool();
    await draw(provider);
    t.billing.state.behaviour = 'error500';

    for (let failure = 1; failure <= MAX_REFILL_FAILURES; failure++) {
      expect(await processApprovedRefills(db(), refillDeps(), provider)).toBe(1);
      const pool = await getPool(db(), provider);
      expect(pool.refillFailures).toBe(failure);
      // The first call is the purchase; later ones ask the provider what became of it.
      expect(pool.lastRefillError).toBe(`billing ${failure === 1 ? 'endpoint' : 'status lookup'} answered HTTP 500 Internal Server Error`);
      expect(Math.abs((await backoffSeconds(provider)) - base * 2 ** (failure - 1))).toBeLessThanOrEqual(5);
      // Not due while backing off.
      expect(await processApprovedRefills(db(), refillDeps(), provider)).toBe(0);
      expect((await alertsOf(provider, 'pool_auto_refill_stopped')).length).toBe(failure === MAX_REFILL_FAILURES ? 1 : 0);
      await backoffElapsed(provider);
    }
    const stopped = await getPool(db(), provider);
    expect(stopped.autoRefillStoppedAt).not.toBeNull();
    // Stopped: the backoff is over but nothing is retried, and further draws start nothing.
    expect(await processApprovedRefills(db(), refillDeps(), provider)).toBe(0);
    await draw(provider);
    expect(await requestsOf(provider)).toHaveLength(1);
    const [alert] = await alertsOf(provider, 'pool_auto_refill_stopped');
    expect(alert).toMatchObject({ level: 'error', occurrences: 1 });
    expect(alert!.message).toContain(provider);
    expect(alert!.message).toContain('HTTP 500 Internal Server Error');
    expect(alert!.message).not.toContain(REMOTE_BODY_MARKER);
    const [open] = await requestsOf(provider);
    expect(open!.status).toBe('outcome_unknown');
    expect(t.billing.purchasesFor(purchaseKey(open!.id))).toHaveLength(0);

    // Billing is fixed; an analyst cannot re-enable, an admin can (audited), once.
    t.billing.state.behaviour = 'ok';
    expect(await reasonOf(analyst.admin.pools.enableAutoRefill({ provider, reason: 'billing fixed' }))).toBe('FORBIDDEN');
    const enabled = await caller.admin.pools.enableAutoRefill({ provider, reason: 'billing fixed' });
    expect(enabled).toMatchObject({ autoRefillStoppedAt: null, refillFailures: 0, refillBackoffUntil: null });
    expect(await reasonOf(caller.admin.pools.enableAutoRefill({ provider, reason: 'again' }))).toBe('BAD_REQUEST');
    const audits = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'pool.auto_refill.enable'), eq(auditLog.targetId, provider)));
    expect(audits).toHaveLength(1);
    expect(audits[0]!.reason).toBe('billing fixed');

    expect(await processApprovedRefills(db(), refillDeps(), provider)).toBe(1);
    const [request] = await requestsOf(provider);
    expect(request).toMatchObject({ status: 'completed', attempts: MAX_REFILL_FAILURES + 1 });
    expect(t.billing.purchasesFor(purchaseKey(request!.id))).toHaveLength(1);
    expect(await poolTotal(db(), provider)).toBe(101);
  });

  it('a refill that waits for manual approval raises a warning alert', async () => {
    const provider = await seedPool(t.env.deps, 3, { autoRefillThreshold: 2, autoRefillAmount: 40 });
    await draw(provider);
    const [request] = await requestsOf(provider);
    expect(request).toMatchObject({ status: 'pending_manual_approval', trigger: 'auto' });
    const [alert] = await alertsOf(provider, 'refill_awaiting_approval');
    expect(alert).toMatchObject({ level: 'warning' });
    expect(alert!.message).toContain(provider);
    expect(alert!.message).toContain(`request ${request!.id}`);
  });
});
