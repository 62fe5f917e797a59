import { and, eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Db } from '../db/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { countRow, queryOne } from '../db/rows';
import { creditReservations } from '../ledger/tables';
import { poolTotal } from '../pools/draw';
import { creditPoolTransactions } from '../pools/tables';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { expectLedgerClean, key, newUser, reasonOf, setAllowanceBalance } from '../test/ledger-helpers';
import { expectPoolsClean, seedPool } from '../test/pool-helpers';
import { claimEnhancement } from './enhancement-claims';
import { openEnhancement } from './open-enhancement';
import { enhancementRequests } from './tables';

/**
 * [LEDGER] An enhancement's opening statement holds the credit, attaches the hold to the claim and
 * draws the first provider's pool in one round trip; whatever it cannot do in one is done the usual
 * way, and nothing is drawn for a hold that was not made.
 */

let env: TestEnv;
let pool: string;

beforeAll(async () => {
  env = await createTestEnv();
  pool = await seedPool(env.deps, 1_000);
});
afterEach(async () => {
  await expectLedgerClean(db());
  await expectPoolsClean(db());
});
afterAll(async () => {
  await env?.close();
});

const db = () => env.deps.dbHandle.db;

async function claimFor(userId: string) {
  const idempotencyKey = key();
  const claim = await claimEnhancement(db(), idempotencyKey, 'f'.repeat(32), userId, { waitMs: 0, staleAfterMs: 60_000 });
  if (claim.kind !== 'claimed') throw new Error('expected a fresh claim');
  const request = { userId, credits: 1, enhancementType: 'upscale' as const, idempotencyKey: `enhance:${idempotencyKey}:${claim.id}`, ttlSeconds: 60, claimId: claim.id };
  return { claimId: claim.id, request };
}

const attachedTo = async (claimId: number) => (await db().select().from(enhancementRequests).where(eq(enhancementRequests.id, claimId)))[0]!.reservationId;
const drawsFor = async (provider: string, reservationId: string) =>
  (
    await db()
      .select()
      .from(creditPoolTransactions)
      .where(and(eq(creditPoolTransactions.provider, provider), eq(creditPoolTransactions.reservationId, reservationId)))
  ).map((t) => ({
    type: t.transactionType,
    credits: t.creditsDelta,
  }));
const holdStatus = async (id: string) => (await db().select().from(creditReservations).where(eq(creditReservations.id, id)))[0]!.status;

describe('[LEDGER] the opening statement', () => {
  it('holds from the allowance, attaches the hold to the claim and draws the first provider, its pool entry naming the hold', async () => {
    const userId = await newUser(db(), 'plus');
    const { claimId, request } = await claimFor(userId);
    const before = await poolTotal(db(), pool);
    const { hold, drawn } = await openEnhancement(db(), request, pool);
    expect(hold.source).toBe('user_credits');
    expect(drawn).toMatchObject({ provider: pool, credits: 1, costUsd: '0.039000', emergency: false });
    expect(await attachedTo(claimId)).toBe(hold.reservationId);
    expect(await drawsFor(pool, hold.reservationId)).toEqual([{ type: 'consumption', credits: -1 }]);
    expect(await poolTotal(db(), pool)).toBe(before - 1);
    expect(await holdStatus(hold.reservationId)).toBe('pending');
  });

  it('is one statement, one round trip: the hold, the attach and the draw', async () => {
    const client = postgres(env.databaseUrl, { max: 1, onnotice: () => {} });
    const sent: string[] = [];
    const counted = drizzle({ client, logger: { logQuery: (query) => void sent.push(query) } }) as unknown as Db;
    try {
      const userId = await newUser(db(), 'plus');
      const { claimId, request } = await claimFor(userId);
      const { hold, drawn } = await openEnhancement(counted, request, pool);
      expect(sent).toHaveLength(1);
      expect(drawn?.provider).toBe(pool);
      expect(await attachedTo(claimId)).toBe(hold.reservationId);
    } finally {
      await client.end();
    }
  });

  it('holds an overflow to the platform for a pro user past the allowance, and draws as well', async () => {
    const userId = await newUser(db(), 'pro');
    await setAllowanceBalance(db(), userId, 0);
    const { claimId, request } = await claimFor(userId);
    const { hold, drawn } = await openEnhancement(db(), request, pool);
    expect(hold.source).toBe('platform_pool');
    expect(drawn?.provider).toBe(pool);
    expect(await attachedTo(claimId)).toBe(hold.reservationId);
    expect(await drawsFor(pool, hold.reservationId)).toEqual([{ type: 'consumption', credits: -1 }]);
  });

  it('a refused hold (a free user with nothing left) draws nothing and attaches nothing', async () => {
    const userId = await newUser(db(), 'free');
    const { claimId, request } = await claimFor(userId);
    const before = await poolTotal(db(), pool);
    expect(await reasonOf(openEnhancement(db(), request, pool))).toBe('INSUFFICIENT_CREDITS');
    expect(await poolTotal(db(), pool)).toBe(before);
    expect(await attachedTo(claimId)).toBeNull();
  });

  it('a replayed key answers the first hold and draws nothing more', async () => {
    const userId = await newUser(db(), 'plus');
    const { request } = await claimFor(userId);
    const first = await openEnhancement(db(), request, pool);
    const before = await poolTotal(db(), pool);
    const again = await openEnhancement(db(), request, pool);
    expect(again.hold.reservationId).toBe(first.hold.reservationId);
    expect(again.drawn).toBeNull();
    expect(await poolTotal(db(), pool)).toBe(before);
    expect(await drawsFor(pool, first.hold.reservationId)).toEqual([{ type: 'consumption', credits: -1 }]);
  });

  it('a pool that cannot be drawn in the statement (suspended) leaves the hold made and attached, and drawn null for the attempt to draw', async () => {
    const suspended = await seedPool(env.deps, 100);
    await db().execute(sql`update credit_pools set status = 'suspended' where provider = ${suspended}`);
    const userId = await newUser(db(), 'plus');
    const { claimId, request } = await claimFor(userId);
    const { hold, drawn } = await openEnhancement(db(), request, suspended);
    expect(drawn).toBeNull();
    expect(await attachedTo(claimId)).toBe(hold.reservationId);
    expect(await drawsFor(suspended, hold.reservationId)).toEqual([]);
    expect(await poolTotal(db(), suspended)).toBe(100);
  });

  it('without a provider to draw it holds and attaches only', async () => {
    const userId = await newUser(db(), 'plus');
    const { claimId, request } = await claimFor(userId);
    const { hold, drawn } = await openEnhancement(db(), request, null);
    expect(drawn).toBeNull();
    expect(await attachedTo(claimId)).toBe(hold.reservationId);
    expect(await drawsFor(pool, hold.reservationId)).toEqual([]);
  });

  /**
   * Opens an enhancement on a pool at its threshold after the draw, whose refill request (the
   * opening's follow-up) a trigger refuses with `errcode`, and checks the opening throws with its
   * draw given back to the pool and its hold released.
   */
  async function expectRefusedRefillUndone(errcode: string) {
    const low = await seedPool(env.deps, 10, { autoRefillThreshold: 50, autoRefillAmount: 100 });
    const fn = `refuse_${uniqueId('refill').replace(/\W/g, '_')}`;
    await db().execute(
      sql.raw(`create function ${fn}() returns trigger language plpgsql as $$ begin
                 if new.provider = '${low}' then raise exception 'refill requests are refused in this test' using errcode = '${errcode}'; end if;
                 return new; end $$`),
    );
    await db().execute(sql.raw(`create trigger ${fn} before insert on credit_purchase_requests for each row execute function ${fn}()`));
    try {
      const userId = await newUser(db(), 'plus');
      const { claimId, request } = await claimFor(userId);
      await expect(openEnhancement(db(), request, low)).rejects.toMatchObject({ cause: { message: 'refill requests are refused in this test' } });
      expect(await poolTotal(db(), low)).toBe(10);
      const reservationId = (await attachedTo(claimId))!;
      expect(await holdStatus(reservationId)).toBe('released');
      expect(await drawsFor(low, reservationId)).toEqual([
        { type: 'consumption', credits: -1 },
        { type: 'refund', credits: 1 },
      ]);
      const refills = await queryOne(db(), countRow, sql`select count(*)::int as n from credit_purchase_requests where provider = ${low}`);
      expect(refills!.n).toBe(0);
    } finally {
      await db().execute(sql.raw(`drop trigger ${fn} on credit_purchase_requests; drop function ${fn}()`));
    }
  }

  it('an opening whose refill request fails gives the draw back to the pool and the hold back to the user, and throws', async () => {
    await expectRefusedRefillUndone('P0001');
  });

  it("a unique violation in an opening's follow-up is thrown, not taken for a replayed key (which would answer the released hold)", async () => {
    await expectRefusedRefillUndone('23505');
  });
});
