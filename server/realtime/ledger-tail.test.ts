import type { SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbOrTx } from '../db/client';
import { consumeCredits } from '../ledger/consume';
import { createTestEnv, type TestEnv } from '../test/harness';
import { expectLedgerClean, key, newUser, setAllowanceBalance } from '../test/ledger-helpers';
import { LedgerTail } from './ledger-tail';

let env: TestEnv;
const db = () => env.deps.dbHandle.db;

beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await env?.close();
});

/** The database, except that the query numbered `failAt` (counting from the next one) fails, as a dropped connection would. */
function flakyDb() {
  const state = { failAt: 0, count: 0 };
  const flaky = {
    execute: (query: SQL) => {
      state.count += 1;
      if (state.count === state.failAt) return Promise.reject(new Error('connection lost'));
      return db().execute(query);
    },
  } as unknown as DbOrTx;
  return {
    flaky,
    failAtQuery: (n: number) => {
      state.count = 0;
      state.failAt = n;
    },
  };
}

describe('[REALTIME] the ledger tail returns every committed row once', () => {
  it('a poll that fails part-way (the database lost between two batches) loses nothing: the next poll returns every row', async () => {
    const { flaky, failAtQuery } = flakyDb();
    const tail = new LedgerTail(flaky);
    expect(await tail.poll()).toEqual([]);
    const users = await Promise.all(Array.from({ length: 4 }, () => newUser(db(), 'pro')));
    for (const u of users) await setAllowanceBalance(db(), u, 1_000);
    // More than one batch of the tail's (500 rows).
    await Promise.all(
      users.map(async (userId) => {
        for (let i = 0; i < 160; i++) await consumeCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() });
      }),
    );
    // The first batch is read, the second fails.
    failAtQuery(2);
    await expect(tail.poll()).rejects.toThrow('connection lost');
    failAtQuery(0);
    const rows = await tail.poll();
    const ours = rows.filter((r) => users.includes(r.userId) && r.type === 'consumption');
    expect(ours).toHaveLength(640);
    expect(new Set(rows.map((r) => r.transactionId)).size).toBe(rows.length);
    expect(await tail.poll()).toEqual([]);
    await expectLedgerClean(db());
  });
});
