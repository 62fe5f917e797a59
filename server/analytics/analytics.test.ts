import { TRPCError } from '@trpc/server';
import { eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cliActor } from '../auth/audit';
import { col, queryOne, queryRows } from '../db/rows';
import { grantCredits } from '../ledger/admin-ops';
import { consumeCredits } from '../ledger/consume';
import { captureReservation } from '../ledger/capture-reservation';
import { releaseReservation } from '../ledger/release-reservation';
import { reserveCredits } from '../ledger/reserve-credits';
import { userNotifications } from '../providers/tables';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { expectLedgerClean, key, newUser, setAllowanceBalance } from '../test/ledger-helpers';
import { expectPoolsClean, seedPool } from '../test/pool-helpers';
import { backfillDailySummaries, generateDailyUsageSummary } from './daily-summary';
import { addDays, today } from './days';
import { forecast } from './forecast';
import { optimizeAllocation } from './reallocation';
import { whatIf } from './what-if';

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

/** Moves a user's entries (by id) to a given instant, as if they had happened then. */
async function at(instant: string, ids: { userId: string }) {
  await db().execute(sql`update credit_transactions set created_at = ${instant}::timestamptz where user_id = ${ids.userId} and created_at > now() - interval '1 hour'`);
}

/** A daily_usage_summary row, every column and no other (money as decimal text). */
const dailySummaryRow = z.strictObject({
  day: col.text,
  total_requests: col.integer,
  successful_requests: col.integer,
  failed_requests: col.integer,
  credits_consumed: col.integer,
  allowance_credits: col.integer,
  platform_credits: col.integer,
  cost_usd: col.decimal,
  free_tier_usage: col.integer,
  plus_tier_usage: col.integer,
  pro_tier_usage: col.integer,
  active_users: col.integer,
  generated_at: col.time,
});

describe('[ANALYTICS] daily usage summary', () => {
  const D = '2026-10-10';

  it('matches the ledger exactly across tiers, sources, providers, failures and the midnight boundary; re-running changes nothing', async () => {
    const provider = await seedPool(env.deps, 100, { costPerCredit: '0.05' });
    const free = await newUser(db(), 'free');
    await grantCredits(db(), cliActor, { userId: free, credits: 5, reason: 'seed' });
    await at('2026-10-01T08:00:00Z', { userId: free });
    for (let i = 0; i < 2; i++) await consumeCredits(db(), { userId: free, credits: 1, enhancementType: 'lighting', idempotencyKey: key() });
    await at(`${D}T12:00:00Z`, { userId: free });

    const plus = await newUser(db(), 'plus');
    await at('2026-10-01T08:00:00Z', { userId: plus });
    for (let i = 0; i < 3; i++) await consumeCredits(db(), { userId: plus, credits: 1, enhancementType: 'color', idempotencyKey: key() });
    const ok = await reserveCredits(db(), { userId: plus, credits: 1, enhancementType: 'upscale', idempotencyKey: key() });
    await captureReservation(db(), { reservationId: ok.reservationId, provider });
    const failed = await reserveCredits(db(), { userId: plus, credits: 1, enhancementType: 'upscale', idempotencyKey: key() });
    await releaseReservation(db(), { reservationId: failed.reservationId, reason: 'provider failed' });
    await at(`${D}T23:59:59.500Z`, { userId: plus });
    // Half a second later, the next day.
    const late = await reserveCredits(db(), { userId: plus, credits: 1, enhancementType: 'upscale', idempotencyKey: key() });
    await captureReservation(db(), { reservationId: late.reservationId, provider });
    await db().execute(sql`update credit_transactions set created_at = ${`${addDays(D, 1)}T00:00:00.000Z`}::timestamptz where reservation_id = ${late.reservationId}`);

    const pro = await newUser(db(), 'pro');
    await setAllowanceBalance(db(), pro, 0);
    await at('2026-10-01T08:00:00Z', { userId: pro });
    await consumeCredits(db(), { userId: pro, credits: 1, enhancementType: 'style', idempotencyKey: key() });
    await at(`${D}T00:00:00Z`, { userId: pro });

    await generateDailyUsageSummary(db(), D);
    await generateDailyUsageSummary(db(), addDays(D, 1));
    const summary = () => queryRows(db(), dailySummaryRow, sql`select *, cost_usd::text as cost_usd from daily_usage_summary where day in (${D}::date, ${addDays(D, 1)}::date) order by day`);
    const first = await summary();
    expect(first[0]).toMatchObject({
      total_requests: 8,
      successful_requests: 7,
      failed_requests: 1,
      credits_consumed: 7,
      allowance_credits: 6,
      platform_credits: 1,
      cost_usd: '0.050000',
      free_tier_usage: 2,
      plus_tier_usage: 4,
      pro_tier_usage: 1,
      active_users: 3,
    });
    expect(first[1]).toMatchObject({ total_requests: 1, successful_requests: 1, cost_usd: '0.050000', plus_tier_usage: 1 });
    const byProvider = await queryRows(
      db(),
      z.object({ value: col.text, requests: col.integer, cost_usd: col.decimal }),
      sql`select value, requests, cost_usd::text from daily_usage_breakdown where day = ${D}::date and dimension = 'provider'`,
    );
    expect(byProvider).toEqual([{ value: provider, requests: 1, cost_usd: '0.050000' }]);
    const byType = await queryRows(
      db(),
      z.object({ value: col.text, requests: col.integer }),
      sql`select value, requests from daily_usage_breakdown where day = ${D}::date and dimension = 'enhancementType' order by value`,
    );
    expect(byType).toEqual([
      { value: 'color', requests: 3 },
      { value: 'lighting', requests: 2 },
      { value: 'style', requests: 1 },
      { value: 'upscale', requests: 2 },
    ]);

    await generateDailyUsageSummary(db(), D);
    expect(await summary()).toEqual(first.map((r) => ({ ...r, generated_at: expect.anything() })));
    const userDay = await queryOne(db(), z.object({ n: col.integer }), sql`select sum(requests)::int as n from daily_user_usage where day = ${D}::date`);
    expect(userDay!.n).toBe(7);
  });

  it('backfills every missing finished day, with zero rows for quiet days, and then has nothing to do', async () => {
    const done = await backfillDailySummaries(db(), { until: '2026-10-15' });
    expect(done).toContain('2026-10-12');
    const quiet = await queryOne(db(), z.object({ total_requests: col.integer }), sql`select total_requests from daily_usage_summary where day = '2026-10-12'`);
    expect(quiet).toEqual({ total_requests: 0 });
    expect(await backfillDailySummaries(db(), { until: '2026-10-15' })).toEqual([]);
  });
});

describe('[ANALYTICS] usage API', () => {
  it('the trend over a range has a point per day and renders a split by provider', async () => {
    const { caller } = await signedInCaller(env.deps, 'analyst');
    const trend = await caller.admin.usage.trend({ range: { from: '2026-10-09', to: '2026-10-11' }, split: 'provider' });
    expect(trend.points.map((p) => p.day)).toEqual(['2026-10-09', '2026-10-10', '2026-10-11']);
    expect(trend.points[1]!.successfulRequests).toBe(7);
    expect(trend.splitValues.length).toBeGreaterThan(0);
    expect(Object.keys(trend.points[1]!.split)).toEqual(trend.splitValues);
  });

  it('today comes live from the ledger', async () => {
    const { caller } = await signedInCaller(env.deps, 'analyst');
    const userId = await newUser(db(), 'plus');
    const before = (await caller.admin.usage.trend({ range: { from: today(), to: today() } })).points[0]!;
    await consumeCredits(db(), { userId, credits: 1, enhancementType: 'color', idempotencyKey: key() });
    const after = (await caller.admin.usage.trend({ range: { from: today(), to: today() } })).points[0]!;
    expect(after.successfulRequests).toBe(before.successfulRequests + 1);
    const dash = await caller.admin.dashboard();
    expect(dash.requestsToday).toBe(after.totalRequests);
  });

  it.each([
    [{ from: '2026-10-11', to: '2026-10-09' }, 'none', /from must not be after to/],
    [{ from: '2023-01-01', to: '2026-10-09' }, 'none', /at most 2 years/],
    [{ from: '2026-10-01', to: '2026-10-09' }, 'country', /split/],
    [{ from: '10/01/2026', to: '2026-10-09' }, 'none', /range.from/],
    // Shaped like a day, but no such day on the calendar: refused by the schema, not by PostgreSQL.
    [{ from: '2026-02-30', to: '2026-03-05' }, 'none', /range.from.*calendar day/],
    [{ from: '2026-02-01', to: '2026-02-31' }, 'provider', /range.to.*calendar day/],
  ])('bad input %j / %s is a BAD_REQUEST with a clear message', async (range, split, message) => {
    const { caller } = await signedInCaller(env.deps, 'analyst');
    const err = (await caller.admin.usage.trend({ range, split } as never).catch((e: unknown) => e)) as TRPCError;
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toMatch(message);
  });
});

describe('[ANALYTICS] forecast', () => {
  it('a pool burning 10 a day over the last week with 100 left is empty in 10 days; the refill covers the month', async () => {
    const provider = await seedPool(env.deps, 100, { provider: uniqueId('fc').toLowerCase() });
    for (let i = 1; i <= 7; i++) {
      await db().execute(sql`insert into daily_usage_breakdown (day, dimension, value, requests, successful_requests, failed_requests, credits, cost_usd)
        values (${addDays(today(), -i)}::date, 'provider', ${provider}, 10, 10, 0, 10, 0.5)`);
    }
    const result = await forecast(db());
    const pool = result.pools.find((p) => p.provider === provider)!;
    const daysLeft = result.month.daysLeft;
    expect(pool).toMatchObject({ balance: 100, burnPerDay: 10, daysUntilEmpty: 10, emptyOn: addDays(today(), 10) });
    expect(pool.refillToCoverMonth).toBe(Math.max(0, 10 * (daysLeft + 1) - 100));
  });

  it('the month projects cost at the trailing daily rate against the revenue budget', async () => {
    const local = await createTestEnv();
    try {
      const ldb = local.deps.dbHandle.db;
      for (let i = 1; i <= 7; i++) {
        await ldb.execute(sql`insert into daily_usage_summary (day, total_requests, successful_requests, failed_requests, credits_consumed, allowance_credits,
          platform_credits, cost_usd, free_tier_usage, plus_tier_usage, pro_tier_usage, active_users)
          values (${addDays(today(), -i)}::date, 10, 10, 0, 10, 10, 0, 2.00, 0, 10, 0, 1)`);
      }
      await ldb.execute(sql`update platform_settings set monthly_revenue_usd = 1000, credit_budget_share_percent = 80`);
      const { month } = await forecast(ldb);
      const dayOfMonth = Number(today().slice(8, 10));
      const mtd = 2 * Math.min(7, dayOfMonth - 1);
      expect(month.monthToDateCostUsd).toBe(mtd.toFixed(2));
      expect(month.projectedCostUsd).toBe((mtd + 2 * month.daysLeft).toFixed(2));
      expect(month.budgetUsd).toBe('800.00');
      expect(month.projectedShareOfBudget).toBeCloseTo((mtd + 2 * month.daysLeft) / 800, 3);
    } finally {
      await local.close();
    }
  });
});

describe('[ANALYTICS] what-if', () => {
  it('replays the window under other allowances: overflow, refusals and the cost saved', async () => {
    const local = await createTestEnv();
    try {
      const ldb = local.deps.dbHandle.db;
      const provider = await seedPool(local.deps, 100, { costPerCredit: '0.10' });
      const userId = await newUser(ldb, 'plus');
      for (let i = 0; i < 12; i++) {
        const hold = await reserveCredits(ldb, { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() });
        await captureReservation(ldb, { reservationId: hold.reservationId, provider });
      }
      const base = { free: { monthlyCredits: 0, poolAccess: false }, pro: { monthlyCredits: 25, poolAccess: true } };
      const same = await whatIf(ldb, { days: 30, tiers: { ...base, plus: { monthlyCredits: 10, poolAccess: true } } });
      expect(same).toMatchObject({ requests: 12, actual: { allowance: 10, overflow: 2 }, scenario: { allowance: 10, overflow: 2, refused: 0 }, costDifferenceUsd: '0.000000' });
      const strict = await whatIf(ldb, { days: 30, tiers: { ...base, plus: { monthlyCredits: 8, poolAccess: false } } });
      expect(strict).toMatchObject({ scenario: { allowance: 8, overflow: 0, refused: 4 }, costDifferenceUsd: '-0.400000' });
      const generous = await whatIf(ldb, { days: 30, tiers: { ...base, plus: { monthlyCredits: 20, poolAccess: true } } });
      expect(generous.scenario).toEqual({ allowance: 12, overflow: 0, refused: 0 });
    } finally {
      await local.close();
    }
  });
});

describe('[ANALYTICS] smart reallocation', () => {
  it('suggests an upgrade to heavy users once, and moves idle allowances to the pool with both sides summing to zero', async () => {
    const local = await createTestEnv();
    try {
      const ldb = local.deps.dbHandle.db;
      const pool = await seedPool(local.deps, 50);
      await ldb.execute(sql`update platform_settings set reallocation_idle_days = 0, reallocation_pool = ${pool}`);
      const heavy = await newUser(ldb, 'pro');
      await grantCredits(ldb, cliActor, { userId: heavy, credits: 30, reason: 'seed' });
      for (let i = 0; i < 21; i++) await consumeCredits(ldb, { userId: heavy, credits: 1, enhancementType: 'color', idempotencyKey: key() });
      await ldb.execute(sql`update user_credits set subscription_tier = 'plus' where user_id = ${heavy}`);
      const idle = await newUser(ldb, 'plus');
      await ldb.execute(sql`update user_credits set last_reset_at = greatest(date_trunc('month', now(), 'UTC'), now() - interval '1 minute') where user_id = ${idle}`);

      const first = await optimizeAllocation(ldb);
      expect(first).toMatchObject({ upgradeSuggestions: 1, usersReallocated: 1, creditsReallocated: 10, pool });
      const notices = await ldb.select().from(userNotifications).where(eq(userNotifications.userId, heavy));
      expect(notices.map((n) => [n.type, n.title, n.action])).toEqual([['upgrade_suggestion', 'You are a power user', { kind: 'upgrade', tier: 'pro', label: 'Upgrade to pro' }]]);
      expect(notices[0]!.message).toMatch(/^You made 21 enhancements in the last \d+ days\. Upgrading gives you more monthly credits\.$/);
      const sides = await queryOne(
        ldb,
        z.object({ users: col.integer, pool: col.integer }),
        sql`select (select coalesce(sum(credits_delta), 0) from credit_transactions where transaction_type = 'reallocation')::text as users,
                   (select coalesce(sum(credits_delta), 0) from credit_pool_transactions where transaction_type = 'reallocation')::text as pool`,
      );
      expect(sides!.users + sides!.pool).toBe(0);
      expect(sides!.pool).toBe(10);

      const second = await optimizeAllocation(ldb);
      expect(second).toMatchObject({ upgradeSuggestions: 0, usersReallocated: 0, creditsReallocated: 0 });
      await expectLedgerClean(ldb);
      await expectPoolsClean(ldb);
    } finally {
      await local.close();
    }
  });
});
