import { eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../test/harness';
import { balanceRow, countEntries, expectLedgerClean, key, newUser, reasonOf, setAllowanceBalance } from '../test/ledger-helpers';
import { seedPool } from '../test/pool-helpers';
import { countRow, queryOne } from '../db/rows';
import { poolTotal } from '../pools/draw';
import { captureReservation } from './capture-reservation';
import { expireReservations, releaseReservation } from './release-reservation';
import { reserveCredits } from './reserve-credits';
import { creditReservations } from './tables';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterEach(() => expectLedgerClean(env.deps.dbHandle.db));
afterAll(() => env.close());

const db = () => env.deps.dbHandle.db;
const reserve = (userId: string, idempotencyKey = key(), ttlSeconds?: number) => reserveCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey, ttlSeconds });

async function backdate(reservationId: string) {
  await db()
    .update(creditReservations)
    .set({ expiresAt: sql`now() - interval '1 second'` })
    .where(eq(creditReservations.id, reservationId));
}

describe('[LEDGER] holds', () => {
  it('reserve takes the credit at once; capture settles it into a completed transaction', async () => {
    const userId = await newUser(db(), 'plus');
    const hold = await reserve(userId);
    expect(hold.source).toBe('user_credits');
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9 });
    const done = await captureReservation(db(), { reservationId: hold.reservationId, costUsd: '0.039', apiRequestId: 'req-1' });
    expect(done).toMatchObject({ type: 'capture', status: 'completed', costUsd: '0.039000', creditsUsed: 1, balanceAfter: 9 });
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9 });
    const [r] = await db().select().from(creditReservations).where(eq(creditReservations.id, hold.reservationId));
    expect(r!.status).toBe('captured');
  });

  it('a retried capture returns the same transaction and charges nothing more', async () => {
    const userId = await newUser(db(), 'plus');
    const hold = await reserve(userId);
    const results = await Promise.all(Array.from({ length: 20 }, () => captureReservation(db(), { reservationId: hold.reservationId })));
    expect(new Set(results.map((r) => r.transactionId)).size).toBe(1);
    expect(await countEntries(db(), userId, 'capture')).toBe(1);
  });

  it('reserve then release returns the credit with a refund entry', async () => {
    const userId = await newUser(db(), 'plus');
    const hold = await reserve(userId);
    const released = await releaseReservation(db(), { reservationId: hold.reservationId, reason: 'provider failed' });
    expect(released).toMatchObject({ status: 'released', releaseReason: 'provider failed' });
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 10, consumed: 0 });
    expect(await countEntries(db(), userId, 'release')).toBe(1);
    expect(await reasonOf(releaseReservation(db(), { reservationId: hold.reservationId }))).toBe('RESERVATION_NOT_PENDING');
    expect(await reasonOf(captureReservation(db(), { reservationId: hold.reservationId }))).toBe('RESERVATION_NOT_PENDING');
  });

  it('concurrent release and capture of one hold settle it exactly once', async () => {
    const userId = await newUser(db(), 'plus');
    const hold = await reserve(userId);
    const outcomes = await Promise.all([
      ...Array.from({ length: 10 }, () => reasonOf(releaseReservation(db(), { reservationId: hold.reservationId }))),
      ...Array.from({ length: 10 }, () => reasonOf(captureReservation(db(), { reservationId: hold.reservationId }))),
    ]);
    const released = await countEntries(db(), userId, 'release');
    const captured = await countEntries(db(), userId, 'capture');
    expect(released + captured).toBe(1);
    expect(outcomes.filter((o) => o === 'OK').length).toBeGreaterThanOrEqual(1);
  });

  it('a hold past its expiry cannot be captured and is released by expireReservations()', async () => {
    const userId = await newUser(db(), 'plus');
    const hold = await reserve(userId);
    await backdate(hold.reservationId);
    expect(await reasonOf(captureReservation(db(), { reservationId: hold.reservationId }))).toBe('RESERVATION_EXPIRED');
    expect(await expireReservations(db())).toBeGreaterThanOrEqual(1);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 10 });
    const [r] = await db().select().from(creditReservations).where(eq(creditReservations.id, hold.reservationId));
    expect(r!.status).toBe('expired');
    expect(await reasonOf(captureReservation(db(), { reservationId: hold.reservationId }))).toBe('RESERVATION_EXPIRED');
    expect(await expireReservations(db())).toBe(0);
    expect(await countEntries(db(), userId, 'release')).toBe(1);
  });

  it('two expiry runs at once release each hold once', async () => {
    await seedPool(env.deps, 100);
    const userId = await newUser(db(), 'pro');
    const holds = await Promise.all(Array.from({ length: 30 }, () => reserve(userId)));
    for (const h of holds) await backdate(h.reservationId);
    const [a, b] = await Promise.all([expireReservations(db(), 7), expireReservations(db(), 7)]);
    expect(a + b).toBe(30);
    expect(await countEntries(db(), userId, 'release')).toBe(30);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 25 });
  });

  it('50 concurrent replays of a reserve key make one hold', async () => {
    const userId = await newUser(db(), 'plus');
    const k = key();
    const results = await Promise.all(Array.from({ length: 50 }, () => reserve(userId, k)));
    expect(new Set(results.map((r) => r.reservationId)).size).toBe(1);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9 });
    expect(await reasonOf(reserveCredits(db(), { userId, credits: 2, enhancementType: 'upscale', idempotencyKey: k }))).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('a hold on the platform pool releases without touching the user balance', async () => {
    const userId = await newUser(db(), 'free');
    expect(await reasonOf(reserve(userId))).toBe('INSUFFICIENT_CREDITS');
    await seedPool(env.deps, 100);
    const pro = await newUser(db(), 'pro');
    await setAllowanceBalance(db(), pro, 0);
    const hold = await reserve(pro);
    expect(hold.source).toBe('platform_pool');
    await releaseReservation(db(), { reservationId: hold.reservationId });
    expect(await balanceRow(db(), pro)).toMatchObject({ total: 0 });
  });

  it('50 concurrent replays of an overflow hold key (one statement each) make one hold and one overflow', async () => {
    await seedPool(env.deps, 100);
    const pro = await newUser(db(), 'pro');
    await setAllowanceBalance(db(), pro, 0);
    const k = key();
    const results = await Promise.all(Array.from({ length: 50 }, () => reserve(pro, k)));
    expect(new Set(results.map((r) => r.reservationId)).size).toBe(1);
    expect(results.every((r) => r.source === 'platform_pool')).toBe(true);
    expect(await countEntries(db(), pro, 'hold')).toBe(1);
    expect(await queryOne(db(), countRow, sql`select overflow_this_period::int as n from user_credits where user_id = ${pro}`)).toEqual({ n: 1 });
  });

  it('a capture with its provider leg drawn already records that cost and draws nothing more', async () => {
    const provider = await seedPool(env.deps, 10);
    const userId = await newUser(db(), 'plus');
    const hold = await reserve(userId);
    const done = await captureReservation(db(), { reservationId: hold.reservationId, provider }, { drawn: { costUsd: '0.5' } });
    expect(done).toMatchObject({ type: 'capture', provider, costUsd: '0.500000', balanceAfter: 9, reservationId: hold.reservationId });
    expect(await poolTotal(db(), provider)).toBe(10);
    const [r] = await db().select().from(creditReservations).where(eq(creditReservations.id, hold.reservationId));
    expect(r).toMatchObject({ status: 'captured', costUsd: '0.500000', captureTransactionId: Number(done.transactionId) });
  });

  it('an unknown reservation is UNKNOWN_RESERVATION', async () => {
    expect(await reasonOf(captureReservation(db(), { reservationId: '00000000-0000-4000-8000-000000000000' }))).toBe('UNKNOWN_RESERVATION');
  });
});
