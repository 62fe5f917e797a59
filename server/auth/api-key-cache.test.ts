import { and, eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../test/harness';
import { waitFor } from '../test/wait';
import { ApiKeyAuth } from './api-key-auth';
import { createApiKey, revokeApiKey, rotateApiKey } from './api-keys';
import { cliActor } from './audit';
import { apiKeyUsageDaily, apiKeys } from './tables';

let env: TestEnv;
const started: ApiKeyAuth[] = [];
beforeAll(async () => {
  env = await createTestEnv();
});
// Each test's processes stop with it, so a revoke waits for the acknowledgements of that test's alone.
afterEach(async () => {
  await Promise.all(started.splice(0).map((a) => a.close()));
});
afterAll(() => env.close());

const db = () => env.deps.dbHandle.db;
const log = pino({ level: 'silent' });
const todayUtc = () => new Date().toISOString().slice(0, 10);

/** A second "process" on the same database: its own cache and channel, Redis off (LISTEN/NOTIFY). */
async function process_(opts: { maxEntries?: number } = {}) {
  const auth = new ApiKeyAuth({ dbHandle: env.deps.dbHandle, redis: null, redisPrefix: env.redisPrefix, log, ...opts });
  started.push(auth);
  await auth.start();
  await waitFor(() => auth.cache.trusted, { what: 'its own heartbeat heard back' });
  return auth;
}

const newKey = (scopes: ('credits:write' | 'credits:read')[] = ['credits:write'], expiresAt?: string) =>
  createApiKey(db(), cliActor, { name: `cache-${Math.random().toString(36).slice(2, 8)}`, scopes, expiresAt });
const rename = (id: string, name: string) => db().update(apiKeys).set({ name }).where(eq(apiKeys.id, id));

describe('[AUTH] the in-process API key cache', () => {
  it('a known key is served from memory: a change made behind the app’s back is not read until announced', async () => {
    const a = await process_();
    const { apiKey, secret } = await newKey();
    expect(await a.check(secret, 'credits:write')).toMatchObject({ ok: true, key: { id: apiKey.id, name: apiKey.name } });
    await rename(apiKey.id, 'renamed');
    expect(await a.check(secret, 'credits:write')).toMatchObject({ ok: true, key: { name: apiKey.name } });
    await a.changed(apiKey.id);
    expect(await a.check(secret, 'credits:write')).toMatchObject({ ok: true, key: { name: 'renamed' } });
  });

  it('a key created after an unknown secret was tried works at once (unknown secrets are never cached)', async () => {
    const a = await process_();
    expect(await a.check('cd_live_nobody', 'credits:write')).toEqual({ ok: false, message: 'A valid API key is required (Authorization: Bearer <key>).' });
    const { secret } = await newKey();
    expect((await a.check(secret, 'credits:write')).ok).toBe(true);
    expect(a.cache.size).toBe(1);
  });

  it('expiry is judged at each request, not when the key was cached', async () => {
    const a = await process_();
    const expiresAt = new Date(Date.now() + 2_000).toISOString();
    const { secret } = await newKey(['credits:write'], expiresAt);
    expect((await a.check(secret, 'credits:write')).ok).toBe(true);
    // Nothing is announced: the clock alone ends it, whatever the cache holds.
    const refused = await waitFor(
      async () => {
        const c = await a.check(secret, 'credits:write');
        return c.ok ? null : c;
      },
      { what: 'the expiry' },
    );
    expect(refused).toEqual({ ok: false, message: `This API key expired at ${expiresAt}.` });
    expect(a.cache.size).toBe(1);
  });

  it('memory stays bounded: past maxEntries the oldest keys are dropped, and every key still works', async () => {
    const a = await process_({ maxEntries: 3 });
    const keys = await Promise.all(Array.from({ length: 6 }, () => newKey()));
    for (const k of keys) expect((await a.check(k.secret, 'credits:write')).ok).toBe(true);
    expect(a.cache.size).toBe(3);
    for (let i = 0; i < 50; i++) await a.check(`cd_live_guess-${i}`, 'credits:write');
    expect(a.cache.size).toBe(3);
    for (const k of keys) expect((await a.check(k.secret, 'credits:write')).ok).toBe(true);
    expect(a.cache.size).toBe(3);
  });

  it('a lookup that read the key before a revoke committed never puts it back in the cache', async () => {
    const a = await process_();
    const { apiKey, secret } = await newKey();
    // The lookup reads the key (still live); while its read is under way a change is announced.
    const inFlight = a.check(secret, 'credits:write');
    a.cache.dropKey(apiKey.id);
    expect((await inFlight).ok).toBe(true);
    await revokeApiKey(db(), cliActor, apiKey.id);
    // Not announced this time: a revoked key in the cache would answer ok here.
    expect(await a.check(secret, 'credits:write')).toEqual({ ok: false, message: 'This API key has been revoked.' });
  });
});

describe('[AUTH] Redis off: API key changes reach every process through LISTEN/NOTIFY', () => {
  it('a key revoked on one process is refused on the other at once, and the revoke waited for its acknowledgement', async () => {
    const [a, b] = [await process_(), await process_()];
    await waitFor(() => a.cache.trusted && b.cache.trusted);
    const { apiKey, secret } = await newKey();
    expect((await a.check(secret, 'credits:write')).ok).toBe(true);
    expect((await b.check(secret, 'credits:write')).ok).toBe(true);

    await revokeApiKey(db(), cliActor, apiKey.id);
    const announced = await a.changed(apiKey.id);
    expect(announced.acked).toBe(announced.expected);
    expect(announced.expected).toBeGreaterThanOrEqual(2);
    expect(await b.check(secret, 'credits:write')).toEqual({ ok: false, message: 'This API key has been revoked.' });
  });

  it('a rotation with no grace ends the old secret on the other process at once', async () => {
    const [a, b] = [await process_(), await process_()];
    const { apiKey, secret } = await newKey();
    expect((await b.check(secret, 'credits:write')).ok).toBe(true);
    const rotated = await db().transaction((tx) => rotateApiKey(tx, cliActor, { id: apiKey.id, graceMinutes: 0 }));
    await a.changed(apiKey.id);
    expect((await b.check(secret, 'credits:write')).ok).toBe(false);
    expect((await b.check(rotated.secret, 'credits:write')).ok).toBe(true);
  });
});

describe('[AUTH] usage is counted in memory and written in one statement', () => {
  it('calls in scope are written by the next flush; refused calls and calls outside the scopes are counted nowhere', async () => {
    const a = await process_();
    const { apiKey, secret } = await newKey(['credits:write']);
    for (let i = 0; i < 5; i++) await a.check(secret, 'credits:write');
    await a.check(secret, 'credits:read');
    const usage = () =>
      db()
        .select()
        .from(apiKeyUsageDaily)
        .where(and(eq(apiKeyUsageDaily.apiKeyId, apiKey.id), eq(apiKeyUsageDaily.day, todayUtc())));
    await a.usage.flush();
    expect((await usage())[0]!.calls).toBe(5);
    const [row] = await db().select().from(apiKeys).where(eq(apiKeys.id, apiKey.id));
    expect(row!.lastUsedAt).not.toBeNull();

    await revokeApiKey(db(), cliActor, apiKey.id);
    await a.changed(apiKey.id);
    expect((await a.check(secret, 'credits:write')).ok).toBe(false);
    for (let i = 0; i < 3; i++) await a.check(secret, 'credits:write');
    await a.close();
    expect((await usage())[0]!.calls).toBe(5);
  });

  it('close writes what was counted since the last flush', async () => {
    const a = new ApiKeyAuth({ dbHandle: env.deps.dbHandle, redis: null, redisPrefix: env.redisPrefix, log });
    await a.start();
    const { apiKey, secret } = await newKey();
    for (let i = 0; i < 7; i++) await a.check(secret, 'credits:write');
    await a.close();
    const [row] = await db().select().from(apiKeyUsageDaily).where(eq(apiKeyUsageDaily.apiKeyId, apiKey.id));
    expect(row!.calls).toBe(7);
  });
});
