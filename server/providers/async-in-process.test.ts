import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessRunner } from '../jobs/in-process-runner';
import { enqueueSubmitted } from '../jobs/enhance-jobs';
import { drawFromPool, poolTotal } from '../pools/draw';
import { expectReconciled } from '../faults/lib/reconciled';
import { apiKeyCaller, createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { startFakeProvider, startImageServer } from '../test/fake-providers';
import { balanceRow, key, newUser } from '../test/ledger-helpers';
import { configureProviders } from '../test/provider-helpers';
import { waitFor } from '../test/wait';
import { submitEnhancement } from './async-enhancement';
import { finaliseEnhancement } from './finalise';
import { processSubmittedEnhancement, type StoredAttempt } from './async-worker';
import { enhancementRequests } from './tables';
import { enhanceInputSchema } from '../../shared/enhance';

let env: TestEnv;
let images: Awaited<ReturnType<typeof startImageServer>>;
const fakes: Awaited<ReturnType<typeof startFakeProvider>>[] = [];

beforeAll(async () => {
  // No Redis: the server's own in-process runner works the jobs.
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true', REDIS_URL: 'off' });
  images = await startImageServer();
});
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  await images.close();
  await env.close();
});

const db = () => env.deps.dbHandle.db;
/** Makes the database refuse updates of one enhancement's row that match `when` (the trigger's condition) while `run` runs. */
async function refusingRowUpdates<T>(id: number, when: string, run: () => Promise<T>): Promise<T> {
  const fn = `refuse_row_${id}_${Math.floor(Math.random() * 1e9)}`;
  await db().execute(
    sql.raw(`create function ${fn}() returns trigger language plpgsql as $$ begin raise exception 'row update refused in this test'; end $$;
      create trigger ${fn} before update on enhancement_requests for each row when (new.id = ${id} and (${when})) execute function ${fn}();`),
  );
  try {
    return await run();
  } finally {
    await db().execute(sql.raw(`drop trigger ${fn} on enhancement_requests; drop function ${fn}();`));
  }
}
/** A plus user's enhancement submitted and committed but not enqueued: the state a job finds. */
async function submitUnqueued() {
  const userId = await newUser(db(), 'plus');
  const { apiKey } = await apiKeyCaller(env.deps, ['enhance']);
  const { enhancementId } = await submitEnhancement(
    env.deps.gateway,
    async () => undefined,
    { userId, inputImageUrl: images.inputUrl, enhancementType: 'sharpen', idempotencyKey: key() },
    { apiKeyId: apiKey.id },
  );
  return { userId, enhancementId };
}
/** The state a worker killed mid-task leaves: `provider`'s pool drawn, its task recorded, the lease run out. */
async function leaveTaskBehind(enhancementId: string, provider: string) {
  const row = await rowOf(enhancementId);
  const draw = await db().transaction((tx) => drawFromPool(tx, provider, 1, { reservationId: row.reservationId }));
  const left: StoredAttempt = { provider, costUsd: draw!.costUsd, task: { taskId: 'kie-left-behind' } };
  await db()
    .update(enhancementRequests)
    .set({ status: 'running', providerTask: left, leaseUntil: sql`now() - interval '1 second'` })
    .where(eq(enhancementRequests.id, row.id));
  return row;
}
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
    const { userId, enhancementId } = await submitUnqueued();
    await leaveTaskBehind(enhancementId, gone);
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

  it('[LEDGER] a deactivated task whose row could not be updated after its refund is not refunded again by the retry', async () => {
    const [gone, local] = [uniqueId('gone').toLowerCase(), uniqueId('local').toLowerCase()];
    await configureProviders(env.deps, [
      { name: gone, kind: 'kie', baseUrl: 'http://127.0.0.1:9' },
      { name: local, kind: 'local', baseUrl: 'http://localhost' },
    ]);
    const { userId, enhancementId } = await submitUnqueued();
    const row = await leaveTaskBehind(enhancementId, gone);
    await db().execute(sql`update api_providers set is_active = false where name = ${gone}`);
    // Recording the abandoned task on the row fails, as it would with the database away.
    await refusingRowUpdates(row.id, 'new.failures is distinct from old.failures', () => expect(processSubmittedEnhancement(env.deps.gateway, enhancementId)).rejects.toThrow());
    // The job's retry takes it over and finishes it: the one draw was returned once.
    expect(await processSubmittedEnhancement(env.deps.gateway, enhancementId)).toBe('settled: enhanced');
    expect((await rowOf(enhancementId)).result).toMatchObject({ provider: local });
    expect(await poolTotal(db(), gone)).toBe(100);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9, consumed: 1 });
    await expectReconciled(db());
  });

  it('[LEDGER] a failed attempt whose failure could not be recorded after its refund: the retry neither refunds it again nor calls on the refunded draw', async () => {
    const f = await startFakeProvider('fal');
    fakes.push(f);
    f.state.behaviour = 'error500';
    const name = uniqueId('fal').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: f.url }]);
    const { userId, enhancementId } = await submitUnqueued();
    const row = await rowOf(enhancementId);
    // The attempt fails and its draw is refunded; then recording the failure on the row fails.
    await refusingRowUpdates(row.id, 'new.failures is distinct from old.failures', () => expect(processSubmittedEnhancement(env.deps.gateway, enhancementId)).rejects.toThrow());
    expect(await poolTotal(db(), name)).toBe(100);
    // The job's retry takes it over: the provider fails again and the enhancement degrades.
    expect(await processSubmittedEnhancement(env.deps.gateway, enhancementId)).toBe('settled: degraded');
    expect(await poolTotal(db(), name)).toBe(100);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 10, consumed: 0 });
    await expectReconciled(db());
  });

  it('[LEDGER] an attempt whose draw could not be recorded on the row returns the draw before it fails', async () => {
    const f = await startFakeProvider('fal');
    fakes.push(f);
    const name = uniqueId('fal').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: f.url }]);
    const { userId, enhancementId } = await submitUnqueued();
    const row = await rowOf(enhancementId);
    // The pool is drawn; persisting that draw on the row (before the provider is called) fails.
    await refusingRowUpdates(row.id, 'old.provider_task is null and new.provider_task is not null', () => expect(processSubmittedEnhancement(env.deps.gateway, enhancementId)).rejects.toThrow());
    expect(f.requests).toHaveLength(0);
    expect(await poolTotal(db(), name)).toBe(100);
    // The job's retry draws afresh and is served: one draw stands.
    expect(await processSubmittedEnhancement(env.deps.gateway, enhancementId)).toBe('settled: enhanced');
    expect(await poolTotal(db(), name)).toBe(99);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9, consumed: 1 });
    await expectReconciled(db());
  });

  it('[LEDGER] an attempt that fails after a provider callback settled the work (before the lease noticed) keeps the draw the capture paid with', async () => {
    const f = await startFakeProvider('fal');
    fakes.push(f);
    // The submission is answered 500 after a while: long enough for the callback to settle first,
    // short enough to come before the lease's first renewal (a second) notices it.
    f.state.behaviour = 'error500';
    f.state.delayMs = 600;
    const name = uniqueId('fal').toLowerCase();
    await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: f.url }]);
    const { userId, enhancementId } = await submitUnqueued();
    const working = processSubmittedEnhancement(env.deps.gateway, enhancementId);
    const attempt = await waitFor(async () => (await rowOf(enhancementId)).providerTask as StoredAttempt | null, { intervalMs: 10, what: 'the draw to be recorded' });
    const row = await rowOf(enhancementId);
    // What settleFromCallback does with a provider's "done".
    const done = await finaliseEnhancement(
      env.deps.gateway,
      { claimId: row.id, input: enhanceInputSchema.parse(row.input), image: null, hold: { reservationId: row.reservationId!, source: 'user_credits' } },
      { kind: 'served', provider: name, outputUrl: `${f.url}/files/output.png`, providerRequestId: 'fal-1', requestId: enhancementId, costUsd: attempt.costUsd ?? '0.000000' },
    );
    expect(done.settledNow).toBe(true);
    expect(await working).toMatch(/settled/);
    expect((await rowOf(enhancementId)).result).toMatchObject({ status: 'enhanced', provider: name });
    // Served and captured at the draw's cost: the draw stands.
    expect(await poolTotal(db(), name)).toBe(99);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9, consumed: 1 });
    await expectReconciled(db());
  });
});
