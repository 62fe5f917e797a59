import { TRPCError } from '@trpc/server';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../ledger/tables';
import { createContextInner } from '../trpc/context';
import { createCaller, createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { apiKeyUsageDaily, apiKeys, auditLog } from './tables';
import { sha256 } from './tokens';

let env: TestEnv;
let admin: Awaited<ReturnType<typeof signedInCaller>>;
const db = () => env.deps.dbHandle.db;
beforeAll(async () => {
  env = await createTestEnv();
  admin = await signedInCaller(env.deps, 'admin');
});
afterAll(() => env.close());

const keyCaller = (secret: string) => createCaller(createContextInner(env.deps, { bearer: secret }));
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: TRPCError) => ({ code: e.code, message: e.message }),
  );
const upsert = (secret: string) => keyCaller(secret).users.upsert({ userId: uniqueId('user'), tier: 'free' });
const userCount = async () =>
  (
    await db()
      .select({ n: sql<number>`count(*)::int` })
      .from(users)
  )[0]!.n;
const todayUtc = () => new Date().toISOString().slice(0, 10);

describe('[API KEYS] expiry', () => {
  it('a key past its expiresAt is refused with UNAUTHORIZED naming the expiry, and writes nothing', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const { apiKey, secret } = await admin.caller.admin.apiKeys.create({ name: 'expiring', scopes: ['users:write'], expiresAt });
    expect(apiKey.expiresAt).toBe(expiresAt);
    expect(await refusal(upsert(secret))).toBeNull();

    // The clock moves past the expiry: set in the database instead of waiting.
    const past = new Date(Date.now() - 1_000);
    await db().update(apiKeys).set({ expiresAt: past }).where(eq(apiKeys.id, apiKey.id));
    // A change behind the app's back: announced as the admin procedures announce theirs.
    await env.deps.apiKeys.changed(apiKey.id);
    const before = await userCount();
    expect(await refusal(upsert(secret))).toEqual({ code: 'UNAUTHORIZED', message: `This API key expired at ${past.toISOString()}.` });
    expect(await userCount()).toBe(before);
  });

  it('an expiry in the past is refused at creation and no key is made', async () => {
    const before = (await admin.caller.admin.apiKeys.list()).length;
    const err = await refusal(admin.caller.admin.apiKeys.create({ name: 'born dead', scopes: ['enhance'], expiresAt: new Date(Date.now() - 60_000).toISOString() }));
    expect(err).toEqual({ code: 'BAD_REQUEST', message: 'The expiry must be in the future.' });
    expect((await admin.caller.admin.apiKeys.list()).length).toBe(before);
  });
});

describe('[API KEYS] rotation', () => {
  it('a rotation answers a new secret at once; the old one works through the grace period, then is refused', async () => {
    const { apiKey, secret: oldSecret } = await admin.caller.admin.apiKeys.create({ name: 'rotating', scopes: ['users:write'] });
    const rotated = await admin.caller.admin.apiKeys.rotate({ id: apiKey.id, graceMinutes: 60 });
    const newSecret = rotated.secret;
    expect(newSecret).not.toBe(oldSecret);
    expect(rotated.apiKey).toMatchObject({ id: apiKey.id, prefix: newSecret.slice(0, 14), previousPrefix: apiKey.prefix });
    expect(Date.parse(rotated.apiKey.previousExpiresAt!) - Date.now()).toBeGreaterThan(59 * 60_000);

    const [row] = await db().select().from(apiKeys).where(eq(apiKeys.id, apiKey.id));
    expect(row).toMatchObject({ keyHash: sha256(newSecret), previousKeyHash: sha256(oldSecret) });
    const [entry] = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'apiKey.rotate'), eq(auditLog.targetId, apiKey.id)));
    expect(JSON.stringify({ before: entry!.before, after: entry!.after })).not.toContain(newSecret);
    expect(entry!.after).toMatchObject({ graceMinutes: 60 });

    expect(await refusal(upsert(newSecret))).toBeNull();
    expect(await refusal(upsert(oldSecret))).toBeNull();

    // The grace period ends: moved into the past in the database rather than slept through.
    const ended = new Date(Date.now() - 1_000);
    await db().update(apiKeys).set({ previousExpiresAt: ended }).where(eq(apiKeys.id, apiKey.id));
    await env.deps.apiKeys.changed(apiKey.id);
    const before = await userCount();
    expect(await refusal(upsert(oldSecret))).toEqual({
      code: 'UNAUTHORIZED',
      message: `This API key secret was replaced by a rotation and stopped working at ${ended.toISOString()}; use the new secret.`,
    });
    expect(await userCount()).toBe(before);
    expect(await refusal(upsert(newSecret))).toBeNull();
    expect((await admin.caller.admin.apiKeys.list()).find((k) => k.id === apiKey.id)).toMatchObject({ previousPrefix: null, previousExpiresAt: null });
  });

  it('a rotation with no grace ends the old secret at once', async () => {
    const { apiKey, secret } = await admin.caller.admin.apiKeys.create({ name: 'no grace', scopes: ['users:write'] });
    const rotated = await admin.caller.admin.apiKeys.rotate({ id: apiKey.id, graceMinutes: 0 });
    expect((await refusal(upsert(secret)))?.code).toBe('UNAUTHORIZED');
    expect(await refusal(upsert(rotated.secret))).toBeNull();
  });

  it('a second rotation ends the first old secret at once: only one old secret works beside the new one', async () => {
    const { apiKey, secret: first } = await admin.caller.admin.apiKeys.create({ name: 'twice', scopes: ['users:write'] });
    const { secret: second } = await admin.caller.admin.apiKeys.rotate({ id: apiKey.id, graceMinutes: 60 });
    const { secret: third } = await admin.caller.admin.apiKeys.rotate({ id: apiKey.id, graceMinutes: 60 });
    expect((await refusal(upsert(first)))?.code).toBe('UNAUTHORIZED');
    expect(await refusal(upsert(second))).toBeNull();
    expect(await refusal(upsert(third))).toBeNull();
  });

  it('a revoked key cannot be rotated, and a grace period past 30 days is refused', async () => {
    const { apiKey } = await admin.caller.admin.apiKeys.create({ name: 'revoked', scopes: ['enhance'] });
    await admin.caller.admin.apiKeys.revoke({ id: apiKey.id });
    expect((await refusal(admin.caller.admin.apiKeys.rotate({ id: apiKey.id, graceMinutes: 5 })))?.code).toBe('NOT_FOUND');
    const live = await admin.caller.admin.apiKeys.create({ name: 'live', scopes: ['enhance'] });
    expect((await refusal(admin.caller.admin.apiKeys.rotate({ id: live.apiKey.id, graceMinutes: 30 * 24 * 60 + 1 })))?.code).toBe('BAD_REQUEST');
    const [row] = await db().select().from(apiKeys).where(eq(apiKeys.id, live.apiKey.id));
    expect(row!.keyHash).toBe(sha256(live.secret));
  });

  it('an analyst cannot rotate a key or read usage', async () => {
    const analyst = await signedInCaller(env.deps, 'analyst');
    const { apiKey, secret } = await admin.caller.admin.apiKeys.create({ name: 'guarded', scopes: ['enhance'] });
    expect((await refusal(analyst.caller.admin.apiKeys.rotate({ id: apiKey.id, graceMinutes: 0 })))?.code).toBe('FORBIDDEN');
    expect((await refusal(analyst.caller.admin.apiKeys.usage()))?.code).toBe('FORBIDDEN');
    const [row] = await db().select().from(apiKeys).where(eq(apiKeys.id, apiKey.id));
    expect(row!.keyHash).toBe(sha256(secret));
  });
});

describe('[API KEYS] scope changes', () => {
  it('narrowed scopes refuse the very next call with FORBIDDEN; widened ones allow it; the secret stays and the change is audited', async () => {
    const { apiKey, secret } = await admin.caller.admin.apiKeys.create({ name: 'scoped', scopes: ['users:write', 'credits:read'] });
    expect(await refusal(upsert(secret))).toBeNull();

    const narrowed = await admin.caller.admin.apiKeys.update({ id: apiKey.id, name: 'scoped, read only', scopes: ['credits:read', 'credits:read'] });
    expect(narrowed).toMatchObject({ id: apiKey.id, name: 'scoped, read only', scopes: ['credits:read'], prefix: apiKey.prefix });
    const before = await userCount();
    expect(await refusal(upsert(secret))).toEqual({ code: 'FORBIDDEN', message: 'This API key lacks the users:write scope.' });
    expect(await userCount()).toBe(before);

    await admin.caller.admin.apiKeys.update({ id: apiKey.id, name: 'scoped', scopes: ['users:write'] });
    expect(await refusal(upsert(secret))).toBeNull();

    const entries = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'apiKey.update'), eq(auditLog.targetId, apiKey.id)));
    expect(entries).toHaveLength(2);
    expect(entries.map((e) => [(e.before as { scopes: string[] }).scopes, (e.after as { scopes: string[] }).scopes])).toEqual(
      expect.arrayContaining([
        [['credits:read', 'users:write'], ['credits:read']],
        [['credits:read'], ['users:write']],
      ]),
    );
  });

  it('a revoked key cannot be changed, an empty scope list is refused, and analysts cannot change keys', async () => {
    const { apiKey } = await admin.caller.admin.apiKeys.create({ name: 'to revoke', scopes: ['enhance'] });
    await admin.caller.admin.apiKeys.revoke({ id: apiKey.id });
    expect(await refusal(admin.caller.admin.apiKeys.update({ id: apiKey.id, name: 'x', scopes: ['enhance'] }))).toEqual({
      code: 'NOT_FOUND',
      message: 'No active API key with that id.',
    });
    const live = await admin.caller.admin.apiKeys.create({ name: 'live', scopes: ['enhance'] });
    expect((await refusal(admin.caller.admin.apiKeys.update({ id: live.apiKey.id, name: 'live', scopes: [] })))?.code).toBe('BAD_REQUEST');
    const analyst = await signedInCaller(env.deps, 'analyst');
    expect((await refusal(analyst.caller.admin.apiKeys.update({ id: live.apiKey.id, name: 'live', scopes: ['credits:read'] })))?.code).toBe('FORBIDDEN');
    const [row] = await db().select().from(apiKeys).where(eq(apiKeys.id, live.apiKey.id));
    expect(row!.scopes).toEqual(['enhance']);
  });
});

describe('[API KEYS] usage over the last 30 days', () => {
  it('each authorised call counts once in today’s row; refused calls count nowhere; usage answers 30 zero-filled days', async () => {
    const { apiKey, secret } = await admin.caller.admin.apiKeys.create({ name: 'counted', scopes: ['users:write'] });
    for (let i = 0; i < 3; i++) expect(await refusal(upsert(secret))).toBeNull();
    // A call its scope does not cover is refused and not counted.
    expect((await refusal(keyCaller(secret).credits.balance({ userId: 'nobody' })))?.code).toBe('FORBIDDEN');
    // Earlier days, written as the counter would have.
    const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
    await db()
      .insert(apiKeyUsageDaily)
      .values([
        { apiKeyId: apiKey.id, day: daysAgo(5), calls: 7 },
        { apiKeyId: apiKey.id, day: daysAgo(40), calls: 100 },
      ]);
    // Calls are written in batches about once a second: write these now.
    await env.deps.apiKeys.usage.flush();

    const [today] = await db()
      .select()
      .from(apiKeyUsageDaily)
      .where(and(eq(apiKeyUsageDaily.apiKeyId, apiKey.id), eq(apiKeyUsageDaily.day, todayUtc())));
    expect(today!.calls).toBe(3);

    const usage = (await admin.caller.admin.apiKeys.usage()).find((u) => u.apiKeyId === apiKey.id)!;
    expect(usage.days).toHaveLength(30);
    expect(usage.days[29]).toEqual({ day: todayUtc(), calls: 3 });
    expect(usage.days.find((d) => d.day === daysAgo(5))).toEqual({ day: daysAgo(5), calls: 7 });
    expect(usage.total).toBe(10);
  });

  it('calls with an expired key or a rotated-out secret are not counted', async () => {
    const { apiKey, secret } = await admin.caller.admin.apiKeys.create({ name: 'uncounted', scopes: ['users:write'] });
    await admin.caller.admin.apiKeys.rotate({ id: apiKey.id, graceMinutes: 0 });
    expect((await refusal(upsert(secret)))?.code).toBe('UNAUTHORIZED');
    await env.deps.apiKeys.usage.flush();
    expect(await db().select().from(apiKeyUsageDaily).where(eq(apiKeyUsageDaily.apiKeyId, apiKey.id))).toEqual([]);
  });
});
