import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessRunner } from '../jobs/in-process-runner';
import { enqueueSubmitted } from '../jobs/enhance-jobs';
import { drawFromPool, poolTotal } from '../pools/draw';
import { expectReconciled } from '../faults/lib/reconciled';
import { apiKeyCaller, createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { startImageServer } from '../test/fake-providers';
import { balanceRow, key, newUser } from '../test/ledger-helpers';
import { configureProviders } from '../test/provider-helpers';
import { waitFor } from '../test/wait';
import { submitEnhancement } from './async-enhancement';
import { processSubmittedEnhancement, type StoredAttempt } from './async-worker';
import { enhancementRequests } from './tables';

let env: TestEnv;
let images: Awaited<ReturnType<typeof startImageServer>>;

beforeAll(async () => {
  // No Redis: the server's own in-process runner works the jobs.
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true', REDIS_URL: 'off' });
  images = await startImageServer();
});
afterAll(async () => {
  await images.close();
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const rowOf = async (enhancementId: string) => (await db().select().from(enhancementRequests).where(eq(enhancementRequests.enhancementId, enhancementId)))[0]!;

describe('[ASYNC] without Redis the in-process runner does the submitted work', () => {
  it('submit answers queued; the in-process job settles it with enhance.run’s result', async () => {
    expect(env.deps.jobs).toBeInstanceOf(InProcessRunner);
    const name = uniqueId('local').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'local', baseUrl: 'http://localhost' }]);
    const userId = await newUser(db(), 'plus');
    const { caller } = await apiKeyCaller(env.deps, ['enhance']);
    const { enhancementId, status } = await caller.enhance.submit({ userId, inputImageUrl: images.inputUrl, enhancementType: 'sharpen', idempotencyKey: key() });
    expect(status).toBe('queued');
    await (env.deps.jobs as InProcessRunner).idle();
    expect(await caller.enhance.get({ enhancementId })).toMatchObject({ status: 'enhanced', provider: name, costUsd: '0.000000', creditSource: 'user_credits' });
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9, consumed: 1 });
    await expectReconciled(db());
  });

  it('a task left by a dead worker on a provider since deactivated: its draw is returned and the next provider serves', async () => {
    const [gone, local] = [uniqueId('gone').toLowerCase(), uniqueId('local').toLowerCase()];
    await configureProviders(env.deps, [
      { name: gone, kind: 'kie', baseUrl: 'http://127.0.0.1:9' },
      { name: local, kind: 'local', baseUrl: 'http://localhost' },
    ]);
    const userId = await newUser(db(), 'plus');
    const { apiKey } = await apiKeyCaller(env.deps, ['enhance']);
    // Committed but not enqueued; then the state a worker killed mid-task leaves: drawn, task recorded, lease run out.
    const { enhancementId } = await submitEnhancement(
      env.deps.gateway,
      async () => undefined,
      { userId, inputImageUrl: images.inputUrl, enhancementType: 'sharpen', idempotencyKey: key() },
      { apiKeyId: apiKey.id },
    );
    const row = await rowOf(enhancementId);
    const draw = await db().transaction((tx) => drawFromPool(tx, gone, 1, { reservationId: row.reservationId }));
    const left: StoredAttempt = { provider: gone, costUsd: draw!.costUsd, task: { taskId: 'kie-left-behind' } };
    await db()
      .update(enhancementRequests)
      .set({ status: 'running', providerTask: left, leaseUntil: sql`now() - interval '1 second'` })
      .where(eq(enhancementRequests.id, row.id));
    expect(await poolTotal(db(), gone)).toBe(99);
    await db().execute(sql`update api_providers set is_active = false where name = ${gone}`);

    await enqueueSubmitted(env.deps.jobs, enhancementId, { sweep: true });
    await waitFor(async () => (await rowOf(enhancementId)).status === 'enhanced', { what: 'the work to settle' });
    expect((await rowOf(enhancementId)).result).toMatchObject({ provider: local });
    expect((await rowOf(enhancementId)).failures).toEqual([`${gone}: deactivated while its task ran`]);
    expect(await poolTotal(db(), gone)).toBe(100);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9, consumed: 1 });
    expect(await processSubmittedEnhancement(env.deps.gateway, enhancementId)).toMatch(/not claimable/);
    await expectReconciled(db());
  });
});
