import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApiKey } from '../auth/api-keys';
import { cliActor } from '../auth/audit';
import { col, queryRows } from '../db/rows';
import { grantCredits } from '../ledger/admin-ops';
import { jobRuns } from '../jobs/tables';
import { createTestEnv, type TestEnv } from '../test/harness';
import { trpcHttp } from '../test/http-client';
import { balanceRow, key, newUser } from '../test/ledger-helpers';
import { startServer, type ServerProcess } from '../test/spawn';
import { expectReconciled } from './lib/reconciled';
import { startTempRedis } from './lib/temp-redis';

let redis: Awaited<ReturnType<typeof startTempRedis>>;
let env: TestEnv;
let server: ServerProcess;
const prefix = `cdfault-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  redis = await startTempRedis();
  env = await createTestEnv({ REDIS_URL: redis.url, REDIS_PREFIX: prefix });
  server = await startServer({ ...env.env, LOG_LEVEL: 'fatal', DATABASE_POOL_MAX: '10', WORKER_IN_SERVER: 'true' });
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await env.close();
  await redis.close();
});

async function schedulerCount(): Promise<number> {
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('jobs', { connection, prefix });
  const n = await queue.getJobSchedulersCount();
  await queue.close();
  connection.disconnect();
  return n;
}

describe('[FAULT] Redis stopped during load', () => {
  it('charging keeps working (the ledger lives in PostgreSQL); jobs resume when Redis returns; no job runs twice', async () => {
    const db = env.deps.dbHandle.db;
    expect(await schedulerCount()).toBeGreaterThan(5);
    const userId = await newUser(db, 'pro');
    await grantCredits(db, cliActor, { userId, credits: 10_000, reason: 'load test' });
    const { secret } = await createApiKey(db, cliActor, { name: 'redis outage', scopes: ['credits:write'] });
    const api = trpcHttp(server.url, secret);
    const consume = () => api.mutation('credits.consume', { userId, credits: 1, enhancementType: 'color', idempotencyKey: key() });

    await redis.stop();
    const duringOutage = [];
    for (let i = 0; i < 30; i++) duringOutage.push(await consume());
    expect(duringOutage.map((r) => r.status)).toEqual(Array(30).fill(200));

    await redis.start(); // empty: no persistence, like this machine's Redis
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await schedulerCount()) === 0) await sleep(250);
    expect(await schedulerCount()).toBeGreaterThan(5);

    // A job enqueued now is worked by the server's worker again.
    const jobId = await env.deps.jobs.enqueue('expire-reservations', {});
    let run: typeof jobRuns.$inferSelect | undefined;
    while (Date.now() < deadline + 20_000 && !run) {
      [run] = await db
        .select()
        .from(jobRuns)
        .where(and(eq(jobRuns.jobId, jobId), eq(jobRuns.status, 'succeeded')));
      if (!run) await sleep(250);
    }
    expect(run).toMatchObject({ status: 'succeeded', trigger: 'manual' });
    expect(run!.worker).toContain(String(server.child.pid));

    const twice = await queryRows(
      db,
      z.object({ job_id: col.text, attempt: col.integer, count: col.integer }),
      sql`select job_id, attempt, count(*) from job_runs where job_id is not null group by job_id, attempt having count(*) > 1`,
    );
    expect(twice).toEqual([]);
    expect(await balanceRow(db, userId)).toMatchObject({ total: 25 + 10_000 - 30 });
    await expectReconciled(db);
  });
});
