import { TRPCError } from '@trpc/server';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../auth/tables';
import { createTestEnv, signedInCaller, type TestEnv } from '../test/harness';
import { balanceRow, countEntries, expectLedgerClean, key, newUser, reasonOf } from '../test/ledger-helpers';
import { expireGrants } from './grant-expiry';
import { consumeCredits } from './consume';
import { creditGrants, creditTransactions } from './tables';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterEach(() => expectLedgerClean(env.deps.dbHandle.db));
afterAll(() => env.close());

const db = () => env.deps.dbHandle.db;

async function auditFor(userId: string, action: string) {
  return db()
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.targetId, userId), eq(auditLog.action, action)));
}

describe('[ADMIN] credit operations', () => {
  it('grant adds bonus credits with a reason, audited with who, before and after', async () => {
    const { caller, admin } = await signedInCaller(env.deps, 'admin');
    const userId = await newUser(db(), 'free');
    const { balance, transaction } = await caller.admin.users.grant({ userId, credits: 5, reason: 'support goodwill' });
    expect(balance).toMatchObject({ currentBalance: 5, bonusBalance: 5 });
    expect(transaction).toMatchObject({ type: 'grant', creditsDelta: 5, balanceAfter: 5, reason: 'support goodwill' });
    const [entry] = await auditFor(userId, 'credits.grant');
    expect(entry).toMatchObject({ actorAdminId: admin.id, reason: 'support goodwill', before: { balance: 0 }, after: { balance: 5 } });
  });

  it('a grant with an expiry is removed by expireGrants() once due, and only up to what is left', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const userId = await newUser(db(), 'free');
    await caller.admin.users.grant({ userId, credits: 3, reason: 'trial credits', expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await consumeCredits(db(), { userId, credits: 1, enhancementType: 'lighting', idempotencyKey: key() });
    await db()
      .update(creditGrants)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(creditGrants.userId, userId));
    expect(await expireGrants(db())).toBe(1);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 0 });
    expect(await countEntries(db(), userId, 'grant_expiry')).toBe(1);
    expect(await expireGrants(db())).toBe(0);
  });

  it('adjust moves the balance either way but never below zero', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const userId = await newUser(db(), 'plus');
    expect((await caller.admin.users.adjust({ userId, delta: -4, reason: 'duplicate account' })).balance.currentBalance).toBe(6);
    expect((await caller.admin.users.adjust({ userId, delta: 2, reason: 'correction' })).balance.currentBalance).toBe(8);
    const err = (await caller.admin.users.adjust({ userId, delta: -9, reason: 'too much' }).catch((e: unknown) => e)) as TRPCError;
    expect(err.code).toBe('BAD_REQUEST');
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 8 });
    expect(await auditFor(userId, 'credits.adjust')).toHaveLength(2);
  });

  it('refund returns a consumption once', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const userId = await newUser(db(), 'plus');
    const c = await consumeCredits(db(), { userId, credits: 2, enhancementType: 'upscale', idempotencyKey: key() });
    const { balance } = await caller.admin.users.refund({ transactionId: c.transactionId, reason: 'bad output' });
    expect(balance.currentBalance).toBe(10);
    expect(await reasonOf(caller.admin.users.refund({ transactionId: c.transactionId, reason: 'again' }))).toBe('CONFLICT');
    const [original] = await db()
      .select()
      .from(creditTransactions)
      .where(eq(creditTransactions.id, Number(c.transactionId)));
    expect(original!.status).toBe('refunded');
  });

  it('a tier change takes effect on the allowance at once, recorded and audited', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const userId = await newUser(db(), 'plus');
    await consumeCredits(db(), { userId, credits: 4, enhancementType: 'upscale', idempotencyKey: key() });
    const up = await caller.admin.users.setTier({ userId, tier: 'pro', reason: 'upgraded by sales' });
    expect(up).toMatchObject({ tier: 'pro', monthlyAllowance: 25, currentBalance: 21 });
    const down = await caller.admin.users.setTier({ userId, tier: 'free', reason: 'downgrade' });
    expect(down).toMatchObject({ tier: 'free', monthlyAllowance: 0, currentBalance: 0 });
    expect(await countEntries(db(), userId, 'tier_change')).toBe(2);
    expect(await auditFor(userId, 'user.tier')).toHaveLength(2);
  });

  it('an analyst can read users but every credit mutation is FORBIDDEN and writes nothing', async () => {
    const { caller } = await signedInCaller(env.deps, 'analyst');
    const userId = await newUser(db(), 'plus');
    expect((await caller.admin.users.get({ userId })).currentBalance).toBe(10);
    const tries = await Promise.all([
      reasonOf(caller.admin.users.grant({ userId, credits: 1, reason: 'nope' })),
      reasonOf(caller.admin.users.adjust({ userId, delta: 1, reason: 'nope' })),
      reasonOf(caller.admin.users.setTier({ userId, tier: 'pro', reason: 'nope' })),
      reasonOf(caller.admin.tiers.update({ tier: 'pro', monthlyCredits: 1, poolAccess: true, reason: 'nope' })),
    ]);
    expect(tries).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
    expect(await countEntries(db(), userId)).toBe(1);
  });

  it('operations need a reason and sane amounts', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const userId = await newUser(db(), 'plus');
    const outcomes = await Promise.all([
      reasonOf(caller.admin.users.grant({ userId, credits: 5, reason: '' })),
      reasonOf(caller.admin.users.grant({ userId, credits: -5, reason: 'negative' })),
      reasonOf(caller.admin.users.adjust({ userId, delta: 0, reason: 'zero' })),
      reasonOf(caller.admin.users.setTier({ userId, tier: 'gold' as never, reason: 'unknown tier' })),
      reasonOf(caller.admin.users.refund({ transactionId: 'abc', reason: 'malformed' })),
    ]);
    expect(outcomes).toEqual(Array(5).fill('BAD_REQUEST'));
    expect(await countEntries(db(), userId)).toBe(1);
  });
});

describe('[ADMIN] users list and tiers', () => {
  it('lists with search by email, tier filter, out-of-credits filter and sorting', async () => {
    const { caller } = await signedInCaller(env.deps, 'analyst');
    const a = await newUser(db(), 'free');
    const b = await newUser(db(), 'pro');
    const byEmail = await caller.admin.users.list({ search: a.slice(0, 10) });
    expect(byEmail.rows.map((r) => r.userId)).toContain(a);
    const pros = await caller.admin.users.list({ tier: 'pro', pageSize: 200 });
    expect(pros.rows.every((r) => r.tier === 'pro')).toBe(true);
    expect(pros.rows.map((r) => r.userId)).toContain(b);
    const empty = await caller.admin.users.list({ outOfCredits: true, pageSize: 200 });
    expect(empty.rows.map((r) => r.userId)).toContain(a);
    expect(empty.rows.map((r) => r.userId)).not.toContain(b);
    const sorted = await caller.admin.users.list({ sort: 'balance', direction: 'desc', pageSize: 200 });
    const balances = sorted.rows.map((r) => r.balance);
    expect(balances).toEqual([...balances].sort((x, y) => y - x));
  });

  it('an admin edits a tier allowance, audited; the next reset uses it', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const updated = await caller.admin.tiers.update({ tier: 'plus', monthlyCredits: 15, poolAccess: true, reason: 'pricing change' });
    expect(updated).toMatchObject({ tier: 'plus', monthlyCredits: 15 });
    expect((await caller.admin.tiers.list()).find((t) => t.tier === 'plus')!.monthlyCredits).toBe(15);
    const [entry] = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'tier.update'), eq(auditLog.targetId, 'plus')));
    expect(entry).toMatchObject({ before: { monthlyCredits: 10 }, after: { monthlyCredits: 15 }, reason: 'pricing change' });
    await caller.admin.tiers.update({ tier: 'plus', monthlyCredits: 10, poolAccess: true, reason: 'restore' });
  });
});
