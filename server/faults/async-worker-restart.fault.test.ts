import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueSubmitted } from '../jobs/enhance-jobs';
import { poolTotal } from '../pools/draw';
import { sweepSubmittedEnhancements } from '../providers/async-enhancement';
import type { StoredAttempt } from '../providers/async-worker';
import { enhancementRequests, providerCalls } from '../providers/tables';
import { apiKeyCaller, createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { startFakeProvider, startImageServer } from '../test/fake-providers';
import { balanceRow, key, newUser } from '../test/ledger-helpers';
import { configureProviders } from '../test/provider-helpers';
import { startServer } from '../test/spawn';
import { waitFor } from '../test/wait';
import { expectReconciled } from './lib/reconciled';

let env: TestEnv;
let images: Awaited<ReturnType<typeof startImageServer>>;
let fake: Awaited<ReturnType<typeof startFakeProvider>>;

beforeAll(async () => {
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true', ENHANCE_ASYNC_LEASE_SECONDS: '2' });
  images = await startImageServer();
  fake = await startFakeProvider('nanobanana');
});
afterAll(async () => {
  await fake.close();
  await images.close();
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const rowOf = async (enhancementId: string) => (await db().select().from(enhancementRequests).where(eq(enhancementRequests.enhancementId, enhancementId)))[0]!;

describe('[ASYNC] submitted work survives its worker being killed', () => {
  it('kill -9 while the provider task runs: another worker takes the lease over and resumes the same task; one task, one credit, one draw', async () => {
    const name = uniqueId('nb').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'nanobanana', baseUrl: fake.url, timeoutMs: 120_000 }]);
    fake.state.pollsBeforeDone = 1_000_000;
    const userId = await newUser(db(), 'plus');
    const { caller } = await apiKeyCaller(env.deps, ['enhance']);

    // A server process whose in-server worker takes the job; this test process works nothing yet.
    const worker = await startServer({ ...env.env, ENHANCE_ASYNC_LEASE_SECONDS: '2', ALLOW_PRIVATE_IMAGE_URLS: 'true', LOG_LEVEL: 'warn' });
    const { enhancementId } = await caller.enhance.submit({ userId, inputImageUrl: images.inputUrl, enhancementType: 'color', idempotencyKey: key() });
    await waitFor(async () => ((await rowOf(enhancementId)).providerTask as StoredAttempt | null)?.task, { timeoutMs: 60_000, what: 'the task to be recorded' });
    await waitFor(() => fake.requests.some((r) => r.path.startsWith('/api/v1/nanobanana/record-info')), { what: 'polling to start' });

    expect(await worker.stop('SIGKILL')).toBeNull();
    expect((await rowOf(enhancementId)).status).toBe('running');
    // The provider finishes the task meanwhile.
    fake.state.pollsBeforeDone = 0;

    // Once the dead worker's lease has run out, the sweeper enqueues the work for a live worker.
    await env.deps.jobs.start({ work: true });
    await waitFor(async () => (await rowOf(enhancementId)).leaseUntil!.getTime() < Date.now(), { what: 'the lease to run out' });
    expect(await sweepSubmittedEnhancements(env.deps.gateway, (id) => enqueueSubmitted(env.deps.jobs, id, { sweep: true }))).toBe(1);

    const result = await waitFor(
      async () => {
        const r = await caller.enhance.get({ enhancementId });
        return r.status === 'enhanced' || r.status === 'degraded' ? r : null;
      },
      { timeoutMs: 30_000, what: 'the resumed work to settle' },
    );
    expect(result).toEqual({ status: 'enhanced', provider: name, outputUrl: `${fake.url}/files/output.png`, costUsd: '0.010000', creditSource: 'user_credits' });
    // One task submitted, ever: the new worker polled the one the dead worker had recorded.
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(await poolTotal(db(), name)).toBe(99);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9, consumed: 1 });
    expect((await db().select().from(providerCalls).where(eq(providerCalls.requestId, enhancementId))).map((c) => c.outcome)).toEqual(['success']);
    await expectReconciled(db());
  });
});
