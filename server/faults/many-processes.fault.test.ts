import { spawn, type ChildProcess } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApiKey } from '../auth/api-keys';
import { cliActor } from '../auth/audit';
import { col, countRow, queryRows } from '../db/rows';
import { grantCredits } from '../ledger/admin-ops';
import { createTestEnv, type TestEnv } from '../test/harness';
import { trpcHttp } from '../test/http-client';
import { waitFor } from '../test/wait';
import { balanceRow, key, newUser } from '../test/ledger-helpers';
import { repoRoot, startServer, type ServerProcess } from '../test/spawn';
import { expectReconciled, pendingHolds } from './lib/reconciled';

let env: TestEnv;
let servers: ServerProcess[] = [];
const workers: ChildProcess[] = [];

beforeAll(async () => {
  env = await createTestEnv({ ENHANCE_HOLD_GRACE_SECONDS: '1' });
  const base = { ...env.env, LOG_LEVEL: 'error', DATABASE_POOL_MAX: '6', WORKER_IN_SERVER: 'false' };
  servers = await Promise.all([startServer(base), startServer(base), startServer(base)]);
  for (let i = 0; i < 2; i++) {
    workers.push(spawn(process.execPath, ['--import', 'tsx', 'server/worker.ts'], { cwd: repoRoot, env: { ...process.env, ...base }, stdio: 'ignore' }));
  }
}, 180_000);
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all(workers.map((w) => new Promise((resolve) => (w.exitCode !== null ? resolve(null) : (w.once('exit', resolve), w.kill('SIGTERM'))))));
  await env.close();
});

describe('[FAULT] three server processes and two workers against one database', () => {
  it('under concurrent load every user gets exactly their credits, holds settle once, and the workers share the jobs', async () => {
    const db = env.deps.dbHandle.db;
    const { secret } = await createApiKey(db, cliActor, { name: 'many processes', scopes: ['credits:write', 'credits:read'] });
    const users = await Promise.all(Array.from({ length: 20 }, () => newUser(db, 'free')));
    for (const userId of users) await grantCredits(db, cliActor, { userId, credits: 8, reason: 'load test' });
    const call = (i: number, path: string, input: unknown) => trpcHttp(servers[i % servers.length]!.url, secret).mutation(path, input);

    // 20 users × 12 attempts = 240 requests spread over three processes: consumes, and holds that
    // are captured, released, or left to expire.
    const results = await Promise.all(
      Array.from({ length: 240 }, async (_, i) => {
        const userId = users[i % users.length]!;
        if (i % 4 !== 3) return call(i, 'credits.consume', { userId, credits: 1, enhancementType: 'color', idempotencyKey: key() });
        // Holds that are settled live long enough for a busy machine; the abandoned ones expire soon.
        const settled = i % 8 === 3 || i % 16 === 7;
        const hold = await call(i, 'credits.reserve', { userId, credits: 1, enhancementType: 'color', idempotencyKey: key(), ttlSeconds: settled ? 600 : 5 });
        if (hold.status !== 200) return hold;
        const reservationId = hold.body.result.data.reservationId;
        if (i % 8 === 3) return call(i + 1, 'credits.capture', { reservationId, costUsd: '0.01' });
        if (i % 16 === 7) return call(i + 2, 'credits.release', { reservationId, reason: 'changed mind' });
        return hold; // left to expire
      }),
    );
    const refused = results.filter((r) => r.status !== 200);
    expect(refused.map((r) => `${r.status} ${r.body.error?.data?.reason}: ${r.body.error?.message}`).filter((r) => !r.includes('INSUFFICIENT_CREDITS'))).toEqual([]);
    for (const userId of users) expect((await balanceRow(db, userId)).total).toBeGreaterThanOrEqual(0);

    // The workers expire the abandoned holds once they are past due (the database's clock decides):
    // enqueue the job as the schedule would.
    await waitFor(
      async () => {
        const [row] = await queryRows(db, countRow, sql`select count(*)::int as n from credit_reservations where status = 'pending' and expires_at > now()`);
        return row!.n === 0;
      },
      { timeoutMs: 30_000, what: 'the abandoned holds to pass their expiry' },
    );
    const jobIds = await Promise.all([env.deps.jobs.enqueue('expire-reservations', {}), env.deps.jobs.enqueue('expire-reservations', {})]);
    await waitFor(async () => (await pendingHolds(db)) === 0, { timeoutMs: 30_000, what: 'the workers to expire every hold' });

    const runsOf = () =>
      queryRows(
        db,
        z.object({ job_id: col.text, worker: col.text }),
        sql`select job_id, worker from job_runs where status = 'succeeded' and job_id in (${sql.join(
          jobIds.map((j) => sql`${j}`),
          sql`, `,
        )})`,
      );
    // The schedule may have expired the holds first; the enqueued runs still happen, once each.
    const runs = await waitFor(
      async () => {
        const r = await runsOf();
        return r.length >= 2 && r;
      },
      { timeoutMs: 30_000, what: 'both enqueued expiry runs' },
    );
    expect(runs.length).toBe(2);
    expect(runs.every((r) => workers.some((w) => r.worker.endsWith(`:${w.pid}`)))).toBe(true);
    const twice = await queryRows(
      db,
      z.object({ job_id: col.text, attempt: col.integer }),
      sql`select job_id, attempt from job_runs where job_id is not null group by job_id, attempt having count(*) > 1`,
    );
    expect(twice).toEqual([]);

    // Each user spent at most 8, and exactly what the ledger says.
    const spent = await queryRows(
      db,
      z.object({ user_id: col.text, net: col.integer }),
      sql`select user_id, -sum(credits_delta)::int as net from credit_transactions where transaction_type in ('consumption', 'hold', 'release') group by user_id`,
    );
    for (const s of spent) {
      expect(s.net).toBeLessThanOrEqual(8);
      expect((await balanceRow(db, s.user_id)).total).toBe(8 - s.net);
    }
    await expectReconciled(db);
  });
});
