import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRow, queryOne } from '../db/rows';
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
import { hashToken, processSubmittedEnhancement, type StoredAttempt } from './async-worker';
import { settleFromCallback } from './callbacks';
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
/** Makes the database refuse `op` on `table` for rows that match `when` (the trigger's condition) while `run` runs. */
async function refusingWrites<T>(table: string, op: 'insert' | 'update', when: string, run: () => Promise<T>): Promise<T> {
  const fn = `refuse_${op}_${Math.floor(Math.random() * 1e9)}`;
  await db().execute(
    sql.raw(`create function ${fn}() returns trigger language plpgsql as $$ begin raise exception '${op} on ${table} refused in this test'; end $$;
      create trigger ${fn} before ${op} on ${table} for each row when (${when}) execute function ${fn}();`),
  );
  try {
    return await run();
  } finally {
    await db().execute(sql.raw(`drop trigger ${fn} on ${table}; drop function ${fn}();`));
  }
}
/** Makes the database refuse updates of one enhancement's row that match `when` (the trigger's condition) while `run` runs. */
const refusingRowUpdates = <T>(id: number, when: string, run: () => Promise<T>) => refusingWrites('enhancement_requests', 'update', `new.id = ${id} and (${when})`, run);
/** Makes the database refuse every refund to `provider`'s pool while `run` runs. */
const refusingPoolRefunds = <T>(provider: string, run: () => Promise<T>) =>
  refusingWrites('credit_pool_transactions', 'insert', `new.provider = '${provider}' and new.transaction_type = 'refund'`, run);
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
/** One fal provider of its own (a fake on 127.0.0.1) and work submitted for it, not enqueued. */
async function falWork() {
  const f = await startFakeProvider('fal');
  fakes.push(f);
  const name = uniqueId('fal').toLowerCase();
  await configureProviders(env.deps, [{ name, kind: 'fal', baseUrl: f.url }]);
  const { userId, enhancementId } = await submitUnqueued();
  return { f, name, userId, enhancementId, row: await rowOf(enhancementId) };
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
/** Holds `table` locked against every reader (the lock PostgreSQL queues them behind) until the returned release is called. */
async function lockingTable(table: string): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const held = db().transaction(async (tx) => {
    await tx.execute(sql.raw(`lock table ${table} in access exclusive mode`));
    locked();
    await released;
  });
  await Promise.race([isLocked, held]);
  return async () => {
    release();
    await held;
  };
}
/** Whether a statement that reads `like` is waiting for a lock. */
const waitingOnLock = async (like: string) => (await queryOne(db(), countRow, sql`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like ${like}`))!.n > 0;
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
    const { f, name, userId, enhancementId, row } = await falWork();
    f.state.behaviour = 'error500';
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
    const { f, name, userId, enhancementId, row } = await falWork();
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

  it('[LEDGER] a worker that dies right after its pool draw leaves no draw behind: the draw and its record on the row commit together', async () => {
    const { f, name, userId, enhancementId, row } = await falWork();
    // What a crash just after the draw leaves: nothing the worker would do next happens, neither the
    // draw recorded on the row nor (a process that is gone) any giving back of it.
    await refusingPoolRefunds(name, () =>
      refusingRowUpdates(row.id, 'old.provider_task is null and new.provider_task is not null', () => expect(processSubmittedEnhancement(env.deps.gateway, enhancementId)).rejects.toThrow()),
    );
    expect(f.requests).toHaveLength(0);
    expect((await rowOf(enhancementId)).providerTask).toBeNull();
    // No draw recorded on the row: none stands in the pool.
    expect(await poolTotal(db(), name)).toBe(100);
    // The worker taking the work over draws (once) and is served: one draw stands.
    expect(await processSubmittedEnhancement(env.deps.gateway, enhancementId)).toBe('settled: enhanced');
    expect(await poolTotal(db(), name)).toBe(99);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 9, consumed: 1 });
    await expectReconciled(db());
  });

  it('[LEDGER] a callback for a task whose draw the worker refunded settles nothing, though it passed its token check before the refund', async () => {
    const [kf, ff] = [await startFakeProvider('kie'), await startFakeProvider('fal')];
    fakes.push(kf, ff);
    // The kie task fails when it is polled (after a while: the callback gets in first); fal serves.
    kf.state.behaviour = 'error500';
    kf.state.delayMs = 1500;
    ff.state.delayMs = 200;
    const [kie, fal] = [uniqueId('kie').toLowerCase(), uniqueId('fal').toLowerCase()];
    await configureProviders(env.deps, [
      { name: kie, kind: 'kie', baseUrl: kf.url, timeoutMs: 10_000 },
      { name: fal, kind: 'fal', baseUrl: ff.url, timeoutMs: 10_000 },
    ]);
    const { userId, enhancementId } = await submitUnqueued();
    const row = await leaveTaskBehind(enhancementId, kie);
    const token = 'the-kie-attempts-token';
    await db()
      .update(enhancementRequests)
      .set({ callbackTokenHash: hashToken(token) })
      .where(eq(enhancementRequests.id, row.id));

    // A worker takes the work over and polls the kie task.
    const working = processSubmittedEnhancement(env.deps.gateway, enhancementId);
    await waitFor(() => kf.requests.length > 0, { intervalMs: 10, what: 'the kie task to be polled' });
    // Kie reports the task done: the callback passes its token check, then is held before it settles.
    const release = await lockingTable('api_providers');
    let callback: ReturnType<typeof settleFromCallback>;
    try {
      const body = { code: 200, msg: 'done', data: { taskId: 'kie-left-behind', state: 'success', resultJson: JSON.stringify({ resultUrls: [`${kf.url}/files/output.png`] }), failMsg: '' } };
      callback = settleFromCallback(env.deps.gateway, { provider: kie, enhancementId, token, body });
      await waitFor(() => waitingOnLock('%from api_providers where name%'), { intervalMs: 10, what: 'the callback to pass its token check' });
      // Meanwhile the poll fails: the kie draw is refunded (the row forgets the task) and fal is drawn.
      await waitFor(async () => ((await rowOf(enhancementId)).providerTask as StoredAttempt | null)?.provider === fal, { intervalMs: 10, what: 'the next attempt' });
      expect(await poolTotal(db(), kie)).toBe(100);
    } finally {
      await release();
    }
    // The row no longer holds the kie task: its callback settles nothing.
    expect(await callback).toEqual({ status: 409, detail: 'not the attempt in flight' });
    expect(await working).toBe('settled: enhanced');
    expect((await rowOf(enhancementId)).result).toMatchObject({ status: 'enhanced', provider: fal });
    expect(await poolTotal(db(), kie)).toBe(100);
    expect(await poolTotal(db(), fal)).toBe(99);
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
