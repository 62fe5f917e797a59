import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { drawFromPool } from '../pools/draw';
import { creditPurchaseRequests } from '../pools/tables';
import { startFakeBilling } from './fake-billing';
import { createTestEnv, type TestEnv } from './harness';
import { expectPoolsClean } from './pool-helpers';

/**
 * A test database and a fake billing endpoint for the refill tests: registers its own setup and
 * teardown; after each test the billing is reset and the pools are checked clean.
 */
export function useRefillEnv() {
  const s = {} as { env: TestEnv; billing: Awaited<ReturnType<typeof startFakeBilling>> };
  beforeAll(async () => {
    s.env = await createTestEnv();
    s.billing = await startFakeBilling();
  });
  afterEach(async () => {
    Object.assign(s.billing.state, { behaviour: 'ok', script: [], lookup: 'ok' });
    await expectPoolsClean(s.env.deps.dbHandle.db);
  });
  afterAll(async () => {
    await s.billing.close();
    await s.env.close();
  });
  const db = () => s.env.deps.dbHandle.db;
  return {
    ctx: s,
    db,
    refillDeps: () => ({ secrets: s.env.deps.secrets, outbound: s.env.deps.outbound, billingTimeoutMs: 2_000 }),
    draw: (provider: string) => db().transaction((tx) => drawFromPool(tx, provider, 1)),
    requestsOf: (provider: string) => db().select().from(creditPurchaseRequests).where(eq(creditPurchaseRequests.provider, provider)).orderBy(creditPurchaseRequests.id),
  };
}
