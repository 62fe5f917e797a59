import { and, eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { enhancedResultSchema } from '../../shared/enhance';
import type { EnhanceGetResult } from '../../shared/enhance-async';
import { buildApp } from '../app';
import { countRow, queryOne } from '../db/rows';
import { badlySettledReservations, expectReconciled } from '../faults/lib/reconciled';
import { allJobs } from '../jobs/all-jobs';
import { creditReservations } from '../ledger/tables';
import { expireReservations } from '../ledger/release-reservation';
import { poolTotal } from '../pools/draw';
import { apiKeyCaller, createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { startFakeProvider, startImageServer, type FakeKind } from '../test/fake-providers';
import { balanceRow, countEntries, key, newUser, reasonOf } from '../test/ledger-helpers';
import { configureProviders } from '../test/provider-helpers';
import { waitFor } from '../test/wait';
import { enhancementRequests, providerCalls } from './tables';

let env: TestEnv;
let app: FastifyInstance;
let images: Awaited<ReturnType<typeof startImageServer>>;
let client: Awaited<ReturnType<typeof apiKeyCaller>>;
const fakes: Awaited<ReturnType<typeof startFakeProvider>>[] = [];

beforeAll(async () => {
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true', ENHANCE_ASYNC_LEASE_SECONDS: '2' });
  app = await buildApp(env.deps);
  const origin = await app.listen({ port: 0, host: '127.0.0.1' });
  // The providers call back to this server: PUBLIC_URL is where it listens.
  env.deps.gateway.callbackBase = `${origin}/callbacks`;
  images = await startImageServer();
  client = await apiKeyCaller(env.deps, ['enhance']);
  // The BullMQ workers of this process run the submitted work.
  await env.deps.jobs.start({ work: true });
});
afterEach(async () => {
  await waitFor(
    async () =>
      (
        await db()
          .select()
          .from(enhancementRequests)
          .where(sql`${enhancementRequests.status} in ('queued','running')`)
      ).length === 0,
    { what: 'submitted work to settle' },
  );
  await expectReconciled(db());
});
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  await images.close();
  await app.close();
  await env.close();
});

const db = () => env.deps.dbHandle.db;
async function fake(kind: FakeKind) {
  const f = await startFakeProvider(kind);
  fakes.push(f);
  return f;
}
async function oneProvider(kind: FakeKind | 'local', opts: { timeoutMs?: number } = {}) {
  const name = uniqueId(kind).toLowerCase();
  const f = kind === 'local' ? null : await fake(kind);
  await configureProviders(env.deps, [{ name, kind, baseUrl: f?.url ?? 'http://localhost', timeoutMs: opts.timeoutMs ?? 10_000 }]);
  return { name, f };
}
const input = (userId: string, idempotencyKey = key()) => ({ userId, inputImageUrl: images.inputUrl, enhancementType: 'upscale' as const, idempotencyKey });
const submit = (userId: string, idempotencyKey?: string, caller = client.caller) => caller.enhance.submit(input(userId, idempotencyKey));
async function settled(enhancementId: string, caller = client.caller): Promise<EnhanceGetResult> {
  return waitFor(
    async () => {
      const r = await caller.enhance.get({ enhancementId });
      return r.status === 'queued' || r.status === 'running' ? null : r;
    },
    { timeoutMs: 30_000, what: `enhancement ${enhancementId} to settle` },
  );
}
const captures = async (reservationId: string) =>
  (await queryOne(db(), countRow, sql`select count(*)::int as n from credit_transactions where reservation_id = ${reservationId} and transaction_type = 'capture'`))!.n;
const rowOf = async (enhancementId: string) => (await db().select().from(enhancementRequests).where(eq(enhancementRequests.enhancementId, enhancementId)))[0]!;

describe('[ASYNC] enhance.submit answers at once; the job workers do the work; enhance.get reads it', () => {
  it('through the local provider: queued at once, then exactly the result shape enhance.run gives, one credit charged', async () => {
    const { name } = await oneProvider('local');
    const userId = await newUser(db(), 'plus');
    const answer = await submit(userId);
    expect(answer).toEqual({ enhancementId: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'queued' });
    const early = await client.caller.enhance.get({ enhancementId: answer.enhancementId });
    expect(['queued', 'running', 'enhanced']).toContain(early.status);
    const result = await settled(answer.enhancementId);
    expect(enhancedResultSchema.strict().parse(result)).toMatchObject({ status: 'enhanced', provider: name, costUsd: '0.000000', creditSource: 'user_credits' });
    const run = await client.caller.enhance.run(input(userId));
    expect(Object.keys(result).sort()).toEqual(Object.keys(run).sort());
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 8, consumed: 2 });
  });

  it('only the API key that submitted an enhancement reads it; another is NOT_FOUND', async () => {
    await oneProvider('local');
    const userId = await newUser(db(), 'plus');
    const { enhancementId } = await submit(userId);
    const other = await apiKeyCaller(env.deps, ['enhance']);
    expect(await reasonOf(other.caller.enhance.get({ enhancementId }))).toBe('NOT_FOUND');
    await settled(enhancementId);
  });

  it('a replayed submit gives the same enhancementId and charges nothing more; another input under the key is a conflict', async () => {
    await oneProvider('local');
    const userId = await newUser(db(), 'plus');
    const k = key();
    const [a, b] = await Promise.all([submit(userId, k), submit(userId, k)]);
    expect(b.enhancementId).toBe(a.enhancementId);
    await settled(a.enhancementId);
    expect(await submit(userId, k)).toEqual({ enhancementId: a.enhancementId, status: 'enhanced' });
    expect(await reasonOf(client.caller.enhance.submit({ ...input(userId, k), enhancementType: 'color' }))).toBe('IDEMPOTENCY_CONFLICT');
    // enhance.run with the same key and input returns the submitted work's result.
    expect(await client.caller.enhance.run(input(userId, k))).toEqual(await client.caller.enhance.get({ enhancementId: a.enhancementId }));
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9, consumed: 1 });
    expect(await countEntries(db(), userId, 'hold')).toBe(1);
  });

  it('a free user past the allowance is refused at submit, as enhance.run refuses; nothing is recorded', async () => {
    await oneProvider('local');
    const userId = await newUser(db(), 'free');
    const k = key();
    expect(await reasonOf(submit(userId, k))).toBe('INSUFFICIENT_CREDITS');
    expect(await db().select().from(enhancementRequests).where(eq(enhancementRequests.idempotencyKey, k))).toEqual([]);
  });

  it('an input that is not an image ends failed (BAD_REQUEST), its hold released', async () => {
    await oneProvider('local');
    const userId = await newUser(db(), 'plus');
    const { enhancementId } = await client.caller.enhance.submit({ ...input(userId), inputImageUrl: `${images.url}/not-image` });
    expect(await settled(enhancementId)).toMatchObject({ status: 'failed', reason: 'BAD_REQUEST', message: expect.stringMatching(/not a supported image/) });
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 10, consumed: 0 });
  });
});

describe('[ASYNC] providers that call back settle through the callback; the poll is the fallback', () => {
  it.each(['nanobanana', 'fal', 'kie'] as const)('%s: the callback settles a task that polling would never see finish', async (kind) => {
    const { name, f } = await oneProvider(kind);
    f!.state.callBack = true;
    f!.state.pollsBeforeDone = 1_000_000;
    const userId = await newUser(db(), 'plus');
    const { enhancementId } = await submit(userId);
    const result = await settled(enhancementId);
    expect(result).toEqual({ status: 'enhanced', provider: name, outputUrl: `${f!.url}/files/output.png`, costUsd: '0.010000', creditSource: 'user_credits' });
    // The fake records our answer once it has read it.
    await waitFor(() => f!.callbacks.length > 0, { what: 'the callback answer' });
    expect(f!.callbacks).toEqual([expect.objectContaining({ status: 200 })]);
    const hook = f!.callbackUrls.values().next().value as string;
    expect(hook).toMatch(new RegExp(`/callbacks/${name}/${enhancementId}\\?token=[A-Za-z0-9_-]{43}$`));
    // The token is stored only as its hash.
    expect((await rowOf(enhancementId)).callbackTokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(await rowOf(enhancementId))).not.toContain(new URL(hook).searchParams.get('token'));
    expect(f!.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(await poolTotal(db(), name)).toBe(99);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9, consumed: 1 });
    expect((await db().select().from(providerCalls).where(eq(providerCalls.requestId, enhancementId))).map((c) => c.outcome)).toEqual(['success']);
  });

  it('NanoBanana without a callback: record-info with its running empty strings is polled until done', async () => {
    const { name, f } = await oneProvider('nanobanana');
    f!.state.emptyStringsWhileRunning = true;
    const userId = await newUser(db(), 'plus');
    const { enhancementId } = await submit(userId);
    expect(await settled(enhancementId)).toMatchObject({ status: 'enhanced', provider: name });
    expect(f!.callbacks).toEqual([]);
  });

  it('a failure reported by callback is left to the poll, which refunds the pool and degrades; nothing charged', async () => {
    const { name, f } = await oneProvider('fal');
    f!.state.callBack = true;
    f!.state.callbackFails = true;
    f!.state.behaviour = 'fail_job';
    const userId = await newUser(db(), 'plus');
    const { enhancementId } = await submit(userId);
    expect(await settled(enhancementId)).toMatchObject({ status: 'degraded', degradationReason: expect.stringMatching(/content checker/) });
    await waitFor(() => f!.callbacks.length > 0, { what: 'the callback answer' });
    expect(f!.callbacks).toEqual([expect.objectContaining({ status: 202 })]);
    expect(await poolTotal(db(), name)).toBe(100);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 10, consumed: 0 });
  });

  it('a callback and a poll racing settle each enhancement once: one capture, one pool draw, one result', async () => {
    const { name, f } = await oneProvider('kie');
    f!.state.callBack = true;
    f!.state.pollsBeforeDone = 0;
    const userId = await newUser(db(), 'pro');
    const ids = await Promise.all(Array.from({ length: 6 }, () => submit(userId).then((a) => a.enhancementId)));
    for (const id of ids) expect(await settled(id)).toMatchObject({ status: 'enhanced', provider: name });
    for (const id of ids) expect(await captures((await rowOf(id)).reservationId!)).toBe(1);
    expect(await poolTotal(db(), name)).toBe(94);
    expect(await balanceRow(db(), userId)).toMatchObject({ consumed: 6 });
    expect(await badlySettledReservations(db())).toEqual([]);
  });
});

describe('[ASYNC] the hold outlives long provider tasks', () => {
  it('each attempt extends the hold by its timeout plus the grace, so the expiry job does not release it mid-task', async () => {
    const { f } = await oneProvider('nanobanana', { timeoutMs: 600_000 });
    f!.state.pollsBeforeDone = 1_000_000;
    const userId = await newUser(db(), 'plus');
    const { enhancementId } = await submit(userId);
    await waitFor(() => f!.requests.some((r) => r.path.startsWith('/api/v1/nanobanana/record-info')), { what: 'polling to start' });
    const [hold] = await db()
      .select()
      .from(creditReservations)
      .where(eq(creditReservations.id, (await rowOf(enhancementId)).reservationId!));
    // Sized when submitted: the queue allowance, this provider's 600 s, and the grace; the attempt keeps at least 600 s + grace ahead.
    expect(hold!.expiresAt.getTime()).toBeGreaterThan(Date.now() + (600 + 60 - 5) * 1000);
    expect(await expireReservations(db())).toBe(0);
    const hook = f!.callbackUrls.values().next().value as string;
    expect(hook).toContain(enhancementId);
    // The provider finishes after the longest wait a poll allows: its callback still captures the live hold.
    await f!.sendCallback([...f!.callbackUrls.keys()][0]!);
    expect(await settled(enhancementId)).toMatchObject({ status: 'enhanced' });
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9, consumed: 1 });
  });

  it('a hold that expired before the work began charges nothing: the enhancement degrades', async () => {
    await oneProvider('local');
    const userId = await newUser(db(), 'plus');
    // Stop this process's workers so the submission waits, then expire its hold as the job would after an hour.
    await env.deps.jobs.stop();
    try {
      const { enhancementId } = await submit(userId);
      const row = await rowOf(enhancementId);
      await db()
        .update(creditReservations)
        .set({ expiresAt: sql`now() - interval '1 second'` })
        .where(eq(creditReservations.id, row.reservationId!));
      expect(await expireReservations(db())).toBe(1);
      const { processSubmittedEnhancement } = await import('./async-worker');
      expect(await processSubmittedEnhancement(env.deps.gateway, enhancementId)).toBe('settled: degraded');
      expect(await client.caller.enhance.get({ enhancementId })).toMatchObject({ status: 'degraded', degradationReason: expect.stringMatching(/hold expired/) });
      expect(await balanceRow(db(), userId)).toMatchObject({ total: 10, consumed: 0 });
    } finally {
      env.deps.jobs = new (await import('../jobs/bullmq-runner')).BullmqRunner(env.deps, allJobs, env.env.REDIS_URL!);
      await env.deps.jobs.start({ work: true });
    }
  });
});

describe('[ASYNC] the sweeper enqueues submitted work whose job vanished', () => {
  it('a queued row nobody enqueued (the process died between commit and enqueue) is picked up and settled', async () => {
    await oneProvider('local');
    const userId = await newUser(db(), 'plus');
    const { submitEnhancement, sweepSubmittedEnhancements } = await import('./async-enhancement');
    const { enqueueSubmitted } = await import('../jobs/enhance-jobs');
    // Committed, then the enqueue "never happened".
    const lost = await submitEnhancement(env.deps.gateway, async () => undefined, input(userId), { apiKeyId: client.apiKey.id });
    expect((await rowOf(lost.enhancementId)).status).toBe('queued');
    expect(await sweepSubmittedEnhancements(env.deps.gateway, (id) => enqueueSubmitted(env.deps.jobs, id, { sweep: true }), { queuedGraceSeconds: 0 })).toBeGreaterThanOrEqual(1);
    expect(await settled(lost.enhancementId)).toMatchObject({ status: 'enhanced' });
    expect(
      await db()
        .select()
        .from(enhancementRequests)
        .where(and(eq(enhancementRequests.enhancementId, lost.enhancementId), eq(enhancementRequests.status, 'enhanced'))),
    ).toHaveLength(1);
  });
});
