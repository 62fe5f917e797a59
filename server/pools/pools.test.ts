import { and, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemAlerts } from '../alerts/tables';
import { countRow, queryOne } from '../db/rows';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { REMOTE_BODY_MARKER, startFakeBilling } from '../test/fake-billing';
import { expectLedgerClean, key, newUser, reasonOf } from '../test/ledger-helpers';
import { expectPoolsClean, seedPool } from '../test/pool-helpers';
import { consumeCredits } from '../ledger/consume';
import { captureReservation } from '../ledger/capture-reservation';
import { reserveCredits } from '../ledger/reserve-credits';
import { creditPool } from './credit-pool';
import { drawFromPool, poolTotal } from './draw';
import { getPool } from './pool-admin';
import { checkProviderBalances } from './provider-balance-check';
import { processApprovedRefills } from './refill-purchase';
import { creditPurchaseRequests } from './tables';

let env: TestEnv;
let billing: Awaited<ReturnType<typeof startFakeBilling>>;
beforeAll(async () => {
  env = await createTestEnv();
  billing = await startFakeBilling();
});
afterEach(async () => {
  billing.state.behaviour = 'ok';
  await expectPoolsClean(env.deps.dbHandle.db);
  await expectLedgerClean(env.deps.dbHandle.db);
});
afterAll(async () => {
  await billing.close();
  await env.close();
});

const db = () => env.deps.dbHandle.db;
// Long enough for a busy machine to answer, short enough that the timeout tests stay quick.
const refillDeps = () => ({ secrets: env.deps.secrets, outbound: env.deps.outbound, billingTimeoutMs: 2_000 });
const draw = (provider: string) => db().transaction((tx) => drawFromPool(tx, provider, 1));
const requestsOf = (provider: string) => db().select().from(creditPurchaseRequests).where(eq(creditPurchaseRequests.provider, provider));
const alertsOf = (provider: string, type: string) =>
  db()
    .select()
    .from(systemAlerts)
    .where(and(eq(systemAlerts.subject, provider), eq(systemAlerts.type, type)));

describe('[POOLS] striped draws', () => {
  it('300 concurrent draws on a pool holding 100: exactly 100 succeed, it ends at 0 and depleted', async () => {
    const provider = await seedPool(env.deps, 100);
    const results = await Promise.all(Array.from({ length: 300 }, () => draw(provider)));
    expect(results.filter((r) => r !== null)).toHaveLength(100);
    expect(await poolTotal(db(), provider)).toBe(0);
    const pool = await getPool(db(), provider);
    expect(pool).toMatchObject({ availableBalance: 0, status: 'depleted', totalConsumed: 100, consumedToday: 100 });
    const negative = await queryOne(db(), countRow, sql`select count(*)::int as n from credit_pool_stripes where balance < 0`);
    expect(negative!.n).toBe(0);
  });

  it('a draw costs credits × cost per credit, as a decimal string', async () => {
    const provider = await seedPool(env.deps, 10, { costPerCredit: '0.123457' });
    const result = await db().transaction((tx) => drawFromPool(tx, provider, 3));
    expect(result!.costUsd).toBe('0.370371');
  });

  it('a suspended pool is never drawn, and cannot be refilled until resumed', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const provider = await seedPool(env.deps, 10);
    await caller.admin.pools.suspend({ provider, reason: 'provider outage' });
    expect(await draw(provider)).toBeNull();
    expect(await reasonOf(caller.admin.pools.refill({ provider, amount: 500 }))).toBe('BAD_REQUEST');
    await caller.admin.pools.resume({ provider, reason: 'back up' });
    expect(await draw(provider)).not.toBeNull();
  });

  it('the emergency reserve pays only when the pool is otherwise empty, with a critical alert', async () => {
    const provider = await seedPool(env.deps, 0, { emergencyReserve: 2 });
    await creditPool(db(), provider, 5, { reason: 'seed' });
    expect(await getPool(db(), provider)).toMatchObject({ availableBalance: 5, reserveBalance: 2 });
    for (let i = 0; i < 3; i++) expect((await draw(provider))!.emergency).toBe(false);
    expect(await alertsOf(provider, 'pool_emergency_reserve')).toHaveLength(0);
    expect((await draw(provider))!.emergency).toBe(true);
    const [alert] = await alertsOf(provider, 'pool_emergency_reserve');
    expect(alert).toMatchObject({ level: 'critical', status: 'open' });
    expect((await draw(provider))!.emergency).toBe(true);
    expect(await draw(provider)).toBeNull();
    expect((await alertsOf(provider, 'pool_emergency_reserve'))[0]!.occurrences).toBe(2);
  });
});

describe('[POOLS] the platform pays overflows only while a pool can', () => {
  it('overflow is refused with PLATFORM_CREDITS_DEPLETED when no unsuspended pool can pay', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const pools = await caller.admin.pools.list();
    for (const p of pools.filter((p) => p.status !== 'suspended')) await caller.admin.pools.suspend({ provider: p.provider, reason: 'test isolation' });
    const userId = await newUser(db(), 'pro');
    await db().execute(sql`
      with u as (update user_credits set current_balance = 0, allowance_spent_this_period = 25 where user_id = ${userId} returning 0 as total)
      insert into credit_transactions (user_id, transaction_type, credits_delta, balance_after, source) values (${userId}, 'adjustment', -25, 0, 'user_credits')`);
    expect(await reasonOf(consumeCredits(db(), { userId, credits: 1, enhancementType: 'lighting', idempotencyKey: key() }))).toBe('PLATFORM_CREDITS_DEPLETED');
    const provider = await seedPool(env.deps, 5);
    expect((await consumeCredits(db(), { userId, credits: 1, enhancementType: 'lighting', idempotencyKey: key() })).source).toBe('platform_pool');
    for (const p of pools.filter((p) => p.status !== 'suspended')) await caller.admin.pools.resume({ provider: p.provider, reason: 'restore' });
    expect(provider).toBeTruthy();
  });

  it('capture naming a provider draws its pool at its cost and records it', async () => {
    const provider = await seedPool(env.deps, 10, { costPerCredit: '0.05' });
    const userId = await newUser(db(), 'plus');
    const hold = await reserveCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() });
    const done = await captureReservation(db(), { reservationId: hold.reservationId, provider });
    expect(done).toMatchObject({ provider, costUsd: '0.050000' });
    expect(await poolTotal(db(), provider)).toBe(9);
    expect(
      await reasonOf(
        captureReservation(db(), {
          reservationId: (await reserveCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() })).reservationId,
          provider: 'no-such-provider',
        }),
      ),
    ).toBe('NOT_FOUND');
    await db().execute(sql`update credit_reservations set expires_at = now() - interval '1 second' where user_id = ${userId} and status = 'pending'`);
    const { expireReservations } = await import('../ledger/release-reservation');
    await expireReservations(db());
  });
});

describe('[POOLS] auto-refill', () => {
  it('50 concurrent draws crossing the threshold start exactly one refill', async () => {
    const provider = await seedPool(env.deps, 60, { autoRefillThreshold: 30, autoRefillAmount: 500 });
    await Promise.all(Array.from({ length: 50 }, () => draw(provider)));
    const requests = await requestsOf(provider);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ trigger: 'auto', status: 'pending_manual_approval', amountRequested: 500 });
  });

  it('draws given the pool rather than a transaction: 50 concurrent crossing the threshold still start exactly one refill', async () => {
    const provider = await seedPool(env.deps, 60, { autoRefillThreshold: 20, autoRefillAmount: 500 });
    const results = await Promise.all(Array.from({ length: 50 }, () => drawFromPool(db(), provider, 1)));
    expect(results.every((r) => r !== null)).toBe(true);
    expect(await poolTotal(db(), provider)).toBe(10);
    expect(await requestsOf(provider)).toHaveLength(1);
  });

  it('manual approval flow: approve credits the pool, a second approval is refused', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const provider = await seedPool(env.deps, 3, { autoRefillThreshold: 2, autoRefillAmount: 200 });
    await draw(provider);
    const [request] = await requestsOf(provider);
    const approved = await caller.admin.purchaseRequests.approve({ id: String(request!.id), reason: 'bought on the provider site' });
    expect(approved).toMatchObject({ status: 'completed', decidedBy: expect.stringContaining('@') });
    expect(await poolTotal(db(), provider)).toBe(202);
    expect(await reasonOf(caller.admin.purchaseRequests.approve({ id: String(request!.id), reason: 'again' }))).toBe('CONFLICT');
    expect(await alertsOf(provider, 'pool_refilled')).toHaveLength(1);
  });

  it('manual approval that fails while crediting the pool leaves the request waiting, so approving again credits it once', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const provider = await seedPool(env.deps, 3, { autoRefillThreshold: 2, autoRefillAmount: 200 });
    await draw(provider);
    const [request] = await requestsOf(provider);
    // Crediting the pool is made to fail (as a crash or a lost connection would, after the approval).
    const fn = `refuse_${uniqueId('credit').replace(/\W/g, '_')}`;
    await db().execute(
      sql.raw(`create function ${fn}() returns trigger language plpgsql as $$ begin
                 if new.provider = '${provider}' and new.transaction_type = 'purchase' then raise exception 'crediting is refused in this test'; end if;
                 return new; end $$`),
    );
    await db().execute(sql.raw(`create trigger ${fn} before insert on credit_pool_transactions for each row execute function ${fn}()`));
    try {
      expect(await reasonOf(caller.admin.purchaseRequests.approve({ id: String(request!.id), reason: 'bought on the provider site' }))).not.toBe('OK');
    } finally {
      await db().execute(sql.raw(`drop trigger ${fn} on credit_pool_transactions; drop function ${fn}()`));
    }
    expect(await poolTotal(db(), provider)).toBe(2);
    // Nothing was credited, so the request still waits for its approval (not stuck as approved, blocking the pool's refills).
    expect((await requestsOf(provider))[0]).toMatchObject({ status: 'pending_manual_approval' });
    expect(await caller.admin.purchaseRequests.approve({ id: String(request!.id), reason: 'bought on the provider site' })).toMatchObject({ status: 'completed' });
    expect(await poolTotal(db(), provider)).toBe(202);
  });

  it('reject records the reason and leaves the pool unchanged', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const provider = await seedPool(env.deps, 3, { autoRefillThreshold: 2, autoRefillAmount: 200 });
    await draw(provider);
    const [request] = await requestsOf(provider);
    expect(await caller.admin.purchaseRequests.reject({ id: String(request!.id), reason: 'too expensive' })).toMatchObject({ status: 'rejected', decisionReason: 'too expensive' });
    expect(await poolTotal(db(), provider)).toBe(2);
  });

  it('top-up mode asks for the difference to the target balance; a percentage threshold follows the last refill', async () => {
    const provider = await seedPool(env.deps, 0, { refillMode: 'top_up', refillTargetBalance: 1000, autoRefillThreshold: 0, autoRefillThresholdPercent: 20 });
    await creditPool(db(), provider, 210, { reason: 'purchase' });
    expect((await getPool(db(), provider)).effectiveThreshold).toBe(42);
    for (let i = 0; i < 167; i++) await draw(provider);
    expect(await requestsOf(provider)).toHaveLength(0);
    await draw(provider);
    const [request] = await requestsOf(provider);
    expect(request!.amountRequested).toBe(1000 - 42);
  });

  it('http billing success credits the pool with the provider transaction id', async () => {
    billing.state.behaviour = 'ok';
    const provider = await seedPool(env.deps, 3, { autoRefillThreshold: 2, autoRefillAmount: 100, billingMode: 'http', billingUrl: billing.url, billingApiKey: 'sk-billing-secret' });
    await draw(provider);
    expect((await requestsOf(provider))[0]!.status).toBe('approved');
    expect(await processApprovedRefills(db(), refillDeps())).toBe(1);
    const [request] = await requestsOf(provider);
    expect(request).toMatchObject({ status: 'completed', providerTransactionId: expect.stringMatching(/^prov-tx-/) });
    expect(await poolTotal(db(), provider)).toBe(102);
    expect(billing.state.purchases.at(-1)).toMatchObject({ credits: 100, auth: 'Bearer sk-billing-secret' });
    const pool = await getPool(db(), provider);
    expect(JSON.stringify(pool)).not.toContain('sk-billing-secret');
    expect(pool.billingApiKeySet).toBe(true);
  });

  it.each([
    ['refuse', 'failed', /^billing endpoint answered HTTP 402 Payment Required$/],
    ['error500', 'outcome_unknown', /^billing endpoint answered HTTP 500 Internal Server Error$/],
    ['timeout', 'outcome_unknown', /timed out/],
    ['malformed', 'outcome_unknown', /^billing endpoint answered HTTP 200 OK with an unexpected body$/],
  ] as const)('http billing %s: the pool is unchanged, the request is %s with a status line (never the remote body), the pool backs off', async (behaviour, status, message) => {
    billing.state.behaviour = behaviour;
    const provider = await seedPool(env.deps, 3, { autoRefillThreshold: 2, autoRefillAmount: 100, billingMode: 'http', billingUrl: billing.url });
    await draw(provider);
    await processApprovedRefills(db(), refillDeps());
    const [request] = await requestsOf(provider);
    expect(request!.status).toBe(status);
    expect(request!.errorMessage).toMatch(message);
    expect(request!.errorMessage).not.toContain(REMOTE_BODY_MARKER);
    expect(await poolTotal(db(), provider)).toBe(2);
    expect((await alertsOf(provider, 'pool_refill_failed'))[0]).toMatchObject({ level: 'warning' });
    // Backing off: further draws below the threshold start no new refill.
    await draw(provider);
    expect(await requestsOf(provider)).toHaveLength(1);
    expect((await getPool(db(), provider)).refillBackoffUntil).not.toBeNull();
  });

  it('a refill over the month budget needs manual approval and says so loudly', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    await caller.admin.platformSettings.update({ monthlyRevenueUsd: '100.00', creditBudgetSharePercent: 80, refillBackoffSeconds: 3600, providerDriftTolerance: 10, reason: 'budget test' });
    try {
      const provider = await seedPool(env.deps, 3, { costPerCredit: '1.00', autoRefillThreshold: 2, autoRefillAmount: 100, billingMode: 'http', billingUrl: billing.url });
      await draw(provider);
      const [auto] = await requestsOf(provider);
      expect(auto).toMatchObject({ status: 'pending_manual_approval', note: expect.stringContaining('budget') });
      expect((await alertsOf(provider, 'refill_over_budget'))[0]).toMatchObject({ level: 'warning' });
      const manual = await caller.admin.pools.refill({ provider, amount: 500 });
      expect(manual.status).toBe('pending_manual_approval');
      const small = await caller.admin.pools.refill({ provider, amount: 10 });
      expect(small.status).toBe('completed');
    } finally {
      await caller.admin.platformSettings.update({ monthlyRevenueUsd: '0', creditBudgetSharePercent: 80, refillBackoffSeconds: 3600, providerDriftTolerance: 10, reason: 'reset' });
    }
  });

  it('the Refill button on a manual pool credits it at once, audited', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const provider = await seedPool(env.deps, 0);
    const request = await caller.admin.pools.refill({ provider, amount: 500 });
    expect(request).toMatchObject({ status: 'completed', trigger: 'manual' });
    expect(await getPool(db(), provider)).toMatchObject({ availableBalance: 500, status: 'active', totalPurchased: 500 });
  });

  it('bad input: negative or non-numeric amounts, unknown providers; an analyst cannot refill', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const { caller: analyst } = await signedInCaller(env.deps, 'analyst');
    const provider = await seedPool(env.deps, 0);
    const outcomes = await Promise.all([
      reasonOf(caller.admin.pools.refill({ provider, amount: -5 })),
      reasonOf(caller.admin.pools.refill({ provider, amount: 'lots' as never })),
      reasonOf(caller.admin.pools.refill({ provider: 'nope-provider', amount: 5 })),
      reasonOf(caller.admin.pools.create({ provider: 'Bad Name', costPerCredit: '0.1', autoRefillThreshold: 0, autoRefillAmount: 0 })),
      reasonOf(caller.admin.pools.create({ provider: 'http-no-url', costPerCredit: '0.1', autoRefillThreshold: 0, autoRefillAmount: 0, billingMode: 'http' } as never)),
      reasonOf(analyst.admin.pools.refill({ provider, amount: 5 })),
    ]);
    expect(outcomes).toEqual(['BAD_REQUEST', 'BAD_REQUEST', 'NOT_FOUND', 'BAD_REQUEST', 'BAD_REQUEST', 'FORBIDDEN']);
    expect(await requestsOf(provider)).toHaveLength(0);
  });
});

describe('[POOLS] reconciliation with the provider', () => {
  it('a drift beyond the tolerance raises a warning; within it, nothing', async () => {
    billing.state.behaviour = 'ok';
    const provider = await seedPool(env.deps, 0, { billingMode: 'http', billingUrl: billing.url });
    await creditPool(db(), provider, 50, { reason: 'seed' });
    billing.state.balance = 55;
    let results = await checkProviderBalances(db(), env.deps.secrets, env.deps.outbound, 500);
    expect(results.find((r) => r.provider === provider)).toMatchObject({ poolBalance: 50, providerBalance: 55, drift: 5 });
    expect(await alertsOf(provider, 'pool_provider_drift')).toHaveLength(0);
    billing.state.balance = 80;
    results = await checkProviderBalances(db(), env.deps.secrets, env.deps.outbound, 500);
    expect(results.find((r) => r.provider === provider)!.drift).toBe(30);
    expect(await alertsOf(provider, 'pool_provider_drift')).toHaveLength(1);
    expect((await getPool(db(), provider)).providerReportedBalance).toBe(80);
  });
});

describe('[POOLS] a draw larger than any one stripe', () => {
  it('is paid across stripes when the total covers it, and refused when it does not', async () => {
    const provider = await seedPool(env.deps, 40);
    const big = await db().transaction((tx) => drawFromPool(tx, provider, 35));
    expect(big).not.toBeNull();
    expect(await poolTotal(db(), provider)).toBe(5);
    expect(await db().transaction((tx) => drawFromPool(tx, provider, 6))).toBeNull();
    expect(await poolTotal(db(), provider)).toBe(5);
  });
});
