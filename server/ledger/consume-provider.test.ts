import { TRPCError } from '@trpc/server';
import { eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../auth/audit';
import { countRow, queryOne } from '../db/rows';
import { poolTotal } from '../pools/draw';
import { setPoolSuspended } from '../pools/pool-admin';
import { apiKeyCaller, createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { balanceRow, countEntries, expectLedgerClean, key, newUser, reasonOf, setAllowanceBalance } from '../test/ledger-helpers';
import { expectPoolsClean, seedPool } from '../test/pool-helpers';
import { consumeCredits } from './consume';
import { creditTransactions } from './tables';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterEach(async () => {
  await expectLedgerClean(env.deps.dbHandle.db);
  await expectPoolsClean(env.deps.dbHandle.db);
});
afterAll(() => env.close());

const db = () => env.deps.dbHandle.db;
const consume = (userId: string, provider?: string, idempotencyKey = key()) => consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey, provider });

async function poolDraws(provider: string) {
  const row = await queryOne(db(), countRow, sql`select count(*)::int as n from credit_pool_transactions where provider = ${provider} and transaction_type = 'consumption'`);
  return row!.n;
}

describe("[LEDGER] credits.consume with a provider draws that provider's pool in the same transaction", () => {
  it('over the API: the user pays a credit, the named pool pays its cost, and the transaction carries it', async () => {
    const provider = await seedPool(env.deps, 100, { costPerCredit: '0.039' });
    const userId = await newUser(db(), 'plus');
    const { caller } = await apiKeyCaller(env.deps, ['credits:write']);
    const result = await caller.credits.consume({ userId, credits: 2, enhancementType: 'upscale', idempotencyKey: key(), provider });
    expect(result).toMatchObject({ source: 'user_credits', creditsConsumed: 2, remainingBalance: 8, costUsd: '0.078000' });
    expect(await poolTotal(db(), provider)).toBe(98);
    const [entry] = await db()
      .select()
      .from(creditTransactions)
      .where(eq(creditTransactions.id, Number(result.transactionId)));
    expect(entry).toMatchObject({ provider, costUsd: '0.078000', creditsDelta: -2 });
  });

  it('without a provider nothing is drawn, as documented', async () => {
    const provider = await seedPool(env.deps, 100);
    const userId = await newUser(db(), 'plus');
    expect((await consume(userId)).costUsd).toBe('0.000000');
    expect(await poolTotal(db(), provider)).toBe(100);
  });

  it('an overflow with a provider draws that pool once: the platform pays, the user nothing', async () => {
    const provider = await seedPool(env.deps, 10);
    const userId = await newUser(db(), 'pro');
    await setAllowanceBalance(db(), userId, 0);
    expect(await consume(userId, provider)).toMatchObject({ source: 'platform_pool', costUsd: '0.039000' });
    expect(await poolTotal(db(), provider)).toBe(9);
  });

  it('100 concurrent replays of one key with a provider charge the user and the pool once', async () => {
    const provider = await seedPool(env.deps, 100);
    const userId = await newUser(db(), 'pro');
    const k = key();
    const results = await Promise.all(Array.from({ length: 100 }, () => consume(userId, provider, k)));
    expect(new Set(results.map((r) => r.transactionId)).size).toBe(1);
    expect(results.every((r) => r.costUsd === '0.039000')).toBe(true);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 24 });
    expect(await poolTotal(db(), provider)).toBe(99);
    expect(await poolDraws(provider)).toBe(1);
    // The same key naming another provider is another request.
    expect(await reasonOf(consume(userId, await seedPool(env.deps, 5), k))).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('an unknown provider, an inactive one or a pool that cannot pay is refused and charges nothing', async () => {
    const userId = await newUser(db(), 'plus');
    const empty = await seedPool(env.deps, 0);
    const suspended = await seedPool(env.deps, 100);
    await setPoolSuspended(db(), cliActor, { provider: suspended, suspended: true, reason: 'test' });
    const disabled = await seedPool(env.deps, 100);
    await db().execute(sql`insert into api_providers (name, kind, base_url, is_active) values (${disabled}, 'fal', 'http://127.0.0.1:9', false)`);

    const { caller } = await apiKeyCaller(env.deps, ['credits:write']);
    const refusal = async (provider: string) => {
      const err = (await caller.credits.consume({ userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key(), provider }).catch((e: unknown) => e)) as TRPCError;
      return { code: err.code, reason: (err.cause as unknown as { reason: string }).reason, message: err.message };
    };
    expect(await refusal(uniqueId('nope').toLowerCase())).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('No credit pool') });
    expect(await refusal(empty)).toMatchObject({ reason: 'PLATFORM_CREDITS_DEPLETED', message: expect.stringContaining(empty) });
    expect(await refusal(suspended)).toMatchObject({ reason: 'PROVIDER_INACTIVE' });
    expect(await refusal(disabled)).toMatchObject({ reason: 'PROVIDER_INACTIVE' });

    expect(await balanceRow(db(), userId)).toMatchObject({ total: 10, consumed: 0 });
    expect(await countEntries(db(), userId, 'consumption')).toBe(0);
    expect(await poolTotal(db(), suspended)).toBe(100);
    expect(await poolTotal(db(), disabled)).toBe(100);
  });

  it('a refused user leg draws nothing from the pool', async () => {
    const provider = await seedPool(env.deps, 100);
    const userId = await newUser(db(), 'free');
    expect(await reasonOf(consume(userId, provider))).toBe('INSUFFICIENT_CREDITS');
    expect(await poolTotal(db(), provider)).toBe(100);
  });

  it('the built-in local provider costs nothing and has no pool', async () => {
    const userId = await newUser(db(), 'plus');
    expect(await consume(userId, 'local')).toMatchObject({ source: 'user_credits', costUsd: '0.000000' });
  });
});
