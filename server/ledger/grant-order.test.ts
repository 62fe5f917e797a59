import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cliActor } from '../auth/audit';
import { col, queryOne, queryRows } from '../db/rows';
import { createTestEnv, type TestEnv } from '../test/harness';
import { balanceRow, expectLedgerClean, key, newUser } from '../test/ledger-helpers';
import { adjustCredits, grantCredits, refundTransaction } from './admin-ops';
import { expireGrants } from './grant-expiry';
import { getBalance } from './balance';
import { grantDrawsCol } from './grant-order-sql';
import { consumeCredits } from './consume';
import { checkLedger } from './reconcile';
import { captureReservation } from './capture-reservation';
import { releaseReservation } from './release-reservation';
import { reserveCredits } from './reserve-credits';
import { updateTier } from './tiers';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterEach(() => expectLedgerClean(env.deps.dbHandle.db));
afterAll(() => env.close());

const db = () => env.deps.dbHandle.db;
const days = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();

/** Grants `credits` at `priority`, optionally expiring, and answers the grant's id as the API shows it. */
async function grant(userId: string, credits: number, priority: number, opts: { expiresAt?: string; kind?: 'promotional' | 'paid'; reason?: string } = {}) {
  const { grantId } = await grantCredits(db(), cliActor, { userId, credits, priority, reason: opts.reason ?? `p${priority}`, ...opts });
  return String(grantId);
}

/** What is left of each source, by its reason (the allowance as `allowance`), in the order the balance lists them. */
async function pots(userId: string) {
  const balance = await getBalance(db(), userId);
  expect(balance.grants.reduce((sum, g) => sum + g.remaining, 0)).toBe(balance.currentBalance);
  return balance.grants.map((g) => [g.kind === 'allowance' ? 'allowance' : g.reason, g.remaining] as const);
}

/** The credits each `grant_expiry` entry of the user removed, oldest first. */
const expiries = async (userId: string) =>
  (await queryRows(db(), z.object({ credits_delta: col.integer }), sql`select credits_delta from credit_transactions where user_id = ${userId} and transaction_type = 'grant_expiry' order by id`)).map(
    (r) => r.credits_delta,
  );

const spend = (userId: string, credits: number) => consumeCredits(db(), { userId, credits, enhancementType: 'upscale', idempotencyKey: key() });

describe('[LEDGER] grants are spent by priority, then expiry, then oldest first', () => {
  it('[LEDGER] a charge takes the allowance and each grant in the stated order, and the balance lists them in that order', async () => {
    const userId = await newUser(db(), 'plus');
    await grant(userId, 2, 200, { reason: 'late-old' });
    await grant(userId, 2, 200, { reason: 'late-new' });
    await grant(userId, 2, 100, { kind: 'paid', reason: 'paid' });
    await grant(userId, 2, 20, { reason: 'p20-none' });
    await grant(userId, 2, 20, { expiresAt: days(5), reason: 'p20-5d' });
    await grant(userId, 2, 20, { expiresAt: days(2), reason: 'p20-2d' });
    await grant(userId, 2, 10, { reason: 'first' });
    expect(await pots(userId)).toEqual([
      ['first', 2],
      ['p20-2d', 2],
      ['p20-5d', 2],
      ['p20-none', 2],
      ['allowance', 10],
      ['paid', 2],
      ['late-old', 2],
      ['late-new', 2],
    ]);

    await spend(userId, 3);
    expect((await pots(userId)).slice(0, 2)).toEqual([
      ['p20-2d', 1],
      ['p20-5d', 2],
    ]);
    await spend(userId, 4);
    expect((await pots(userId)).slice(0, 2)).toEqual([
      ['p20-none', 1],
      ['allowance', 10],
    ]);
    // Split across a grant, the allowance and a paid grant in one charge.
    const split = await spend(userId, 12);
    expect(split).toMatchObject({ source: 'user_credits', creditsConsumed: 12, remainingBalance: 5 });
    expect(await pots(userId)).toEqual([
      ['allowance', 0],
      ['paid', 1],
      ['late-old', 2],
      ['late-new', 2],
    ]);
    const entry = await queryOne(
      db(),
      z.object({ grant_draws: grantDrawsCol, bonus_credits: col.integer }),
      sql`select grant_draws::text, bonus_credits from credit_transactions where id = ${Number(split.transactionId)}`,
    );
    expect(entry!.bonus_credits).toBe(2);
    expect(entry!.grant_draws.map(([, d]) => d)).toEqual([-1, -1]);
    expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 0, bonus: 5, consumed: 19 });
  });

  it('[LEDGER] a release and a refund give credits back to the grants they came from', async () => {
    const userId = await newUser(db(), 'free');
    await grant(userId, 2, 100, { kind: 'paid', reason: 'paid' });
    await grant(userId, 3, 200, { reason: 'last' });

    const hold = await reserveCredits(db(), { userId, credits: 3, enhancementType: 'upscale', idempotencyKey: key() });
    expect(await pots(userId)).toEqual([
      ['allowance', 0],
      ['last', 2],
    ]);
    await releaseReservation(db(), { reservationId: hold.reservationId, reason: 'provider failed' });
    expect(await pots(userId)).toEqual([
      ['allowance', 0],
      ['paid', 2],
      ['last', 3],
    ]);

    const held = await reserveCredits(db(), { userId, credits: 4, enhancementType: 'upscale', idempotencyKey: key() });
    const captured = await captureReservation(db(), { reservationId: held.reservationId });
    expect(await pots(userId)).toEqual([
      ['allowance', 0],
      ['last', 1],
    ]);
    await refundTransaction(db(), cliActor, { transactionId: captured.transactionId, reason: 'bad result' });
    expect(await pots(userId)).toEqual([
      ['allowance', 0],
      ['paid', 2],
      ['last', 3],
    ]);

    const used = await spend(userId, 3);
    await refundTransaction(db(), cliActor, { transactionId: used.transactionId, reason: 'bad result' });
    expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 0, bonus: 5, consumed: 0 });
    expect(await pots(userId)).toEqual([
      ['allowance', 0],
      ['paid', 2],
      ['last', 3],
    ]);
  });

  it('[LEDGER] a negative adjustment takes credits in the spending order too', async () => {
    const userId = await newUser(db(), 'plus');
    await grant(userId, 4, 10, { reason: 'first' });
    await adjustCredits(db(), cliActor, { userId, delta: -6, reason: 'correction' });
    expect(await pots(userId)).toEqual([['allowance', 8]]);
    expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 8, bonus: 0, consumed: 0 });
  });

  it('[LEDGER] expiry removes only what is left of a grant; credits released after it expired are removed by the next expiry', async () => {
    const userId = await newUser(db(), 'free');
    const id = await grant(userId, 5, 50, { expiresAt: days(1), reason: 'soon' });
    const hold = await reserveCredits(db(), { userId, credits: 3, enhancementType: 'upscale', idempotencyKey: key() });
    await db().execute(sql`update credit_grants set expires_at = now() - interval '1 second' where id = ${Number(id)}`);
    // An expired grant cannot be spent, even before the expiry job removes it.
    await expect(spend(userId, 1)).rejects.toMatchObject({ reason: 'INSUFFICIENT_CREDITS' });

    expect(await expireGrants(db())).toBeGreaterThanOrEqual(1);
    expect(await balanceRow(db(), userId)).toMatchObject({ bonus: 0 });
    expect(await expiries(userId)).toEqual([-2]);

    await releaseReservation(db(), { reservationId: hold.reservationId, reason: 'late' });
    expect(await balanceRow(db(), userId)).toMatchObject({ bonus: 3 });
    await expireGrants(db());
    expect(await balanceRow(db(), userId)).toMatchObject({ bonus: 0, total: 0 });
    expect(await expiries(userId)).toEqual([-2, -3]);
  });

  it('[LEDGER] the reconciliation names a grant whose remaining credits are not what its entries say', async () => {
    const userId = await newUser(db(), 'free');
    const id = await grant(userId, 4, 50);
    await db().execute(sql`update credit_grants set remaining = remaining + 1 where id = ${Number(id)}`);
    const check = await checkLedger(db());
    expect(check.ok).toBe(false);
    expect(check.grantOffenders).toEqual(
      expect.arrayContaining([
        { grantId: id, userId, held: 5, fromEntries: 4 },
        { grantId: null, userId, held: 4, fromEntries: 5 },
      ]),
    );
    await db().execute(sql`update credit_grants set remaining = remaining - 1 where id = ${Number(id)}`);
  });
});

describe('[LEDGER] allowance rollover', () => {
  /** The plus tier's rollover rule, set as Settings sets it. */
  const setRollover = (rolloverCap: number, rolloverMonths: number) =>
    updateTier(db(), cliActor, { tier: 'plus', monthlyCredits: 10, poolAccess: true, rolloverCap, rolloverMonths, reason: 'rollover rule under test' });

  afterEach(async () => {
    await setRollover(0, 1);
  });

  it("[LEDGER] at the month's turn the unused allowance, up to the tier's cap, becomes a rollover grant spent before the new allowance", async () => {
    expect(await setRollover(4, 1)).toMatchObject({ tier: 'plus', rolloverCap: 4, rolloverMonths: 1 });
    const userId = await newUser(db(), 'plus');
    await spend(userId, 3);
    await db().execute(sql`update user_credits set last_reset_at = date_trunc('month', now(), 'UTC') - interval '3 days' where user_id = ${userId}`);

    const balance = await getBalance(db(), userId);
    expect(balance.currentBalance).toBe(14);
    const rollover = balance.grants.find((g) => g.kind === 'rollover')!;
    const allowance = balance.grants.find((g) => g.kind === 'allowance')!;
    expect(rollover).toMatchObject({ credits: 4, remaining: 4 });
    // It lasts the tier's one month: it ends with the new allowance and, older, is spent first.
    expect(rollover.expiresAt).toBe(allowance.expiresAt);
    expect(balance.grants.map((g) => g.kind)).toEqual(['rollover', 'allowance']);
    const reset = await queryOne(
      db(),
      z.object({ credits_delta: col.integer }),
      sql`select credits_delta from credit_transactions where user_id = ${userId} and transaction_type = 'allocation' order by id desc limit 1`,
    );
    expect(reset!.credits_delta).toBe(10 - 7 + 4);

    await spend(userId, 5);
    expect((await getBalance(db(), userId)).grants.map((g) => [g.kind, g.remaining])).toEqual([['allowance', 9]]);
  });

  it('[LEDGER] a rollover lasting several months is spent after the allowance that expires before it', async () => {
    await setRollover(20, 3);
    const userId = await newUser(db(), 'plus');
    await db().execute(sql`update user_credits set last_reset_at = date_trunc('month', now(), 'UTC') - interval '3 days' where user_id = ${userId}`);
    const balance = await getBalance(db(), userId);
    expect(balance.grants.map((g) => [g.kind, g.remaining])).toEqual([
      ['allowance', 10],
      ['rollover', 10],
    ]);
    await spend(userId, 12);
    expect((await getBalance(db(), userId)).grants.map((g) => [g.kind, g.remaining])).toEqual([
      ['allowance', 0],
      ['rollover', 8],
    ]);
  });
});
