import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { optimizeAllocation } from '../analytics/reallocation';
import { col, queryOne, queryRows } from '../db/rows';
import { expireGrants } from '../ledger/grant-expiry';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { expectLedgerClean } from '../test/ledger-helpers';
import { expectPoolsClean, seedPool } from '../test/pool-helpers';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await expectLedgerClean(env.deps.dbHandle.db);
  await expectPoolsClean(env.deps.dbHandle.db);
  await env.close();
});

const db = () => env.deps.dbHandle.db;

/** `n` users named `<prefix>-<i>`, each with a ledger entry for the balance they start with. */
async function seedUsers(prefix: string, n: number, balances: { allowance: string; bonus: string; lastReset: string }) {
  await db().execute(sql`insert into users (user_id, tier) select ${prefix} || '-' || i, 'plus' from generate_series(1, ${n}) i`);
  await db().execute(
    sql.raw(`
    insert into user_credits (user_id, subscription_tier, monthly_allowance, current_balance, allowance_spent_this_period, bonus_balance, last_reset_at)
    select '${prefix}-' || i, 'plus', 10, ${balances.allowance}, 10 - (${balances.allowance}), ${balances.bonus}, ${balances.lastReset} from generate_series(1, ${n}) i`),
  );
  await db().execute(sql`
    insert into credit_transactions (user_id, transaction_type, credits_used, credits_delta, bonus_credits, balance_after, source, reason)
    select user_id, 'grant', current_balance + bonus_balance, current_balance + bonus_balance, bonus_balance, current_balance + bonus_balance, 'user_credits', 'test seed'
    from user_credits where starts_with(user_id, ${prefix + '-'})`);
}

describe('[JOBS] expireGrants and the reallocation run in bounded batches, each its own transaction', () => {
  it('expireGrants: 2,400 due grants of 1,200 users expire fully over three batches of at most 1,000, the ledger balanced', async () => {
    const prefix = uniqueId('exp');
    // Users 3, 6, 9…: grants of 3 and 4 with 2 of the 4 already spent, a bonus of 5 (the second
    // grant's expiry removes only the 2 left); the others hold both grants whole, a bonus of 7.
    await seedUsers(prefix, 1200, { allowance: '0', bonus: 'case when i % 3 = 0 then 5 else 7 end', lastReset: 'now()' });
    await db().execute(sql`
      insert into credit_grants (user_id, credits, remaining, opening_credits, expires_at, transaction_id)
      select t.user_id, g.credits, g.left_of, g.left_of, now() - interval '1 second', t.id
      from credit_transactions t
      cross join lateral (values (3, 3), (4, case when t.bonus_credits = 5 then 2 else 4 end)) g(credits, left_of)
      where starts_with(t.user_id, ${prefix + '-'}) and t.transaction_type = 'grant'
      order by t.user_id, g.credits`);

    expect(await expireGrants(db())).toBe(2400);

    const grants = await queryRows(
      db(),
      z.object({ expired_at: col.text, n: col.integer }),
      sql`select expired_at::text, count(*)::int as n from credit_grants where starts_with(user_id, ${prefix + '-'}) group by 1 order by 2 desc`,
    );
    // One now() per transaction: the batches are told apart by when they marked their grants.
    expect(grants.map((g) => g.n)).toEqual([1000, 1000, 400]);
    const left = await queryOne(
      db(),
      z.object({ bonus: col.text, entries: col.integer, removed: col.text, small: col.text }),
      sql`select (select sum(bonus_balance) from user_credits where starts_with(user_id, ${prefix + '-'}))::text as bonus,
                 count(*)::int as entries, (-sum(credits_delta))::text as removed,
                 sum(case when credits_used = 2 then 1 else 0 end)::text as small
          from credit_transactions where starts_with(user_id, ${prefix + '-'}) and transaction_type = 'grant_expiry'`,
    );
    expect(left).toEqual({ bonus: '0', entries: 2400, removed: String(800 * 7 + 400 * 5), small: '400' });
    expect(await expireGrants(db())).toBe(0);
    await expectLedgerClean(db());
  });

  it('reallocation: 2,500 idle allowances move to the pool over three batches, both sides summing to zero', async () => {
    const prefix = uniqueId('idle');
    const pool = await seedPool(env.deps, 0);
    await db().execute(sql`update platform_settings set reallocation_idle_days = 0, reallocation_pool = ${pool}`);
    await seedUsers(prefix, 2500, { allowance: '10', bonus: '0', lastReset: `greatest(date_trunc('month', now(), 'UTC'), now() - interval '1 minute')` });

    const first = await optimizeAllocation(db());
    expect(first).toMatchObject({ usersReallocated: 2500, creditsReallocated: 25_000, pool });

    const batches = await queryRows(
      db(),
      z.object({ reason: col.text, credits: col.text }),
      sql`select reason, sum(credits_delta)::text as credits from credit_pool_transactions
          where provider = ${pool} and transaction_type = 'reallocation' group by reason, created_at order by sum(credits_delta) desc`,
    );
    expect(batches).toEqual([
      { reason: 'unused allowance of 1000 users', credits: '10000' },
      { reason: 'unused allowance of 1000 users', credits: '10000' },
      { reason: 'unused allowance of 500 users', credits: '5000' },
    ]);
    const sides = await queryOne(
      db(),
      z.object({ users: col.text, balances: col.text }),
      sql`select coalesce(sum(credits_delta), 0)::text as users,
                 (select sum(current_balance) from user_credits where starts_with(user_id, ${prefix + '-'}))::text as balances
          from credit_transactions where starts_with(user_id, ${prefix + '-'}) and transaction_type = 'reallocation'`,
    );
    expect(sides).toEqual({ users: '-25000', balances: '0' });

    expect(await optimizeAllocation(db())).toMatchObject({ usersReallocated: 0, creditsReallocated: 0 });
    await expectLedgerClean(db());
    await expectPoolsClean(db());
  });
});
