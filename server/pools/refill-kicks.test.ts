import { eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, signedInCaller, type TestEnv } from '../test/harness';
import { startFakeBilling } from '../test/fake-billing';
import { waitFor } from '../test/wait';
import { expectPoolsClean, seedPool } from '../test/pool-helpers';
import { drawFromPool, poolTotal } from './draw';
import { MAX_REFILL_FAILURES, processApprovedRefills, purchaseKey } from './refill-purchase';
import { listenForRefillKicks } from './refill-kicks';
import { creditPurchaseRequests } from './tables';

let env: TestEnv;
let billing: Awaited<ReturnType<typeof startFakeBilling>>;
let unlisten: () => Promise<void>;
beforeAll(async () => {
  env = await createTestEnv();
  billing = await startFakeBilling();
  // The real runner on Redis, and the listener main.ts starts: nothing here calls the job by hand.
  await env.deps.jobs.start({ work: true });
  unlisten = await listenForRefillKicks(env.deps);
});
afterEach(async () => {
  await expectPoolsClean(env.deps.dbHandle.db);
});
afterAll(async () => {
  await unlisten();
  await billing.close();
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const requestsOf = (provider: string) => db().select().from(creditPurchaseRequests).where(eq(creditPurchaseRequests.provider, provider));

const completed = (provider: string) => waitFor(async () => (await requestsOf(provider)).find((r) => r.status === 'completed'), { timeoutMs: 20_000, what: `the ${provider} refill to complete` });

describe('[POOLS] an approved auto-refill is enqueued at once, after commit', () => {
  it('a draw crossing the threshold gets its refill bought without waiting for the schedule', async () => {
    const provider = await seedPool(env.deps, 3, { autoRefillThreshold: 2, autoRefillAmount: 50, billingMode: 'http', billingUrl: billing.url });
    await db().transaction((tx) => drawFromPool(tx, provider, 1));
    expect((await completed(provider)).amountRequested).toBe(50);
    expect(await poolTotal(db(), provider)).toBe(52);
  });

  it("re-enabling a stopped pool's auto-refill buys its open refill at once", async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const provider = await seedPool(env.deps, 3, { autoRefillThreshold: 2, autoRefillAmount: 30, billingMode: 'http', billingUrl: billing.url });
    billing.state.behaviour = 'error500';
    // The kicked job's purchase fails (outcome unknown); the next failures come as the backoff runs out.
    await db().transaction((tx) => drawFromPool(tx, provider, 1));
    await waitFor(async () => (await caller.admin.pools.get({ provider })).refillFailures === 1, { timeoutMs: 20_000, what: 'the first failed purchase' });
    for (let i = 1; i < MAX_REFILL_FAILURES; i++) {
      await db().execute(sql`update credit_pools set refill_backoff_until = now() where provider = ${provider}`);
      await processApprovedRefills(db(), { secrets: env.deps.secrets, outbound: env.deps.outbound, billingTimeoutMs: 2_000 }, provider);
    }
    expect((await caller.admin.pools.get({ provider })).autoRefillStoppedAt).not.toBeNull();
    billing.state.behaviour = 'ok';
    await caller.admin.pools.enableAutoRefill({ provider, reason: 'billing URL fixed' });
    const done = await completed(provider);
    expect(done.amountRequested).toBe(30);
    expect(billing.purchasesFor(purchaseKey(done.id))).toHaveLength(1);
    expect(await poolTotal(db(), provider)).toBe(32);
  });
});
