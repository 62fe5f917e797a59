import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { systemAlerts } from '../alerts/tables';
import { coreJobs } from '../jobs/definitions';
import { signedInCaller } from '../test/harness';
import { seedPool } from '../test/pool-helpers';
import { poolTotal } from './draw';
import { getPool } from './pool-admin';
import { MAX_REFILL_FAILURES, processApprovedRefills, purchaseKey } from './refill-purchase';
import { useRefillEnv } from '../test/refill-env';

const { ctx: t, db, refillDeps, draw, requestsOf } = useRefillEnv();
/** The scheduled auto-refill job (every 5 minutes), exactly as the runner calls it; `provider` is a kick's payload. */
const autoRefillJob = coreJobs.find((j) => j.name === 'auto-refill')!;
const runAutoRefillJob = (payload: { provider?: string } = {}) => autoRefillJob.run(t.env.deps, payload);
const backoffElapsed = (provider: string) => db().execute(sql`update credit_pools set refill_backoff_until = now() where provider = ${provider}`);
const httpPool = (credits = 3) => seedPool(t.env.deps, credits, { autoRefillThreshold: 2, autoRefillAmount: 100, billingMode: 'http', billingUrl: t.billing.url });

/** Draws until the pool is empty, then once more: the draw that finds nothing asks for nothing. */
async function drain(provider: string) {
  while ((await poolTotal(db(), provider)) > 0) expect(await draw(provider)).not.toBeNull();
  expect(await draw(provider)).toBeNull();
  expect((await getPool(db(), provider)).status).toBe('depleted');
}

describe('[POOLS] a pool at or below its threshold always gets a refill request from the auto-refill job, even when nothing draws it', () => {
  it('[POOLS] an empty pool whose refill was refused, drained during the backoff, is refilled by the job once the backoff is over, once', async () => {
    const provider = await httpPool();
    await draw(provider);
    t.billing.state.script = ['refuse'];
    await processApprovedRefills(db(), refillDeps(), provider);
    expect((await requestsOf(provider)).map((r) => r.status)).toEqual(['failed']);
    // The last credits go during the backoff: those draws ask for nothing, and then nothing draws at all.
    await drain(provider);
    expect(await requestsOf(provider)).toHaveLength(1);

    // Still backing off: the job respects it.
    await runAutoRefillJob();
    expect(await requestsOf(provider)).toHaveLength(1);

    await backoffElapsed(provider);
    // Two runs at once (a schedule and a kick) ask for one refill: one open automatic request per pool.
    await Promise.all([runAutoRefillJob(), runAutoRefillJob({ provider })]);
    const requests = await requestsOf(provider);
    expect(requests).toHaveLength(2);
    expect(requests[1]).toMatchObject({ trigger: 'auto', requestedBy: 'auto-refill', amountRequested: 100, status: 'completed' });
    expect(await poolTotal(db(), provider)).toBe(100);
    expect((await getPool(db(), provider)).status).toBe('active');
    // Above its threshold now: later runs ask for nothing more.
    await runAutoRefillJob();
    expect(await requestsOf(provider)).toHaveLength(2);
  });

  it('[POOLS] an empty manual pool whose automatic refill an admin rejected gets a new request from the job, waiting for approval and alerted', async () => {
    const { caller } = await signedInCaller(t.env.deps, 'admin');
    const provider = await seedPool(t.env.deps, 3, { autoRefillThreshold: 2, autoRefillAmount: 40 });
    await draw(provider);
    await drain(provider);
    const [first] = await requestsOf(provider);
    await caller.admin.purchaseRequests.reject({ id: String(first!.id), reason: 'wrong amount' });

    await runAutoRefillJob();
    await runAutoRefillJob();
    const requests = await requestsOf(provider);
    expect(requests.map((r) => [r.trigger, r.status, r.amountRequested])).toEqual([
      ['auto', 'rejected', 40],
      ['auto', 'pending_manual_approval', 40],
    ]);
    const alerts = await db()
      .select()
      .from(systemAlerts)
      .where(and(eq(systemAlerts.subject, provider), eq(systemAlerts.type, 'refill_awaiting_approval')));
    expect(alerts.some((a) => a.message.includes(`request ${requests[1]!.id}`))).toBe(true);
  });

  it("[POOLS] the job's refill of an empty http pool over the month's budget waits for approval instead of being bought", async () => {
    const { caller } = await signedInCaller(t.env.deps, 'admin');
    const provider = await httpPool(0);
    const { monthlyRevenueUsd, creditBudgetSharePercent, refillBackoffSeconds, providerDriftTolerance } = await caller.admin.platformSettings.get();
    const settings = { monthlyRevenueUsd, creditBudgetSharePercent, refillBackoffSeconds, providerDriftTolerance };
    // A budget of 1 cent: 100 credits × 0.039 does not fit.
    await caller.admin.platformSettings.update({ ...settings, monthlyRevenueUsd: '0.01', creditBudgetSharePercent: 100, reason: 'budget test' });
    try {
      await runAutoRefillJob({ provider });
      const [request] = await requestsOf(provider);
      expect(request).toMatchObject({ status: 'pending_manual_approval', trigger: 'auto', note: expect.stringContaining("exceeds the month's credit budget") });
      expect(t.billing.state.purchaseCalls.filter((c) => c.idempotencyKey === purchaseKey(request!.id))).toHaveLength(0);
      expect(await poolTotal(db(), provider)).toBe(0);
    } finally {
      await caller.admin.platformSettings.update({ ...settings, reason: 'reset' });
    }
  });

  it('[POOLS] a pool left with only its emergency reserve is asked a refill by the job, as a draw on the reserve would', async () => {
    // A purchase fills the reserve first: 2 credits, all of them in the reserve, above the threshold of 0.
    const provider = await seedPool(t.env.deps, 2, { emergencyReserve: 2, autoRefillThreshold: 0, autoRefillAmount: 50 });
    expect(await getPool(db(), provider)).toMatchObject({ availableBalance: 2, reserveBalance: 2 });
    await runAutoRefillJob();
    expect(await requestsOf(provider)).toMatchObject([{ trigger: 'auto', status: 'pending_manual_approval', amountRequested: 50 }]);
  });

  it('[POOLS] the job asks for nothing for a pool above its threshold, suspended, stopped, without a refill amount, or with a refill open', async () => {
    const { caller } = await signedInCaller(t.env.deps, 'admin');
    const above = await httpPool(3);
    const suspended = await httpPool(0);
    await caller.admin.pools.suspend({ provider: suspended, reason: 'outage' });
    const stopped = await httpPool(0);
    await db().execute(sql`update credit_pools set auto_refill_stopped_at = now() where provider = ${stopped}`);
    const noAmount = await seedPool(t.env.deps, 0, { autoRefillThreshold: 5, autoRefillAmount: 0 });
    const open = await seedPool(t.env.deps, 3, { autoRefillThreshold: 2, autoRefillAmount: 40 });
    await draw(open);
    await drain(open);
    await runAutoRefillJob();
    for (const p of [above, suspended, stopped, noAmount]) expect(await requestsOf(p)).toHaveLength(0);
    expect(await requestsOf(open)).toHaveLength(1);
    await caller.admin.pools.resume({ provider: suspended, reason: 'back' });
  });

  it('[POOLS] re-enabling the stopped auto-refill of an empty pool whose last refill was refused asks for a new refill at once', async () => {
    const { caller } = await signedInCaller(t.env.deps, 'admin');
    const provider = await httpPool();
    await draw(provider);
    // Each refused request fails; the next is asked for by the job after each backoff, until the pool stops.
    for (let failure = 1; failure <= MAX_REFILL_FAILURES; failure++) {
      if (failure === 2) await drain(provider);
      t.billing.state.script = ['refuse'];
      if (failure > 1) {
        await backoffElapsed(provider);
        await runAutoRefillJob({ provider });
      } else await processApprovedRefills(db(), refillDeps(), provider);
    }
    expect((await requestsOf(provider)).map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);
    expect((await getPool(db(), provider)).autoRefillStoppedAt).not.toBeNull();
    // Stopped: the job asks for nothing.
    await backoffElapsed(provider);
    await runAutoRefillJob({ provider });
    expect(await requestsOf(provider)).toHaveLength(3);

    await caller.admin.pools.enableAutoRefill({ provider, reason: 'card replaced' });
    // What the re-enable's kick runs.
    await runAutoRefillJob({ provider });
    expect((await requestsOf(provider)).at(-1)).toMatchObject({ status: 'completed', amountRequested: 100 });
    expect(await poolTotal(db(), provider)).toBe(100);
  });
});
