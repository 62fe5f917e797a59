import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cliActor } from '../auth/audit';
import { col, queryOne } from '../db/rows';
import { createTestEnv, type TestEnv } from '../test/harness';
import { balanceRow, countEntries, expectLedgerClean, key, newUser } from '../test/ledger-helpers';
import { grantCredits } from './admin-ops';
import { getBalance } from './balance';
import { consumeCredits } from './consume';
import { allocateMonthlyCredits } from './monthly-reset';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterEach(() => expectLedgerClean(env.deps.dbHandle.db));
afterAll(() => env.close());

const db = () => env.deps.dbHandle.db;

/** Moves a user's last reset into the previous month, as if the month had turned since. */
async function lastResetLastMonth(userId: string) {
  await db().execute(sql`update user_credits set last_reset_at = date_trunc('month', now(), 'UTC') - interval '3 days' where user_id = ${userId}`);
}

describe('[LEDGER] monthly reset', () => {
  it('a read after the month turns resets that user first, once', async () => {
    const userId = await newUser(db(), 'plus');
    await consumeCredits(db(), { userId, credits: 4, enhancementType: 'lighting', idempotencyKey: key() });
    await lastResetLastMonth(userId);
    const [a, b] = await Promise.all([getBalance(db(), userId), getBalance(db(), userId)]);
    expect(a).toMatchObject({ currentBalance: 10, consumedThisMonth: 0 });
    expect(b).toMatchObject({ currentBalance: 10, consumedThisMonth: 0 });
    expect(await countEntries(db(), userId, 'allocation')).toBe(2);
  });

  it('a consume after the month turns resets first, then charges the new allowance', async () => {
    const userId = await newUser(db(), 'pro');
    await consumeCredits(db(), { userId, credits: 25, enhancementType: 'lighting', idempotencyKey: key() });
    await lastResetLastMonth(userId);
    const r = await consumeCredits(db(), { userId, credits: 1, enhancementType: 'lighting', idempotencyKey: key() });
    expect(r).toMatchObject({ source: 'user_credits', remainingBalance: 24 });
  });

  it('allocateMonthlyCredits() resets every due user in one pass with one allocation entry each; a second run changes nothing', async () => {
    const users = await Promise.all([newUser(db(), 'plus'), newUser(db(), 'pro'), newUser(db(), 'free')]);
    for (const u of users.slice(0, 2)) await consumeCredits(db(), { userId: u, credits: 3, enhancementType: 'color', idempotencyKey: key() });
    await grantCredits(db(), cliActor, { userId: users[0], credits: 5, reason: 'loyalty bonus' });
    for (const u of users) await lastResetLastMonth(u);

    const first = await allocateMonthlyCredits(db());
    expect(first.usersReset).toBeGreaterThanOrEqual(3);
    expect(await balanceRow(db(), users[0])).toMatchObject({ allowance: 10, bonus: 5, consumed: 0 });
    expect(await balanceRow(db(), users[1])).toMatchObject({ allowance: 25, bonus: 0 });
    expect(await balanceRow(db(), users[2])).toMatchObject({ allowance: 0 });
    const entries = await Promise.all(users.map((u) => countEntries(db(), u, 'allocation')));
    expect(entries).toEqual([2, 2, 2]);

    expect(await allocateMonthlyCredits(db())).toEqual({ usersReset: 0 });
    expect(await Promise.all(users.map((u) => countEntries(db(), u, 'allocation')))).toEqual([2, 2, 2]);
  });

  it('at the month boundary: a run just before midnight UTC resets nobody, a run just after resets', async () => {
    const userId = await newUser(db(), 'plus');
    const row = await queryOne(db(), z.object({ next: col.time }), sql`select date_trunc('month', now(), 'UTC') + interval '1 month' as next`);
    const nextMonth = new Date(row!.next);
    await allocateMonthlyCredits(db(), { at: new Date(nextMonth.getTime() - 1000) });
    expect(await countEntries(db(), userId, 'allocation')).toBe(1);
    await allocateMonthlyCredits(db(), { at: nextMonth });
    expect(await countEntries(db(), userId, 'allocation')).toBe(2);
    await allocateMonthlyCredits(db(), { at: new Date(nextMonth.getTime() + 3_600_000) });
    expect(await countEntries(db(), userId, 'allocation')).toBe(2);
  });

  it('the reset uses the tier allowance as an admin last set it', async () => {
    const userId = await newUser(db(), 'plus');
    await db().execute(sql`update tier_allowances set monthly_credits = 12 where tier = 'plus'`);
    try {
      await lastResetLastMonth(userId);
      await allocateMonthlyCredits(db());
      expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 12 });
      expect((await getBalance(db(), userId)).monthlyAllowance).toBe(12);
    } finally {
      await db().execute(sql`update tier_allowances set monthly_credits = 10 where tier = 'plus'`);
    }
  });
});
