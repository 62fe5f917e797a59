import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../auth/api-keys';
import { cliActor } from '../auth/audit';
import { grantCredits } from '../ledger/admin-ops';
import { createTestEnv, signedInCaller, type TestEnv } from '../test/harness';
import { trpcHttp } from '../test/http-client';
import { key, newUser } from '../test/ledger-helpers';
import { startServer, type ServerProcess } from '../test/spawn';
import { waitFor } from '../test/wait';
import { startTempRedis } from './lib/temp-redis';

let redis: Awaited<ReturnType<typeof startTempRedis>>;
let env: TestEnv;
let servers: ServerProcess[] = [];
let cookie: string;

beforeAll(async () => {
  redis = await startTempRedis();
  env = await createTestEnv({ REDIS_URL: redis.url, REDIS_PREFIX: `cdfault-${randomBytes(4).toString('hex')}` });
  const serverEnv = { ...env.env, LOG_LEVEL: 'fatal', DATABASE_POOL_MAX: '5', WORKER_IN_SERVER: 'false' };
  servers = await Promise.all([startServer(serverEnv), startServer(serverEnv)]);
  cookie = `cd_session=${(await signedInCaller(env.deps, 'admin')).token}`;
}, 120_000);
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await env.close();
  await redis.close();
});

const db = () => env.deps.dbHandle.db;
const consume = (server: number, secret: string, userId: string) =>
  trpcHttp(servers[server]!.url, secret).mutation('credits.consume', { userId, credits: 1, enhancementType: 'lighting', idempotencyKey: key() });
const revokeOn = (server: number, id: string) =>
  fetch(`${servers[server]!.url}/trpc/admin.apiKeys.revoke`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ id }) });

async function liveKey(userId: string) {
  const { apiKey, secret } = await createApiKey(db(), cliActor, { name: 'cached', scopes: ['credits:write'] });
  // Both processes now hold it in memory.
  for (const s of [0, 1]) for (let i = 0; i < 3; i++) expect((await consume(s, secret, userId)).status).toBe(200);
  return { id: apiKey.id, secret };
}

describe('[FAULT] a revoked key keeps working from another process’s cache', () => {
  it('under load on process B, no call that starts after a revoke on process A has returned is served', async () => {
    const userId = await newUser(db(), 'pro');
    await grantCredits(db(), cliActor, { userId, credits: 100_000, reason: 'load' });
    await waitFor(async () => (await Promise.all(servers.map((s) => fetch(`${s.url}/readyz`)))).every((r) => r.status === 200));
    const { id, secret } = await liveKey(userId);

    const calls: { startedAt: number; status: number }[] = [];
    let revokedAt = Infinity;
    let stop = false;
    const hammer = async () => {
      while (!stop) {
        const startedAt = performance.now();
        const { status } = await consume(1, secret, userId);
        calls.push({ startedAt, status });
        if (calls.filter((c) => c.startedAt > revokedAt).length >= 40) stop = true;
      }
    };
    const loops = Array.from({ length: 8 }, hammer);
    await waitFor(() => calls.filter((c) => c.status === 200).length >= 20, { what: 'calls served before the revoke' });
    const res = await revokeOn(0, id);
    revokedAt = performance.now();
    expect(res.status).toBe(200);
    await Promise.all(loops);

    const after = calls.filter((c) => c.startedAt > revokedAt);
    expect(after.length).toBeGreaterThanOrEqual(40);
    expect(after.filter((c) => c.status !== 401)).toEqual([]);
  });

  it('with Redis stopped, a key revoked on one process is refused on the other at once (no cache is trusted without its channel)', async () => {
    const userId = await newUser(db(), 'pro');
    const { id, secret } = await liveKey(userId);
    await redis.stop();
    try {
      expect((await revokeOn(0, id)).status).toBe(200);
      expect((await consume(1, secret, userId)).status).toBe(401);
      expect((await consume(0, secret, userId)).status).toBe(401);
    } finally {
      await redis.start();
    }
    // Redis back: keys work again from memory, and the revoked one stays refused everywhere.
    const fresh = await liveKey(userId);
    for (const s of [0, 1]) {
      expect((await consume(s, secret, userId)).status).toBe(401);
      expect((await consume(s, fresh.secret, userId)).status).toBe(200);
    }
  });
});
