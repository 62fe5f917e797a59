import { randomUUID } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import { eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../auth/audit';
import { apiKeyCaller, createTestEnv, type TestEnv } from '../test/harness';
import { balanceRow, countEntries, expectLedgerClean, key, newUser, reasonOf, setAllowanceBalance } from '../test/ledger-helpers';
import { seedPool } from '../test/pool-helpers';
import { grantCredits } from './admin-ops';
import { consumeCredits } from './consume';
import { INSUFFICIENT_MESSAGE } from './errors';
import { creditTransactions } from './tables';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterEach(() => expectLedgerClean(env.deps.dbHandle.db));
afterAll(() => env.close());

const db = () => env.deps.dbHandle.db;
const consume = (userId: string, idempotencyKey = key(), credits = 1) => consumeCredits(db(), { userId, credits, enhancementType: 'lighting', idempotencyKey });

describe('[LEDGER] credits.consume', () => {
  it('charges the allowance first and records the entry with the balance after', async () => {
    const userId = await newUser(db(), 'plus');
    const result = await consume(userId);
    expect(result).toMatchObject({ source: 'user_credits', creditsConsumed: 1, remainingBalance: 9, costUsd: '0.000000' });
    expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 9, consumed: 1 });
    const [entry] = await db()
      .select()
      .from(creditTransactions)
      .where(eq(creditTransactions.id, Number(result.transactionId)));
    expect(entry).toMatchObject({ transactionType: 'consumption', creditsDelta: -1, balanceAfter: 9, source: 'user_credits' });
  });

  it('200 concurrent consumes for a free user holding 10 granted credits: exactly 10 succeed, never negative', async () => {
    const userId = await newUser(db(), 'free');
    await grantCredits(db(), cliActor, { userId, credits: 10, reason: 'test grant' });
    const outcomes = await Promise.all(Array.from({ length: 200 }, () => reasonOf(consume(userId))));
    expect(outcomes.filter((o) => o === 'OK')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'INSUFFICIENT_CREDITS')).toHaveLength(190);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 0, allowance: 0, bonus: 0 });
    expect(await countEntries(db(), userId, 'consumption')).toBe(10);
  });

  it('100 concurrent replays of one idempotency key charge once and all return the first result', async () => {
    const userId = await newUser(db(), 'pro');
    const k = key();
    const results = await Promise.all(Array.from({ length: 100 }, () => consume(userId, k)));
    expect(new Set(results.map((r) => r.transactionId)).size).toBe(1);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 24 });
    expect(await countEntries(db(), userId, 'consumption')).toBe(1);
  });

  it('a replay after the balance ran out still returns the first result', async () => {
    const userId = await newUser(db(), 'free');
    await grantCredits(db(), cliActor, { userId, credits: 1, reason: 'test grant' });
    const k = key();
    const first = await consume(userId, k);
    expect(await consume(userId, k)).toEqual(first);
    expect(await reasonOf(consume(userId))).toBe('INSUFFICIENT_CREDITS');
  });

  it('the same key with a different input is an IDEMPOTENCY_CONFLICT and charges nothing', async () => {
    const userId = await newUser(db(), 'pro');
    const k = key();
    await consume(userId, k, 1);
    expect(await reasonOf(consume(userId, k, 2))).toBe('IDEMPOTENCY_CONFLICT');
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 24 });
  });

  it('a free user is refused with the upgrade message', async () => {
    const userId = await newUser(db(), 'free');
    const err = await consume(userId).catch((e: Error) => e);
    expect(err).toMatchObject({ reason: 'INSUFFICIENT_CREDITS', message: INSUFFICIENT_MESSAGE });
    expect(await countEntries(db(), userId, 'consumption')).toBe(0);
  });

  it('a pro user past the allowance overflows to the platform pool and pays nothing', async () => {
    await seedPool(env.deps, 100);
    const userId = await newUser(db(), 'pro');
    await setAllowanceBalance(db(), userId, 1);
    expect((await consume(userId)).source).toBe('user_credits');
    const over = await consume(userId);
    expect(over).toMatchObject({ source: 'platform_pool', remainingBalance: 0 });
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 0, consumed: 2 });
  });

  it('bonus credits are spent only after the allowance', async () => {
    const userId = await newUser(db(), 'plus');
    await setAllowanceBalance(db(), userId, 1);
    await grantCredits(db(), cliActor, { userId, credits: 2, reason: 'test grant' });
    await consume(userId);
    expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 0, bonus: 2 });
    await consume(userId);
    expect(await balanceRow(db(), userId)).toMatchObject({ allowance: 0, bonus: 1 });
  });

  it('an unknown user is refused with UNKNOWN_USER and nothing is written', async () => {
    expect(await reasonOf(consume('nobody-here'))).toBe('UNKNOWN_USER');
    expect(await db().select().from(creditTransactions).where(eq(creditTransactions.userId, 'nobody-here'))).toHaveLength(0);
  });
});

describe('[LEDGER] an idempotency key belongs to the API key that first used it (ADR 029)', () => {
  const consumeAs = (apiKeyId: string | undefined, userId: string, idempotencyKey: string) => consumeCredits(db(), { userId, credits: 1, enhancementType: 'lighting', idempotencyKey, apiKeyId });

  it('two keys racing on one idempotency key: one charge, the winner replays its result, the other is refused', async () => {
    const userId = await newUser(db(), 'pro');
    const [a, b] = [randomUUID(), randomUUID()];
    const k = key();
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const apiKeyId = i % 2 ? a : b;
        return consumeAs(apiKeyId, userId, k).then(
          (r) => ({ apiKeyId, id: r.transactionId }),
          (e: { reason?: string }) => ({ apiKeyId, id: e.reason ?? 'THREW' }),
        );
      }),
    );
    const charged = outcomes.filter((o) => o.id !== 'IDEMPOTENCY_CONFLICT');
    expect(new Set(charged.map((o) => o.apiKeyId)).size).toBe(1);
    expect(new Set(charged.map((o) => o.id)).size).toBe(1);
    expect(charged).toHaveLength(20);
    expect(await countEntries(db(), userId, 'consumption')).toBe(1);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 24 });
  });

  it("the server's own (keyless) caller does not get a key's result either", async () => {
    const userId = await newUser(db(), 'pro');
    const k = key();
    await consumeAs(randomUUID(), userId, k);
    expect(await reasonOf(consumeAs(undefined, userId, k))).toBe('IDEMPOTENCY_CONFLICT');
    expect(await countEntries(db(), userId, 'consumption')).toBe(1);
  });

  it('an entry from before keys were bound answers a keyed replay of its input for a day, then no key', async () => {
    const userId = await newUser(db(), 'pro');
    const k = key();
    const first = await consumeAs(undefined, userId, k);
    expect(await consumeAs(randomUUID(), userId, k)).toEqual(first);
    await db().execute(sql`update credit_transactions set created_at = now() - interval '25 hours' where id = ${Number(first.transactionId)}`);
    expect(await reasonOf(consumeAs(randomUUID(), userId, k))).toBe('IDEMPOTENCY_CONFLICT');
    expect(await consumeAs(undefined, userId, k)).toEqual(first);
    expect(await countEntries(db(), userId, 'consumption')).toBe(1);
  });
});

describe('[LEDGER] bad input over the API', () => {
  it.each([
    [{ credits: 1.5 }, 'credits'],
    [{ credits: 0 }, 'credits'],
    [{ credits: -3 }, 'credits'],
    [{ enhancementType: 'teleport' }, 'enhancementType'],
    [{ userId: 'bad id!' }, 'userId'],
    [{ idempotencyKey: 'short' }, 'idempotencyKey'],
    [{ moodboardId: 'm'.repeat(500) }, 'moodboardId'],
  ])('%j gets BAD_REQUEST naming %s and writes nothing', async (patch, field) => {
    const userId = await newUser(db(), 'pro');
    const { caller } = await apiKeyCaller(env.deps, ['credits:write']);
    const input = { userId, credits: 1, enhancementType: 'lighting', idempotencyKey: key(), ...patch };
    const err = (await caller.credits.consume(input as never).catch((e: unknown) => e)) as TRPCError;
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toContain(field);
    expect(await countEntries(db(), userId, 'consumption')).toBe(0);
  });

  it('a key without credits:write cannot consume', async () => {
    const userId = await newUser(db(), 'pro');
    const { caller } = await apiKeyCaller(env.deps, ['credits:read']);
    const err = (await caller.credits.consume({ userId, credits: 1, enhancementType: 'lighting', idempotencyKey: key() }).catch((e: unknown) => e)) as TRPCError;
    expect(err.code).toBe('FORBIDDEN');
  });

  it('over the API a refusal carries its stable reason', async () => {
    const userId = await newUser(db(), 'free');
    const { caller } = await apiKeyCaller(env.deps, ['credits:write']);
    const err = (await caller.credits.consume({ userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() }).catch((e: unknown) => e)) as TRPCError;
    expect(err.code).toBe('PRECONDITION_FAILED');
    expect((err.cause as unknown as { reason: string }).reason).toBe('INSUFFICIENT_CREDITS');
    expect(err.message).toBe(INSUFFICIENT_MESSAGE);
  });
});
