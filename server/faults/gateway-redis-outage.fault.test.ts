import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../auth/api-keys';
import { cliActor } from '../auth/audit';
import { grantCredits } from '../ledger/admin-ops';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { startFakeProvider, startImageServer } from '../test/fake-providers';
import { trpcHttp } from '../test/http-client';
import { key, newUser } from '../test/ledger-helpers';
import { configureProviders } from '../test/provider-helpers';
import { startServer, type ServerProcess } from '../test/spawn';
import { expectReconciled, pendingHolds } from './lib/reconciled';
import { startTempRedis } from './lib/temp-redis';

let redis: Awaited<ReturnType<typeof startTempRedis>>;
let env: TestEnv;
let server: ServerProcess;
let images: Awaited<ReturnType<typeof startImageServer>>;
let fal: Awaited<ReturnType<typeof startFakeProvider>>;

beforeAll(async () => {
  [redis, images, fal] = await Promise.all([startTempRedis(), startImageServer(), startFakeProvider('fal')]);
  env = await createTestEnv({ REDIS_URL: redis.url, REDIS_PREFIX: `cdfault-${randomBytes(4).toString('hex')}`, ALLOW_PRIVATE_IMAGE_URLS: 'true' });
  server = await startServer({ ...env.env, LOG_LEVEL: 'fatal', DATABASE_POOL_MAX: '10' }, 120_000);
}, 180_000);
afterAll(async () => {
  await server?.stop();
  await Promise.all([images?.close(), fal?.close()]);
  await env?.close();
  await redis?.close();
});

describe('[GATEWAY] Redis stopped in the middle of 50 enhancements', () => {
  it('every request ends enhanced or degraded, replays answer within seconds once Redis is back, no hold stays pending', async () => {
    const db = env.deps.dbHandle.db;
    await configureProviders(env.deps, [
      { name: uniqueId('fal').toLowerCase(), kind: 'fal', baseUrl: fal.url, poolCredits: 1000, timeoutMs: 10_000 },
      { name: uniqueId('local').toLowerCase(), kind: 'local', baseUrl: 'http://localhost' },
    ]);
    fal.state.delayMs = 20;
    const userId = await newUser(db, 'pro');
    await grantCredits(db, cliActor, { userId, credits: 100, reason: 'fault test' });
    const { secret } = await createApiKey(db, cliActor, { name: 'gateway redis outage', scopes: ['enhance'] });
    const api = trpcHttp(server.url, secret);
    const keys = Array.from({ length: 50 }, () => key());
    const run = (idempotencyKey: string) => api.mutation('enhance.run', { userId, inputImageUrl: images.inputUrl, enhancementType: 'color', idempotencyKey });

    // Five at a time; Redis goes away once ten have answered, while others are in flight.
    const first = new Map<string, Awaited<ReturnType<typeof run>>>();
    let stopping: Promise<void> | null = null;
    const queue = [...keys];
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        for (let k = queue.shift(); k; k = queue.shift()) {
          first.set(k, await run(k));
          if (first.size === 10) stopping = redis.stop();
        }
      }),
    );
    // Assigned inside the callbacks above, which TypeScript's narrowing does not follow.
    await (stopping as Promise<void> | null);
    const statuses = keys.map((k) => [first.get(k)!.status, first.get(k)!.body?.result?.data?.status]);
    expect(statuses.filter(([http, status]) => http !== 200 || (status !== 'enhanced' && status !== 'degraded'))).toEqual([]);
    expect(await pendingHolds(db)).toBe(0);

    await redis.start();
    for (const k of keys) {
      const started = Date.now();
      const again = await run(k);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(again.body.result.data).toEqual(first.get(k)!.body.result.data);
    }
    expect(await pendingHolds(db)).toBe(0);
    await expectReconciled(db);
  });
});
