import { TRPCError } from '@trpc/server';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../auth/tables';
import { countRow, queryOne } from '../db/rows';
import { apiKeyCaller, createTestEnv, signedInCaller, type TestEnv } from '../test/harness';
import { countEntries, expectLedgerClean, key, newUser, reasonOf, setAllowanceBalance } from '../test/ledger-helpers';
import { expectPoolsClean, seedPool } from '../test/pool-helpers';
import { consumeCredits } from './consume';
import { allocateMonthlyCredits } from './monthly-reset';
import { expireReservations, releaseReservation } from './release-reservation';
import { reserveCredits } from './reserve-credits';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
  await seedPool(env.deps, 100_000);
});
afterEach(async () => {
  await expectLedgerClean(env.deps.dbHandle.db);
  await expectPoolsClean(env.deps.dbHandle.db);
});
afterAll(() => env.close());

const db = () => env.deps.dbHandle.db;
const consume = (userId: string) => consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() });
const reserve = (userId: string) => reserveCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() });

async function overflowed(userId: string) {
  const row = await queryOne(db(), countRow, sql`select overflow_this_period as n from user_credits where user_id = ${userId}`);
  return row!.n;
}

/** A user of `tier` whose allowance is spent, so the next charge overflows. */
async function spentUser(tier: 'plus' | 'pro') {
  const userId = await newUser(db(), tier);
  await setAllowanceBalance(db(), userId, 0);
  return userId;
}

describe("[LEDGER] overflow stops at the tier's monthly cap", () => {
  it('a plus user overflows 20 credits a month, then is refused like free with OVERFLOW_LIMIT_REACHED and an upgrade message', async () => {
    const userId = await spentUser('plus');
    for (let i = 0; i < 20; i++) expect((await consume(userId)).source).toBe('platform_pool');
    const { caller } = await apiKeyCaller(env.deps, ['credits:write']);
    const err = (await caller.credits.consume({ userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() }).catch((e: unknown) => e)) as TRPCError;
    expect(err.code).toBe('PRECONDITION_FAILED');
    expect((err.cause as unknown as { reason: string }).reason).toBe('OVERFLOW_LIMIT_REACHED');
    expect(err.message).toContain('Upgrade to Pro');
    expect(await reasonOf(reserve(userId))).toBe('OVERFLOW_LIMIT_REACHED');
    expect(await overflowed(userId)).toBe(20);
    expect(await countEntries(db(), userId, 'consumption')).toBe(20);
    expect(await countEntries(db(), userId, 'hold')).toBe(0);
  });

  it('a pro user stops at 50 and is told when credits renew', async () => {
    const userId = await spentUser('pro');
    await Promise.all(Array.from({ length: 50 }, () => consume(userId)));
    const err = (await consume(userId).catch((e: unknown) => e)) as Error & { reason: string };
    expect(err.reason).toBe('OVERFLOW_LIMIT_REACHED');
    expect(err.message).toContain('renew');
  });

  it('100 concurrent overflows (consumes and holds) for one plus user: exactly 20 pass the cap', async () => {
    const userId = await spentUser('plus');
    const outcomes = await Promise.all(Array.from({ length: 100 }, (_, i) => reasonOf(i % 2 ? consume(userId) : reserve(userId))));
    expect(outcomes.filter((o) => o === 'OK')).toHaveLength(20);
    expect(outcomes.filter((o) => o === 'OVERFLOW_LIMIT_REACHED')).toHaveLength(80);
    expect(await overflowed(userId)).toBe(20);
    expect((await countEntries(db(), userId, 'consumption')) + (await countEntries(db(), userId, 'hold'))).toBe(20);
  });

  it('a released or expired overflow hold gives its overflow back', async () => {
    const userId = await spentUser('plus');
    for (let i = 0; i < 18; i++) await consume(userId);
    const released = await reserve(userId);
    const expiring = await reserve(userId);
    expect(await reasonOf(consume(userId))).toBe('OVERFLOW_LIMIT_REACHED');
    await releaseReservation(db(), { reservationId: released.reservationId, reason: 'provider failed' });
    await db().execute(sql`update credit_reservations set expires_at = now() - interval '1 second' where id = ${expiring.reservationId}`);
    await expireReservations(db());
    expect(await overflowed(userId)).toBe(18);
    expect(await reasonOf(consume(userId))).toBe('OK');
    expect(await reasonOf(consume(userId))).toBe('OK');
    expect(await reasonOf(consume(userId))).toBe('OVERFLOW_LIMIT_REACHED');
  });

  it('a replay of an overflow charged before the cap was reached returns the first result', async () => {
    const userId = await spentUser('plus');
    const k = key();
    const first = await consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: k });
    for (let i = 0; i < 19; i++) await consume(userId);
    expect(await consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: k })).toEqual(first);
    expect(await overflowed(userId)).toBe(20);
  });

  it('the monthly reset gives the overflow back with the allowance', async () => {
    const userId = await spentUser('plus');
    await Promise.all(Array.from({ length: 20 }, () => consume(userId)));
    const nextMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1, 0, 5));
    await allocateMonthlyCredits(db(), { at: nextMonth });
    expect(await overflowed(userId)).toBe(0);
  });

  it('an admin sets the cap in Settings (audited): empty is unlimited, 0 stops overflow at once', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const userId = await spentUser('plus');
    const tiers = await caller.admin.tiers.list();
    expect(tiers.find((t) => t.tier === 'plus')!.monthlyOverflowCap).toBe(20);
    expect(tiers.find((t) => t.tier === 'pro')!.monthlyOverflowCap).toBe(50);

    await caller.admin.tiers.update({ tier: 'plus', monthlyCredits: 10, poolAccess: true, monthlyOverflowCap: 0, reason: 'no overflow this quarter' });
    expect(await reasonOf(consume(userId))).toBe('OVERFLOW_LIMIT_REACHED');
    const unlimited = await caller.admin.tiers.update({ tier: 'plus', monthlyCredits: 10, poolAccess: true, monthlyOverflowCap: null, reason: 'unlimited' });
    expect(unlimited.monthlyOverflowCap).toBeNull();
    await Promise.all(Array.from({ length: 25 }, () => consume(userId)));
    expect(await overflowed(userId)).toBe(25);
    // Leaving the cap out keeps it as it is.
    expect((await caller.admin.tiers.update({ tier: 'plus', monthlyCredits: 10, poolAccess: true, reason: 'allowance only' })).monthlyOverflowCap).toBeNull();
    await caller.admin.tiers.update({ tier: 'plus', monthlyCredits: 10, poolAccess: true, monthlyOverflowCap: 20, reason: 'restore the default' });
    expect(await reasonOf(consume(userId))).toBe('OVERFLOW_LIMIT_REACHED');

    const [entry] = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'tier.update'), eq(auditLog.reason, 'unlimited')));
    expect(entry).toMatchObject({ before: { monthlyOverflowCap: 0 }, after: { monthlyOverflowCap: null } });
    expect(await reasonOf(caller.admin.tiers.update({ tier: 'plus', monthlyCredits: 10, poolAccess: true, monthlyOverflowCap: -1, reason: 'negative' }))).toBe('BAD_REQUEST');
  });
});
