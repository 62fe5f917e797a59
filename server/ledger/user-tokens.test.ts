import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContextInner } from '../trpc/context';
import { apiKeyCaller, createCaller, createTestEnv, type TestEnv } from '../test/harness';
import { expectLedgerClean, newUser } from '../test/ledger-helpers';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await expectLedgerClean(env.deps.dbHandle.db);
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'OK',
    (e: TRPCError) => e.code,
  );
const asBearer = (bearer: string) => createCaller(createContextInner(env.deps, { bearer }));

describe('[ROW POLICY] end-user tokens', () => {
  it('a user token reads its own balance and history, and nobody else', async () => {
    const me = await newUser(db(), 'plus');
    const other = await newUser(db(), 'pro');
    const { caller } = await apiKeyCaller(env.deps, ['users:write']);
    const { token } = await caller.auth.userToken({ userId: me });
    const user = asBearer(token);
    expect((await user.credits.balance({ userId: me })).currentBalance).toBe(10);
    expect((await user.credits.history({ userId: me })).items.length).toBeGreaterThan(0);
    expect(await codeOf(user.credits.balance({ userId: other }))).toBe('FORBIDDEN');
    expect(await codeOf(user.credits.history({ userId: other }))).toBe('FORBIDDEN');
  });

  it('a user token cannot spend, and an expired or forged one is refused', async () => {
    const me = await newUser(db(), 'plus');
    const expired = env.deps.userTokens.mint(me, 60, Date.now() - 120_000).token;
    expect(await codeOf(asBearer(expired).credits.balance({ userId: me }))).toBe('UNAUTHORIZED');
    const good = env.deps.userTokens.mint(me, 60).token;
    const forged = good.slice(0, -2) + (good.endsWith('AA') ? 'BB' : 'AA');
    expect(await codeOf(asBearer(forged).credits.balance({ userId: me }))).toBe('UNAUTHORIZED');
    expect(await codeOf(asBearer(good).credits.consume({ userId: me, credits: 1, enhancementType: 'lighting', idempotencyKey: 'token-spend-1' }))).toBe('UNAUTHORIZED');
  });

  it('credits.balance with an API key needs credits:read', async () => {
    const me = await newUser(db(), 'plus');
    const { caller: reader } = await apiKeyCaller(env.deps, ['credits:read']);
    const { caller: writer } = await apiKeyCaller(env.deps, ['credits:write']);
    expect((await reader.credits.balance({ userId: me })).userId).toBe(me);
    expect(await codeOf(writer.credits.balance({ userId: me }))).toBe('FORBIDDEN');
    expect(await codeOf(reader.credits.balance({ userId: 'no-such-user' }))).toBe('NOT_FOUND');
  });

  it('history pages with a cursor', async () => {
    const me = await newUser(db(), 'pro');
    const { caller } = await apiKeyCaller(env.deps, ['credits:read', 'credits:write']);
    for (let i = 0; i < 5; i++) await caller.credits.consume({ userId: me, credits: 1, enhancementType: 'color', idempotencyKey: `hist-${me}-${i}` });
    const first = await caller.credits.history({ userId: me, limit: 4 });
    expect(first.items).toHaveLength(4);
    expect(first.nextCursor).not.toBeNull();
    const second = await caller.credits.history({ userId: me, limit: 4, cursor: first.nextCursor! });
    expect(second.items).toHaveLength(2);
    expect(second.nextCursor).toBeNull();
    const ids = [...first.items, ...second.items].map((t) => Number(t.transactionId));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(await codeOf(caller.credits.history({ userId: me, cursor: 'DROP TABLE' }))).toBe('BAD_REQUEST');
  });
});
