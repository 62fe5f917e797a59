import { and, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { systemAlerts } from '../alerts/tables';
import { col, queryOne } from '../db/rows';
import { createTestEnv, signedInCaller, type TestEnv } from '../test/harness';
import { expectPoolsClean, seedPool } from '../test/pool-helpers';
import { checkBudget } from './budget';
import { drawFromPool } from './draw';
import { creditPurchaseRequests } from './tables';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterEach(async () => {
  await expectPoolsClean(env.deps.dbHandle.db);
});
afterAll(async () => {
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const CONCURRENT = 10;

/** Sets the month's budget to what is spent already plus `headroomUsd` (credit share 100%). */
async function budgetWithHeadroom(headroomUsd: string) {
  const { caller } = await signedInCaller(env.deps, 'admin');
  const { spentUsd } = await checkBudget(db(), '0');
  const revenue = (await queryOne(db(), z.object({ v: col.decimal }), sql`select (${spentUsd}::numeric + ${headroomUsd}::numeric)::numeric(14,2)::text as v`))!.v;
  await caller.admin.platformSettings.update({ monthlyRevenueUsd: revenue, creditBudgetSharePercent: 100, refillBackoffSeconds: 3600, providerDriftTolerance: 10, reason: 'budget race test' });
  return { caller, budgetUsd: revenue };
}

const requestsOf = (providers: string[]) => db().select().from(creditPurchaseRequests).where(inArray(creditPurchaseRequests.provider, providers));
const expectWithinBudget = async () => {
  const budget = await checkBudget(db(), '0');
  const over = await queryOne(db(), z.object({ over: col.bool }), sql`select ${budget.spentUsd}::numeric > ${budget.budgetUsd}::numeric as over`);
  expect(over!.over).toBe(false);
};

describe("[POOLS] concurrent refills never together overrun the month's budget", () => {
  it(`${CONCURRENT} threshold refills for different pools at once: three fit the budget, the rest wait for approval`, async () => {
    // Each refill is 100 credits × 0.10 = 10 USD; the budget has room for 35 USD.
    await budgetWithHeadroom('35.00');
    const providers = await Promise.all(
      Array.from({ length: CONCURRENT }, () =>
        seedPool(env.deps, 3, { costPerCredit: '0.10', autoRefillThreshold: 2, autoRefillAmount: 100, billingMode: 'http', billingUrl: 'http://127.0.0.1:9/billing' }),
      ),
    );
    await Promise.all(providers.map((p) => db().transaction((tx) => drawFromPool(tx, p, 1))));
    const requests = await requestsOf(providers);
    expect(requests).toHaveLength(CONCURRENT);
    expect(requests.filter((r) => r.status === 'approved')).toHaveLength(3);
    const waiting = requests.filter((r) => r.status === 'pending_manual_approval');
    expect(waiting).toHaveLength(CONCURRENT - 3);
    const alerts = await db()
      .select()
      .from(systemAlerts)
      .where(and(eq(systemAlerts.type, 'refill_over_budget'), inArray(systemAlerts.subject, providers)));
    expect(alerts.map((a) => a.subject).sort()).toEqual(waiting.map((r) => r.provider).sort());
    await expectWithinBudget();
  });

  it(`${CONCURRENT} admin refills for different pools at once: three are bought, the rest wait for approval`, async () => {
    const { caller } = await budgetWithHeadroom('35.00');
    const providers = await Promise.all(Array.from({ length: CONCURRENT }, () => seedPool(env.deps, 0, { costPerCredit: '0.10' })));
    const results = await Promise.all(providers.map((provider) => caller.admin.pools.refill({ provider, amount: 100 })));
    expect(results.filter((r) => r.status === 'completed')).toHaveLength(3);
    expect(results.filter((r) => r.status === 'pending_manual_approval')).toHaveLength(CONCURRENT - 3);
    await expectWithinBudget();
    await caller.admin.platformSettings.update({ monthlyRevenueUsd: '0', creditBudgetSharePercent: 80, refillBackoffSeconds: 3600, providerDriftTolerance: 10, reason: 'reset' });
  });
});
