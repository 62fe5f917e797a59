import { and, asc, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../auth/audit';
import { apiKeyCaller, createTestEnv, signedInCaller, type TestEnv } from '../test/harness';
import { balanceRow, countEntries, expectLedgerClean, key, newUser, reasonOf } from '../test/ledger-helpers';
import { seedPool } from '../test/pool-helpers';
import { adjustCredits, grantCredits, refundTransaction } from './admin-ops';
import { consumeCredits } from './consume';
import { allocateMonthlyCredits } from './monthly-reset';
import { checkLedger } from './reconcile';
import { releaseReservation } from './release-reservation';
import { reserveCredits } from './reserve-credits';
import { creditTransactions } from './tables';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterEach(() => expectLedgerClean(env.deps.dbHandle.db));
afterAll(() => env.close());

const db = () => env.deps.dbHandle.db;
const spend = async (userId: string, credits: number) => consumeCredits(db(), { userId, credits, enhancementType: 'upscale', idempotencyKey: key() });

async function upsertCaller() {
  const { caller } = await apiKeyCaller(env.deps, ['users:write']);
  return (userId: string, tier: 'free' | 'plus' | 'pro') => caller.users.upsert({ userId, tier });
}

describe('[LEDGER] a tier change never restores spent allowance', () => {
  it('a pro user who spent 25 is switched free → pro three times over users.upsert and keeps 0, not 100', async () => {
    const upsert = await upsertCaller();
    const userId = await newUser(db(), 'pro');
    await spend(userId, 25);
    for (let flip = 0; flip < 3; flip++) {
      expect(await upsert(userId, 'free')).toMatchObject({ tier: 'free', currentBalance: 0 });
      expect(await upsert(userId, 'pro')).toMatchObject({ tier: 'pro', monthlyAllowance: 25, currentBalance: 0 });
    }
    expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 0, bonus: 0 });
    // Six tier changes, each recorded; none of them moved a credit.
    const moves = await db()
      .select()
      .from(creditTransactions)
      .where(and(eq(creditTransactions.userId, userId), eq(creditTransactions.transactionType, 'tier_change')))
      .orderBy(asc(creditTransactions.id));
    expect(moves).toHaveLength(6);
    expect(moves.every((m) => m.creditsDelta === 0)).toBe(true);
    expect(moves[0]!.reason).toContain('pro → free');
    expect(await reasonOf(spend(userId, 1))).toBe('PLATFORM_CREDITS_DEPLETED');
  });

  it('admin.users.setTier follows the same rule: pro with 25 spent → free → pro leaves 0', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const userId = await newUser(db(), 'pro');
    await spend(userId, 25);
    await caller.admin.users.setTier({ userId, tier: 'free', reason: 'downgrade' });
    expect(await caller.admin.users.setTier({ userId, tier: 'pro', reason: 'upgrade again' })).toMatchObject({ tier: 'pro', currentBalance: 0 });
    expect(await countEntries(db(), userId, 'tier_change')).toBe(2);
  });

  it('plus with 10 spent → pro leaves 15; an upgrade with some left gives the difference', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const spentAll = await newUser(db(), 'plus');
    await spend(spentAll, 10);
    expect(await caller.admin.users.setTier({ userId: spentAll, tier: 'pro', reason: 'upgrade' })).toMatchObject({ currentBalance: 15 });
    const spentSome = await newUser(db(), 'plus');
    await spend(spentSome, 4);
    expect(await caller.admin.users.setTier({ userId: spentSome, tier: 'pro', reason: 'upgrade' })).toMatchObject({ currentBalance: 21 });
    expect(await caller.admin.users.setTier({ userId: spentSome, tier: 'plus', reason: 'downgrade' })).toMatchObject({ currentBalance: 6 });
  });

  it('bonus credits are untouched by any tier change', async () => {
    const upsert = await upsertCaller();
    const userId = await newUser(db(), 'pro');
    await grantCredits(db(), cliActor, { userId, credits: 7, reason: 'goodwill' });
    await spend(userId, 30); // 25 allowance, then 5 of the bonus
    await upsert(userId, 'free');
    await upsert(userId, 'plus');
    expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 0, bonus: 2 });
  });

  it('a pending hold counts as spent; releasing it gives the credit back, on the new tier too', async () => {
    const upsert = await upsertCaller();
    const userId = await newUser(db(), 'pro');
    await spend(userId, 24);
    const hold = await reserveCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() });
    await upsert(userId, 'free');
    expect(await upsert(userId, 'pro')).toMatchObject({ currentBalance: 0 });
    await releaseReservation(db(), { reservationId: hold.reservationId, reason: 'provider failed' });
    expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 1 });
    expect(await upsert(userId, 'plus')).toMatchObject({ currentBalance: 0 });
    expect(await upsert(userId, 'pro')).toMatchObject({ currentBalance: 1 });
  });

  it('a refund and a positive adjustment survive a tier change; a negative adjustment is not undone by one', async () => {
    const upsert = await upsertCaller();
    const userId = await newUser(db(), 'pro');
    const charge = await spend(userId, 25);
    await refundTransaction(db(), cliActor, { transactionId: charge.transactionId, reason: 'bad output' });
    await adjustCredits(db(), cliActor, { userId, delta: -25, reason: 'duplicate account' });
    await upsert(userId, 'free');
    expect(await upsert(userId, 'pro')).toMatchObject({ currentBalance: 0 });
    await adjustCredits(db(), cliActor, { userId, delta: 3, reason: 'correction' });
    await upsert(userId, 'plus');
    expect(await upsert(userId, 'pro')).toMatchObject({ currentBalance: 3 });
  });

  it('concurrent tier flips and spending never give more than one allowance in a month', async () => {
    const upsert = await upsertCaller();
    const userId = await newUser(db(), 'pro');
    const flips = Array.from({ length: 20 }, (_, i) => upsert(userId, i % 2 ? 'pro' : 'free'));
    const spends = Array.from({ length: 60 }, () => reasonOf(spend(userId, 1)));
    const outcomes = await Promise.all([...spends, ...flips.map((f) => f.then(() => 'FLIP'))]);
    await upsert(userId, 'pro');
    const { allowance } = await balanceRow(db(), userId);
    const paid = outcomes.filter((o) => o === 'OK').length;
    expect(paid + allowance).toBe(25);
  });

  it('the next monthly reset gives the full allowance again', async () => {
    const upsert = await upsertCaller();
    const userId = await newUser(db(), 'pro');
    await spend(userId, 25);
    await upsert(userId, 'free');
    await upsert(userId, 'pro');
    const nextMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1, 0, 5));
    await allocateMonthlyCredits(db(), { at: nextMonth });
    expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 25 });
    // The new month's spending starts from zero: a downgrade and upgrade leave all 25.
    await upsert(userId, 'plus');
    expect(await upsert(userId, 'pro')).toMatchObject({ currentBalance: 25 });
  });

  it('pool overflow is not allowance: a pro user who overflowed keeps 0 after flipping', async () => {
    await seedPool(env.deps, 100);
    const upsert = await upsertCaller();
    const userId = await newUser(db(), 'pro');
    await spend(userId, 25);
    expect((await spend(userId, 1)).source).toBe('platform_pool');
    await upsert(userId, 'free');
    expect(await upsert(userId, 'pro')).toMatchObject({ currentBalance: 0 });
  });

  it('the reconciliation reports allowance taken without counting it as spent', async () => {
    const userId = await newUser(db(), 'pro');
    await db().execute(sql`
      with u as (update user_credits set current_balance = current_balance - 5 where user_id = ${userId} returning current_balance + bonus_balance as total)
      insert into credit_transactions (user_id, transaction_type, credits_delta, balance_after, source) select ${userId}, 'adjustment', -5, total, 'user_credits' from u`);
    const check = await checkLedger(db());
    expect(check.ok).toBe(false);
    expect(check.offenders).toEqual([]);
    expect(check.untrackedAllowance).toEqual([{ userId, allowanceBalance: 20, spentThisPeriod: 0, monthlyAllowance: 25 }]);
    await db().execute(sql`update user_credits set allowance_spent_this_period = 5 where user_id = ${userId}`);
  });
});
