import { Queue } from 'bullmq';
import { eq, sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { installationId } from '../db/installation';
import { createTestEnv, type TestEnv } from '../test/harness';
import { expectLedgerClean } from '../test/ledger-helpers';
import { TEST_REDIS_URL } from '../test/pg-admin';
import { waitFor } from '../test/wait';
import { BullmqRunner } from './bullmq-runner';
import { defineJob } from './job-definition';
import { jobRuns } from './tables';

// Two checkouts on one host: each its own database, both finding Redis on the default address
// and neither setting REDIS_PREFIX (the harness's prefix is blanked, which loadConfig reads as unset).
let a: TestEnv;
let b: TestEnv;
beforeAll(async () => {
  [a, b] = await Promise.all([createTestEnv({ REDIS_PREFIX: '' }), createTestEnv({ REDIS_PREFIX: '' })]);
});
afterAll(async () => {
  for (const env of [a, b]) {
    await expectLedgerClean(env.deps.dbHandle.db);
    const keys = await env.deps.redis!.keys(`${env.deps.config.REDIS_PREFIX}:*`);
    if (keys.length) await env.deps.redis!.del(...keys);
    await env.close();
  }
});

const stamp = defineJob({
  name: 'stamp',
  description: 'test: records which installation ran it',
  schedule: null,
  payload: z.object({ from: z.string() }),
  attempts: 1,
  run: async (_deps, payload) => payload,
});

/** Jobs waiting in an installation's queue, read straight from Redis under its prefix. */
async function waitingIn(env: TestEnv): Promise<number> {
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('jobs', { connection, prefix: env.deps.config.REDIS_PREFIX });
  try {
    return (await queue.getJobCounts('waiting')).waiting ?? 0;
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

const runsIn = (env: TestEnv) => env.deps.dbHandle.db.select().from(jobRuns).where(eq(jobRuns.jobName, 'stamp'));

describe('[JOBS] two installations on one host never share jobs', () => {
  it('without REDIS_PREFIX each database gets its own prefix, creditdesk:<installation id>, kept across restarts', async () => {
    const idA = await installationId(a.deps.dbHandle.db);
    expect(a.deps.config.REDIS_PREFIX).toBe(`creditdesk:${idA}`);
    expect(b.deps.config.REDIS_PREFIX).toBe(`creditdesk:${await installationId(b.deps.dbHandle.db)}`);
    expect(a.deps.config.REDIS_PREFIX).not.toBe(b.deps.config.REDIS_PREFIX);
    // Concurrent first starts agree on one id: the row is created once.
    const ids = await Promise.all(Array.from({ length: 8 }, () => installationId(a.deps.dbHandle.db)));
    expect(new Set(ids)).toEqual(new Set([idA]));
    const rows = await a.deps.dbHandle.db.execute(sql`select count(*)::int as n from installation`);
    expect(JSON.stringify(rows)).toContain('"n":1');
  });

  it('a job enqueued by one installation is worked only by that installation', async () => {
    const runnerA = new BullmqRunner(a.deps, [stamp], TEST_REDIS_URL);
    const runnerB = new BullmqRunner(b.deps, [stamp], TEST_REDIS_URL);
    try {
      // B works jobs, A only enqueues: with a shared queue B's worker would take A's job.
      await Promise.all([runnerA.start({ work: false }), runnerB.start({ work: true })]);
      const fromA = await runnerA.enqueue('stamp', { from: 'a' });
      const fromB = await runnerB.enqueue('stamp', { from: 'b' });
      await waitFor(async () => (await runsIn(b)).some((r) => r.jobId === fromB && r.status === 'succeeded'), { what: "B's own job" });
      // B has worked its queue; A's job still waits in A's queue for A's worker.
      expect((await runsIn(b)).map((r) => r.payload)).toEqual([{ from: 'b' }]);
      expect(await waitingIn(a)).toBe(1);
      await runnerA.stop();
      const workerA = new BullmqRunner(a.deps, [stamp], TEST_REDIS_URL);
      await workerA.start({ work: true });
      try {
        const [aRun] = await waitFor(
          async () => {
            const runs = await runsIn(a);
            return runs.some((r) => r.status === 'succeeded') && runs;
          },
          { what: "A's job" },
        );
        expect(aRun).toMatchObject({ jobId: fromA, payload: { from: 'a' }, result: { from: 'a' } });
        expect(await waitingIn(a)).toBe(0);
      } finally {
        await workerA.stop();
      }
      expect((await runsIn(a)).map((r) => r.payload)).toEqual([{ from: 'a' }]);
      expect((await runsIn(b)).map((r) => r.payload)).toEqual([{ from: 'b' }]);
    } finally {
      await Promise.all([runnerA.stop(), runnerB.stop()]);
    }
  });

  it('REDIS_PREFIX still overrides the installation prefix', async () => {
    const named = await createTestEnv();
    try {
      expect(named.deps.config.REDIS_PREFIX).toBe(named.redisPrefix);
    } finally {
      await named.close();
    }
  });
});
