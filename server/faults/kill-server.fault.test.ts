import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApiKey } from '../auth/api-keys';
import { cliActor } from '../auth/audit';
import { col, queryOne } from '../db/rows';
import { expireReservations } from '../ledger/release-reservation';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { startFakeProvider, startImageServer } from '../test/fake-providers';
import { trpcHttp } from '../test/http-client';
import { key, newUser } from '../test/ledger-helpers';
import { configureProviders } from '../test/provider-helpers';
import { startServer } from '../test/spawn';
import { waitFor } from '../test/wait';
import { expectReconciled, pendingHolds } from './lib/reconciled';

let env: TestEnv;
let images: Awaited<ReturnType<typeof startImageServer>>;
let slow: Awaited<ReturnType<typeof startFakeProvider>>;

beforeAll(async () => {
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true' });
  [images, slow] = await Promise.all([startImageServer(), startFakeProvider('fal')]);
});
afterAll(async () => {
  await Promise.all([images.close(), slow.close()]);
  await env.close();
});

describe('[FAULT] kill -9 of a server in the middle of 100 concurrent enhancements', () => {
  it('after restart and expiry every hold is captured or released, none twice, and the books balance', async () => {
    const db = env.deps.dbHandle.db;
    const provider = uniqueId('slow').toLowerCase();
    await configureProviders(env.deps, [{ name: provider, kind: 'fal', baseUrl: slow.url, timeoutMs: 4_000, poolCredits: 500 }]);
    slow.state.delayMs = 400; // every provider request takes a while: many are in flight at the kill
    const users = await Promise.all(Array.from({ length: 10 }, () => newUser(db, 'pro')));
    const { secret } = await createApiKey(db, cliActor, { name: 'kill test', scopes: ['enhance'] });
    const serverEnv = { ...env.env, REDIS_URL: 'off', LOG_LEVEL: 'error', DATABASE_POOL_MAX: '20', ENHANCE_HOLD_GRACE_SECONDS: '1' };

    const victim = await startServer(serverEnv);
    const api = trpcHttp(victim.url, secret);
    const requests = Array.from({ length: 100 }, (_, i) =>
      api.mutation('enhance.run', { userId: users[i % users.length], inputImageUrl: images.inputUrl, enhancementType: 'upscale', idempotencyKey: key() }).then(
        (r) => r.body?.result?.data?.status ?? 'error',
        () => 'connection lost',
      ),
    );
    // Kill while requests are between their hold and their capture.
    for (let i = 0; i < 100 && (await pendingHolds(db)) < 10; i++) await sleep(50);
    victim.child.kill('SIGKILL');
    const outcomes = await Promise.all(requests);
    expect(outcomes.filter((o) => o === 'connection lost').length).toBeGreaterThan(0);
    expect(await pendingHolds(db)).toBeGreaterThan(0);

    // A new process, and the expiry that the scheduled job performs.
    const survivor = await startServer(serverEnv);
    // Holds live for the active providers' timeouts (the test's 4 s and the seeded local provider's) + 1 s of grace; the survivor's own expiry job may
    // release them first, so wait for the condition (running the expiry as the job would) instead of a clock.
    await waitFor(async () => (await expireReservations(db), (await pendingHolds(db)) === 0), { timeoutMs: 100_000, intervalMs: 500, what: 'every orphaned hold to expire' });
    expect(await pendingHolds(db)).toBe(0);
    await expectReconciled(db);

    // What the users paid is exactly what was captured.
    const paid = await queryOne(
      db,
      z.object({ charged: col.integer, captured: col.integer }),
      // This database holds only this test's users.
      sql`select (select count(*) from credit_transactions where transaction_type = 'hold')::int
                 - (select count(*) from credit_transactions where transaction_type = 'release')::int as charged,
                 (select count(*) from credit_transactions where transaction_type = 'capture')::int as captured`,
    );
    expect(paid!.charged).toBe(paid!.captured);
    // The survivor serves normally.
    const after = await trpcHttp(survivor.url, secret).mutation('enhance.run', {
      userId: users[0],
      inputImageUrl: images.inputUrl,
      enhancementType: 'upscale',
      idempotencyKey: key(),
    });
    expect(after.body.result.data.status).toBe('enhanced');
    await survivor.stop();
    await expectReconciled(db);
  });
});
