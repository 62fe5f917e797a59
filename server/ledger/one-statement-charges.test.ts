import { eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { col, queryOne } from '../db/rows';
import { createTestEnv, type TestEnv } from '../test/harness';
import { balanceRow, expectLedgerClean, key, newUser, setAllowanceBalance } from '../test/ledger-helpers';
import { expectPoolsClean, seedPool } from '../test/pool-helpers';
import { cliActor } from '../auth/audit';
import { grantCredits } from './admin-ops';
import { consumeCredits } from './consume';
import { reserveCredits } from './reserve-credits';
import { creditReservations, creditTransactions } from './tables';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
  await seedPool(env.deps, 10_000);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await expectLedgerClean(env.deps.dbHandle.db);
  await expectPoolsClean(env.deps.dbHandle.db);
});
afterAll(() => env.close());

const db = () => env.deps.dbHandle.db;

/** How many statements `run` sends through the database handle (every ledger write goes through `execute`). */
async function statementsOf<T>(run: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const spy = vi.spyOn(db(), 'execute');
  try {
    const result = await run();
    return { result, statements: spy.mock.calls.length };
  } finally {
    spy.mockRestore();
  }
}

const overflowOf = async (userId: string) => (await queryOne(db(), z.object({ n: col.integer }), sql`select overflow_this_period as n from user_credits where user_id = ${userId}`))!.n;

async function spentUser() {
  const userId = await newUser(db(), 'pro');
  await setAllowanceBalance(db(), userId, 0);
  return userId;
}

describe('[LEDGER] an overflow is charged in one statement, like a charge to the allowance', () => {
  it('an overflowing consume is one round trip once the user overflows: a platform_pool entry of delta 0, the overflow counted, the balance untouched', async () => {
    const userId = await spentUser();
    // The first overflow finds the allowance spent on its way (a hint, not a rule): two statements.
    const first = await statementsOf(() => consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() }));
    expect([first.statements, first.result.source]).toEqual([2, 'platform_pool']);
    const { result, statements } = await statementsOf(() => consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() }));
    expect(statements).toBe(1);
    expect(result).toMatchObject({ source: 'platform_pool', creditsConsumed: 1, remainingBalance: 0 });
    const [entry] = await db()
      .select()
      .from(creditTransactions)
      .where(eq(creditTransactions.id, Number(result.transactionId)));
    expect(entry).toMatchObject({ transactionType: 'consumption', source: 'platform_pool', creditsDelta: 0, balanceAfter: 0, tier: 'pro' });
    expect(await overflowOf(userId)).toBe(2);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 0, consumed: 2 });
  });

  it('an overflowing hold is one round trip once the user overflows: a platform_pool reservation and its hold entry of delta 0', async () => {
    const userId = await spentUser();
    const first = await statementsOf(() => reserveCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() }));
    expect([first.statements, first.result.source]).toEqual([2, 'platform_pool']);
    const { result, statements } = await statementsOf(() => reserveCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() }));
    expect(statements).toBe(1);
    expect(result.source).toBe('platform_pool');
    const [hold] = await db().select().from(creditReservations).where(eq(creditReservations.id, result.reservationId));
    expect(hold).toMatchObject({ source: 'platform_pool', status: 'pending', credits: 1, tier: 'pro' });
    const [entry] = await db().select().from(creditTransactions).where(eq(creditTransactions.reservationId, result.reservationId));
    expect(entry).toMatchObject({ transactionType: 'hold', source: 'platform_pool', creditsDelta: 0, status: 'pending' });
    expect(await overflowOf(userId)).toBe(2);
  });

  it('an overflowing user whose allowance is back is charged the allowance, in one statement, and no overflow is counted', async () => {
    const userId = await spentUser();
    await consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() });
    await setAllowanceBalance(db(), userId, 5);
    const consumed = await statementsOf(() => consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() }));
    expect([consumed.statements, consumed.result.source, consumed.result.remainingBalance]).toEqual([1, 'user_credits', 4]);
    const held = await statementsOf(() => reserveCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() }));
    expect([held.statements, held.result.source]).toEqual([1, 'user_credits']);
    expect(await overflowOf(userId)).toBe(1);
    expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 3, total: 3 });
  });

  it('with allowance left the same statement charges the allowance and counts no overflow', async () => {
    const userId = await newUser(db(), 'pro');
    const consumed = await statementsOf(() => consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() }));
    const held = await statementsOf(() => reserveCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() }));
    expect([consumed.statements, held.statements]).toEqual([1, 1]);
    expect([consumed.result.source, held.result.source]).toEqual(['user_credits', 'user_credits']);
    const [entry] = await db()
      .select()
      .from(creditTransactions)
      .where(eq(creditTransactions.id, Number(consumed.result.transactionId)));
    expect(entry).toMatchObject({ source: 'user_credits', creditsDelta: -1, balanceAfter: 24 });
    expect(await overflowOf(userId)).toBe(0);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 23 });
  });

  it('granted credits are spent before any overflow: the one statement does not overflow a user whose grant can pay', async () => {
    const userId = await spentUser();
    await grantCredits(db(), cliActor, { userId, credits: 2, reason: 'test grant' });
    const consumed = await consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() });
    const held = await reserveCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() });
    expect([consumed.source, held.source]).toEqual(['user_credits', 'user_credits']);
    expect(await overflowOf(userId)).toBe(0);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 0, bonus: 0 });
    // Now nothing is left but the platform.
    expect((await consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() })).source).toBe('platform_pool');
    expect(await overflowOf(userId)).toBe(1);
  });

  it('40 concurrent charges on a user with 10 credits left: 10 from the allowance, 30 overflow (within the cap of 50), each counted once', async () => {
    const userId = await newUser(db(), 'pro');
    await setAllowanceBalance(db(), userId, 10);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0
          ? consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() })
          : reserveCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() }),
      ),
    );
    expect(results.filter((r) => r.source === 'user_credits')).toHaveLength(10);
    expect(results.filter((r) => r.source === 'platform_pool')).toHaveLength(30);
    expect(await overflowOf(userId)).toBe(30);
    expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 0, total: 0 });
  });
});
