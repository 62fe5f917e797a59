import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { expectLedgerClean, reasonOf } from '../test/ledger-helpers';
import { expectPoolsClean } from '../test/pool-helpers';
import { creditPools } from './tables';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterEach(async () => {
  await expectLedgerClean(env.deps.dbHandle.db);
  await expectPoolsClean(env.deps.dbHandle.db);
});
afterAll(async () => {
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const settings = (monthlyRevenueUsd: string) => ({ monthlyRevenueUsd, creditBudgetSharePercent: 80, refillBackoffSeconds: 3600, providerDriftTolerance: 10, reason: 'budget test' });

async function providerWithPool(caller: Awaited<ReturnType<typeof signedInCaller>>['caller']) {
  const provider = uniqueId('bud').toLowerCase();
  await caller.admin.providers.create({ name: provider, kind: 'kie', baseUrl: 'https://api.kie.ai', costPerRequest: '0.039', rateLimitPerMinute: 60, priority: 50, isActive: false });
  await caller.admin.pools.create({ provider, costPerCredit: '0.039', autoRefillThreshold: 0, autoRefillAmount: 0 });
  return provider;
}

describe('[BUDGET] one set of figures', () => {
  it('the summary, Settings and the Dashboard read the same refills, budget and provider cost, over budget included', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    await caller.admin.platformSettings.update(settings('100.00'));
    const provider = await providerWithPool(caller);
    expect((await caller.admin.pools.refill({ provider, amount: 500, reason: 'within budget' })).status).toBe('completed');

    // The budget drops under what was already bought: 8.00 budget, 19.50 of refills.
    await caller.admin.platformSettings.update(settings('10.00'));
    const summary = await caller.admin.platformSettings.budget();
    expect(summary).toMatchObject({ configured: true, budgetUsd: '8.00', refillsUsd: '19.50', leftUsd: '-11.50', overBudget: true, creditBudgetSharePercent: 80 });
    const s = await caller.admin.platformSettings.get();
    expect({ budget: s.budgetUsd, spent: s.spentThisMonthUsd }).toEqual({ budget: summary.budgetUsd, spent: summary.refillsUsd });
    const dash = await caller.admin.dashboard();
    expect(dash.monthCostUsd).toBe(summary.providerCostMonthToDateUsd);
    expect(dash.forecast.month.projectedCostUsd).toBe(summary.providerCostProjectedUsd);
    expect(dash.forecast.month.budgetUsd).toBe(summary.budgetUsd);

    // Uncapped: nothing is over.
    await caller.admin.platformSettings.update(settings('0'));
    expect(await caller.admin.platformSettings.budget()).toMatchObject({ configured: false, overBudget: false, refillsUsd: '19.50' });
  });

  it('an analyst reads the summary', async () => {
    const { caller } = await signedInCaller(env.deps, 'analyst');
    expect(await reasonOf(caller.admin.platformSettings.budget())).toBe('OK');
  });
});

describe('[POOLS] a pool only for a provider that exists', () => {
  it('an unknown provider is refused and no pool is made; a known one is accepted', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const attempt = caller.admin.pools.create({ provider: 'replicate', costPerCredit: '0.01', autoRefillThreshold: 0, autoRefillAmount: 0 });
    await expect(attempt).rejects.toThrow('There is no provider named replicate. Add it on the Providers page first.');
    expect(await reasonOf(caller.admin.pools.create({ provider: 'replicate', costPerCredit: '0.01', autoRefillThreshold: 0, autoRefillAmount: 0 }))).toBe('BAD_REQUEST');
    expect(await db().select().from(creditPools).where(eq(creditPools.provider, 'replicate'))).toEqual([]);
    const provider = await providerWithPool(caller);
    expect(await db().select({ p: creditPools.provider }).from(creditPools).where(eq(creditPools.provider, provider))).toEqual([{ p: provider }]);
  });
});
