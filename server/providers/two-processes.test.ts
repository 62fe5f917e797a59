import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../auth/api-keys';
import { cliActor } from '../auth/audit';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { startFakeProvider, startImageServer } from '../test/fake-providers';
import { trpcHttp } from '../test/http-client';
import { balanceRow, expectLedgerClean, key, newUser } from '../test/ledger-helpers';
import { expectPoolsClean } from '../test/pool-helpers';
import { configureProviders } from '../test/provider-helpers';
import { startServer, type ServerProcess } from '../test/spawn';

let env: TestEnv;
let servers: ServerProcess[] = [];
let images: Awaited<ReturnType<typeof startImageServer>>;
let fal: Awaited<ReturnType<typeof startFakeProvider>>;
let secret: string;

beforeAll(async () => {
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true' });
  [images, fal] = await Promise.all([startImageServer(), startFakeProvider('fal')]);
  const serverEnv = { ...env.env, LOG_LEVEL: 'warn', DATABASE_POOL_MAX: '8' };
  servers = await Promise.all([startServer(serverEnv), startServer(serverEnv)]);
  ({ secret } = await createApiKey(env.deps.dbHandle.db, cliActor, { name: 'gateway', scopes: ['enhance', 'credits:read'] }));
}, 120_000);
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all([images.close(), fal.close()]);
  await env.close();
});

describe('[GATEWAY] across server processes', () => {
  it('a provider rate limit is shared through Redis: 3 per minute means 3 calls in all, the rest fall back', async () => {
    const limited = uniqueId('fal').toLowerCase();
    await configureProviders(env.deps, [
      // A generous deadline: on a busy machine fal's submit-and-poll can pass the helpers' 2 s, and a
      // timed-out call falls back to local, which is not what this test is about.
      { name: limited, kind: 'fal', baseUrl: fal.url, rateLimitPerMinute: 3, timeoutMs: 20_000 },
      { name: uniqueId('local').toLowerCase(), kind: 'local', baseUrl: 'http://localhost' },
    ]);
    const userId = await newUser(env.deps.dbHandle.db, 'pro');
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        trpcHttp(servers[i % 2]!.url, secret).mutation('enhance.run', {
          userId,
          inputImageUrl: images.inputUrl,
          enhancementType: 'color',
          idempotencyKey: key(),
        }),
      ),
    );
    expect(results.every((r) => r.status === 200 && r.body.result.data.status === 'enhanced')).toBe(true);
    expect(results.filter((r) => r.body.result.data.provider === limited)).toHaveLength(3);
    expect(fal.requests.filter((r) => r.method === 'POST')).toHaveLength(3);
    expect(await balanceRow(env.deps.dbHandle.db, userId)).toMatchObject({ total: 13 });
    await expectLedgerClean(env.deps.dbHandle.db);
    await expectPoolsClean(env.deps.dbHandle.db);
  });

  it('the local provider serves the enhanced image from /media over HTTP', async () => {
    await configureProviders(env.deps, [{ name: uniqueId('local').toLowerCase(), kind: 'local', baseUrl: 'http://localhost' }]);
    const userId = await newUser(env.deps.dbHandle.db, 'plus');
    const res = await trpcHttp(servers[0]!.url, secret).mutation('enhance.run', {
      userId,
      inputImageUrl: images.inputUrl,
      enhancementType: 'lighting',
      idempotencyKey: key(),
    });
    expect(res.body.result.data).toMatchObject({ status: 'enhanced', costUsd: '0.000000', creditSource: 'user_credits' });
    const output = new URL(res.body.result.data.outputUrl);
    const image = await fetch(`${servers[1]!.url}${output.pathname}`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toMatch(/^image\//);
  });
});
