import { TRPCError } from '@trpc/server';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../ledger/tables';
import { createContextInner } from '../trpc/context';
import { apiKeyCaller, createCaller, createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { apiKeys } from './tables';
import { sha256 } from './tokens';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.close());

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'OK',
    (e: TRPCError) => e.code,
  );

describe('[API KEYS] product app keys', () => {
  it('a created key is shown once and stored only as a hash', async () => {
    const { caller } = await signedInCaller(env.deps, 'admin');
    const { apiKey, secret } = await caller.admin.apiKeys.create({ name: 'mobile app', scopes: ['users:write', 'enhance'] });
    expect(secret).toMatch(/^cd_live_/);
    const [row] = await env.deps.dbHandle.db.select().from(apiKeys).where(eq(apiKeys.id, apiKey.id));
    expect(row!.keyHash).toBe(sha256(secret));
    expect(JSON.stringify(row)).not.toContain(secret);
    const listed = await caller.admin.apiKeys.list();
    expect(JSON.stringify(listed)).not.toContain(secret);
  });

  it('a key with the scope may call users.upsert and its last use is recorded', async () => {
    const { caller, apiKey } = await apiKeyCaller(env.deps, ['users:write']);
    const userId = uniqueId('user');
    expect(await caller.users.upsert({ userId, tier: 'plus', email: 'Someone@Example.com' })).toMatchObject({
      userId,
      tier: 'plus',
      email: 'someone@example.com',
      monthlyAllowance: 10,
      currentBalance: 10,
    });
    // Uses are written in batches about once a second: write this one now.
    await env.deps.apiKeys.usage.flush();
    const [row] = await env.deps.dbHandle.db.select().from(apiKeys).where(eq(apiKeys.id, apiKey.id));
    expect(row!.lastUsedAt).not.toBeNull();
  });

  it('a key without the scope is refused with FORBIDDEN and writes nothing', async () => {
    const { caller } = await apiKeyCaller(env.deps, ['credits:read']);
    const userId = uniqueId('user');
    expect(await codeOf(caller.users.upsert({ userId, tier: 'pro' }))).toBe('FORBIDDEN');
    expect(await env.deps.dbHandle.db.select().from(users).where(eq(users.userId, userId))).toHaveLength(0);
  });

  it('a revoked key is refused with UNAUTHORIZED', async () => {
    const { caller: admin } = await signedInCaller(env.deps, 'admin');
    const { caller, apiKey } = await apiKeyCaller(env.deps, ['users:write']);
    await admin.admin.apiKeys.revoke({ id: apiKey.id });
    expect(await codeOf(caller.users.upsert({ userId: uniqueId(), tier: 'pro' }))).toBe('UNAUTHORIZED');
  });

  it('a missing or made-up key is refused with UNAUTHORIZED', async () => {
    const none = createCaller(createContextInner(env.deps));
    const fake = createCaller(createContextInner(env.deps, { bearer: 'cd_live_not-a-real-key' }));
    expect(await codeOf(none.users.upsert({ userId: uniqueId(), tier: 'pro' }))).toBe('UNAUTHORIZED');
    expect(await codeOf(fake.users.upsert({ userId: uniqueId(), tier: 'pro' }))).toBe('UNAUTHORIZED');
  });
});

describe('[USERS] users.upsert input', () => {
  it.each([
    [{ userId: '', tier: 'pro' }, 'userId'],
    [{ userId: 'ok-id', tier: 'gold' }, 'tier'],
    [{ userId: 'has spaces', tier: 'pro' }, 'userId'],
    [{ userId: 'x'.repeat(129), tier: 'pro' }, 'userId'],
    [{ userId: 'ok-id', tier: 'pro', email: 'not-an-email' }, 'email'],
  ])('bad input %j gets BAD_REQUEST naming %s and writes nothing', async (input, field) => {
    const { caller } = await apiKeyCaller(env.deps, ['users:write']);
    const before = await env.deps.dbHandle.db.select().from(users);
    const err = (await caller.users.upsert(input as never).catch((e: unknown) => e)) as TRPCError;
    expect(err).toBeInstanceOf(TRPCError);
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toContain(field);
    expect(await env.deps.dbHandle.db.select().from(users)).toHaveLength(before.length);
  });

  it('an upsert updates the tier and keeps the email when none is given', async () => {
    const { caller } = await apiKeyCaller(env.deps, ['users:write']);
    const userId = uniqueId('user');
    await caller.users.upsert({ userId, tier: 'free', email: 'a@example.com' });
    expect(await caller.users.upsert({ userId, tier: 'pro' })).toMatchObject({ userId, tier: 'pro', email: 'a@example.com', currentBalance: 25 });
  });
});
