import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { col, queryOne, queryRows } from '../db/rows';
import type { DbOrTx } from '../db/client';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { expectPoolsClean, seedPool } from '../test/pool-helpers';
import { drawFromPool, poolTotal } from './draw';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await expectPoolsClean(env.deps.dbHandle.db);
});
afterAll(() => env.close());

const db = () => env.deps.dbHandle.db;

const stripeCountOf = async (provider: string) => (await queryOne(db(), z.object({ n: col.integer }), sql`select stripe_count as n from credit_pools where provider = ${provider}`))!.n;

/** The draw's start is `Math.random() * 4096` modulo the stripe count: this pins it to `stripe`. */
const startAt = (stripe: number) => vi.spyOn(Math, 'random').mockReturnValue((stripe + 0.5) / 4096);

/** The two ways a draw runs: alone (one statement that commits by itself), and in a caller's transaction (the function). */
const ways: [string, (provider: string) => ReturnType<typeof drawFromPool>][] = [
  ['alone', (provider) => drawFromPool(db(), provider, 1)],
  ['in a transaction', (provider) => db().transaction((tx) => drawFromPool(tx, provider, 1))],
];

describe('[POOLS] a free-stripe draw takes the first funded stripe from its start, in stripe order, then wraps', () => {
  for (const [way, draw] of ways) {
    it(`${way}: a start at a funded stripe takes that stripe, and the pool ledger records it`, async () => {
      const provider = await seedPool(env.deps, 1000);
      const stripes = await stripeCountOf(provider);
      startAt(stripes - 1);
      const drawn = await draw(provider);
      expect(drawn).toMatchObject({ stripe: stripes - 1, costUsd: '0.039000', emergency: false });
      const entries = await queryRows(
        db(),
        z.object({ stripe: col.integer, delta: col.integer }),
        sql`select stripe, credits_delta as delta from credit_pool_transactions where provider = ${provider} and transaction_type = 'consumption'`,
      );
      expect(entries).toEqual([{ stripe: stripes - 1, delta: -1 }]);
    });

    it(`${way}: a start past the last funded stripe wraps to the stripes before it`, async () => {
      // One credit lands on stripe 0 alone.
      const provider = await seedPool(env.deps, 1);
      startAt((await stripeCountOf(provider)) - 1);
      expect(await draw(provider)).toMatchObject({ stripe: 0 });
      expect(await draw(provider)).toBeNull();
    });
  }

  it('alone, the common draw is one statement', async () => {
    const provider = await seedPool(env.deps, 1000);
    const spy = vi.spyOn(db(), 'execute');
    expect(await drawFromPool(db(), provider, 1)).not.toBeNull();
    expect(spy.mock.calls).toHaveLength(1);
  });

  it('a suspended pool gives no start: nothing is drawn and no stripe is left locked in the caller’s transaction', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const provider = await seedPool(env.deps, 1000);
    await caller.admin.pools.suspend({ provider, reason: 'provider outage' });
    expect(await drawFromPool(db(), provider, 1)).toBeNull();
    await db().transaction(async (tx: DbOrTx) => {
      expect(await drawFromPool(tx, provider, 1)).toBeNull();
      // Another connection can lock every stripe at once while the transaction is still open.
      const locked = await queryRows(db(), z.object({ stripe: col.integer }), sql`select stripe from credit_pool_stripes where provider = ${provider} for update nowait`);
      expect(locked.length).toBe((await stripeCountOf(provider)) + 1);
    });
  });
});

describe('[POOLS] a draw whose follow-up fails', () => {
  it('alone, a free-stripe draw that committed by itself is given back when its refill request then fails, and the error is thrown', async () => {
    // At its threshold after the draw, the pool asks for a refill; the request's insert is made to fail.
    const provider = await seedPool(env.deps, 10, { autoRefillThreshold: 50, autoRefillAmount: 100 });
    const fn = `refuse_${uniqueId('refill').replace(/\W/g, '_')}`;
    await db().execute(
      sql.raw(`create function ${fn}() returns trigger language plpgsql as $$ begin
                 if new.provider = '${provider}' then raise exception 'refill requests are refused in this test'; end if; return new; end $$`),
    );
    await db().execute(sql.raw(`create trigger ${fn} before insert on credit_purchase_requests for each row execute function ${fn}()`));
    try {
      await expect(drawFromPool(db(), provider, 1, { reservationId: null })).rejects.toThrow(/insert into credit_purchase_requests/);
      // Nobody got the credit (the caller saw an error, so it will call no provider and refund nothing): it is the pool's again.
      expect(await poolTotal(db(), provider)).toBe(10);
    } finally {
      await db().execute(sql.raw(`drop trigger ${fn} on credit_purchase_requests; drop function ${fn}()`));
    }
  });
});
