import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { col, queryOne } from '../db/rows';
import { reserveCredits } from '../ledger/reserve-credits';
import { createTestEnv, type TestEnv } from '../test/harness';
import { countEntries, expectLedgerClean, key, newUser } from '../test/ledger-helpers';
import { TEST_REDIS_URL } from '../test/pg-admin';
import { BullmqRunner } from './bullmq-runner';
import { InProcessRunner } from './in-process-runner';
import { defineJob } from './job-definition';
import { jobRuns } from './tables';
import { waitFor } from '../test/wait';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await expectLedgerClean(env.deps.dbHandle.db);
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const runsOf = (jobName: string) => db().select().from(jobRuns).where(eq(jobRuns.jobName, jobName));

const finishedRun = (jobId: string) =>
  waitFor(async () => {
    const [run] = await db()
      .select()
      .from(jobRuns)
      .where(and(eq(jobRuns.jobId, jobId), sql`${jobRuns.status} <> 'running'`));
    return run;
  });

describe('[JOBS] BullMQ runner', () => {
  beforeAll(async () => {
    await env.deps.jobs.start({ work: true });
  });

  it('runs the BullMQ mode when Redis is there, and lists every schedule with its next run', async () => {
    expect(env.deps.jobs.mode).toBe('bullmq');
    const schedules = await env.deps.jobs.schedules();
    const reset = schedules.find((s) => s.name === 'reset-monthly-credits')!;
    expect(reset.schedule).toBe('0 0 1 * *');
    expect(new Date(reset.nextRunAt!).getUTCDate()).toBe(1);
  });

  it('expire-reservations releases a hold past its expiry, recorded as a run', async () => {
    const userId = await newUser(db(), 'plus');
    const hold = await reserveCredits(db(), { userId, credits: 1, enhancementType: 'color', idempotencyKey: key() });
    await db().execute(sql`update credit_reservations set expires_at = now() - interval '1 second' where id = ${hold.reservationId}`);
    const jobId = await env.deps.jobs.enqueue('expire-reservations', {});
    const run = await finishedRun(jobId);
    expect(run).toMatchObject({ status: 'succeeded', trigger: 'manual', mode: 'bullmq' });
    expect(run.durationMs).not.toBeNull();
    expect(await countEntries(db(), userId, 'release')).toBe(1);
  });

  it('reset-monthly-credits run twice resets each due user once', async () => {
    const userId = await newUser(db(), 'pro');
    await db().execute(sql`update user_credits set last_reset_at = date_trunc('month', now(), 'UTC') - interval '2 days' where user_id = ${userId}`);
    await finishedRun(await env.deps.jobs.enqueue('reset-monthly-credits', {}));
    await finishedRun(await env.deps.jobs.enqueue('reset-monthly-credits', {}));
    expect(await countEntries(db(), userId, 'allocation')).toBe(2);
  });

  it('a payload that does not match its schema is refused when enqueued, and failed without retries when it reaches a worker', async () => {
    await expect(env.deps.jobs.enqueue('expire-reservations', { bogus: true })).rejects.toThrow();
    const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const raw = new Queue('jobs', { connection, prefix: env.redisPrefix });
    const job = await raw.add('expire-reservations', { trigger: 'manual', payload: { bogus: true } }, { attempts: 3 });
    await waitFor(async () => (await raw.getJobState(job.id!)) === 'failed');
    const failed = await env.deps.jobs.failed();
    expect(failed.find((f) => f.id === job.id)).toMatchObject({ attempts: 1, error: expect.stringContaining('invalid payload') });
    await raw.close();
    connection.disconnect();
  });

  it('an unknown job name is refused', async () => {
    await expect(env.deps.jobs.enqueue('no-such-job', {})).rejects.toThrow(/no job named/);
  });
});

describe('[JOBS] retries and workers', () => {
  it('a job that throws is retried, then marked failed with its error, and can be retried by hand', async () => {
    let calls = 0;
    const failing = defineJob({
      name: 'always-fails',
      description: 'test',
      schedule: null,
      payload: z.object({}),
      attempts: 2,
      run: async () => {
        calls++;
        throw new Error(`provider exploded #${calls}`);
      },
    });
    const runner = new BullmqRunner(env.deps, [failing], TEST_REDIS_URL, 'jobs-failing');
    await runner.start({ work: true });
    try {
      const jobId = await runner.enqueue('always-fails', {});
      await waitFor(async () => (await runner.failed()).find((f) => f.id === jobId));
      const runs = await db().select().from(jobRuns).where(eq(jobRuns.jobId, jobId));
      expect(runs.map((r) => [r.attempt, r.status])).toEqual(
        expect.arrayContaining([
          [1, 'failed'],
          [2, 'failed'],
        ]),
      );
      expect(runs.find((r) => r.attempt === 2)!.error).toBe('provider exploded #2');
      await runner.retry(jobId);
      await waitFor(async () => (await db().select().from(jobRuns).where(eq(jobRuns.jobId, jobId))).length >= 3);
    } finally {
      await runner.stop();
    }
  });

  it('two workers never run the same scheduled occurrence twice', async () => {
    const tick = defineJob({
      name: 'tick',
      description: 'test',
      schedule: '* * * * * *',
      payload: z.object({}),
      attempts: 1,
      run: async () => {
        await sleep(50);
        return { ok: true };
      },
    });
    const a = new BullmqRunner(env.deps, [tick], TEST_REDIS_URL, 'jobs-tick');
    const b = new BullmqRunner(env.deps, [tick], TEST_REDIS_URL, 'jobs-tick');
    await Promise.all([a.start({ work: true }), b.start({ work: true })]);
    await waitFor(async () => (await runsOf('tick')).filter((r) => r.status === 'succeeded').length >= 3, { what: 'three ticks' });
    await Promise.all([a.stop(), b.stop()]);
    const runs = await runsOf('tick');
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(new Set(runs.map((r) => r.jobId)).size).toBe(runs.length);
  });
});

describe('[JOBS] in-process runner without Redis', () => {
  it('runs the same handlers on croner, with run records and retries', async () => {
    let calls = 0;
    const flaky = defineJob({
      name: 'flaky',
      description: 'test',
      schedule: '* * * * * *',
      payload: z.object({}),
      attempts: 2,
      run: async () => {
        calls++;
        if (calls === 1) throw new Error('first attempt fails');
        return { calls };
      },
    });
    const runner = new InProcessRunner(env.deps, [flaky], 10);
    expect(runner.mode).toBe('in-process');
    await runner.start({ work: true });
    await waitFor(async () => (await runsOf('flaky')).some((r) => r.status === 'succeeded'), { what: 'a successful flaky run' });
    await runner.stop();
    const runs = await runsOf('flaky');
    expect(runs.find((r) => r.attempt === 1)).toMatchObject({ status: 'failed', error: 'first attempt fails', mode: 'in-process' });
    expect(runs.some((r) => r.attempt === 2 && r.status === 'succeeded')).toBe(true);
    const schedules = await runner.schedules();
    expect(schedules[0]!.nextRunAt).not.toBeNull();
  });

  it('a server without Redis reports in-process mode', async () => {
    const local = await createTestEnv({ REDIS_URL: 'off' });
    try {
      expect(local.deps.jobs.mode).toBe('in-process');
      const row = await queryOne(local.deps.dbHandle.db, z.object({ n: col.integer }), sql`select 1 as n`);
      expect(row!.n).toBe(1);
    } finally {
      await local.close();
    }
  });
});

/** A job that fails its first run and records the input each run was given. */
function failingOnce(name: string) {
  const seen: unknown[] = [];
  const def = defineJob({
    name,
    description: 'test',
    schedule: null,
    payload: z.object({ userId: z.string(), credits: z.number().int() }),
    attempts: 1,
    run: async (_deps, payload) => {
      seen.push(payload);
      if (seen.length === 1) throw new Error('first run fails');
      return { ok: true };
    },
  });
  return { def, seen };
}

const input = { userId: 'u-retry', credits: 7 };

describe('[JOBS] a job retried by hand runs with its original payload', () => {
  it('in-process: the retry of a failed run gets the payload stored with the run', async () => {
    const { def, seen } = failingOnce('retry-in-process');
    const runner = new InProcessRunner(env.deps, [def], 10);
    try {
      const jobId = await runner.enqueue(def.name, input);
      await runner.idle();
      const failed = (await runner.failed()).find((f) => f.name === def.name)!;
      expect(failed).toMatchObject({ error: 'first run fails' });
      await runner.retry(failed.id);
      await runner.idle();
      expect(seen).toEqual([input, input]);
      const runs = await db().select().from(jobRuns).where(eq(jobRuns.jobId, jobId));
      expect(runs.map((r) => [r.trigger, r.status, r.payload])).toEqual(
        expect.arrayContaining([
          ['manual', 'failed', input],
          ['retry', 'succeeded', input],
        ]),
      );
    } finally {
      await runner.stop();
    }
  });

  it('in-process: a stored payload the schema no longer accepts is refused, not run', async () => {
    const { def, seen } = failingOnce('retry-in-process-stale');
    const runner = new InProcessRunner(env.deps, [def], 10);
    try {
      await runner.enqueue(def.name, input);
      await runner.idle();
      const failed = (await runner.failed()).find((f) => f.name === def.name)!;
      await db()
        .update(jobRuns)
        .set({ payload: { userId: 'u-retry' } })
        .where(eq(jobRuns.id, Number(failed.id)));
      await expect(runner.retry(failed.id)).rejects.toMatchObject({ reason: 'BAD_REQUEST' });
      await runner.idle();
      expect(seen).toHaveLength(1);
    } finally {
      await runner.stop();
    }
  });

  it('BullMQ: the retry gets the payload, also when Redis no longer has the failed job', async () => {
    const { def, seen } = failingOnce('retry-bullmq');
    const runner = new BullmqRunner(env.deps, [def], TEST_REDIS_URL, 'jobs-retry');
    const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const raw = new Queue('jobs-retry', { connection, prefix: env.redisPrefix });
    await runner.start({ work: true });
    try {
      const jobId = await runner.enqueue(def.name, input);
      await waitFor(async () => (await runner.failed()).find((f) => f.id === jobId), { what: 'the failed job' });
      // Evicted (past removeOnFail, or a Redis restarted without persistence): only the run record is left.
      await (await raw.getJob(jobId))!.remove();
      await runner.retry(jobId);
      const retried = await waitFor(
        async () => {
          const runs = await db()
            .select()
            .from(jobRuns)
            .where(and(eq(jobRuns.jobName, def.name), eq(jobRuns.trigger, 'retry')));
          return runs.find((r) => r.status === 'succeeded');
        },
        { what: 'the retried run' },
      );
      expect(retried.payload).toEqual(input);
      expect(retried.jobId).toMatch(/^retry-\d+$/);
      expect(seen).toEqual([input, input]);
      await expect(runner.retry('no-such-job')).rejects.toThrow(/no job/);
    } finally {
      await raw.close();
      connection.disconnect();
      await runner.stop();
    }
  });

  it('BullMQ: a failed job still in Redis is retried with its data, recorded as a retry', async () => {
    const { def, seen } = failingOnce('retry-bullmq-kept');
    const runner = new BullmqRunner(env.deps, [def], TEST_REDIS_URL, 'jobs-retry-kept');
    await runner.start({ work: true });
    try {
      const jobId = await runner.enqueue(def.name, input);
      await waitFor(async () => (await runner.failed()).find((f) => f.id === jobId), { what: 'the failed job' });
      await runner.retry(jobId);
      const retried = await waitFor(
        async () => {
          const runs = await db().select().from(jobRuns).where(eq(jobRuns.jobId, jobId));
          return runs.find((r) => r.status === 'succeeded');
        },
        { what: 'the retried run' },
      );
      expect(retried).toMatchObject({ trigger: 'retry', payload: input });
      expect(seen).toEqual([input, input]);
    } finally {
      await runner.stop();
    }
  });
});
