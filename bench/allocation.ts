import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { optimizeAllocation } from '../server/analytics/reallocation';
import { SecretBox } from '../server/auth/secrets';
import { openDb, type DbHandle } from '../server/db/client';
import { checkPools } from '../server/pools/reconcile';
import { expectedAllocation, seedAllocationUsers, undoAllocation } from './allocation/seed';
import { envInt, log, type Benchmark } from './lib/benchmark';
import { createBenchDb, type BenchDb } from './lib/bench-db';
import { tuneForLoad } from './lib/bulk-load';
import { timedOnceCase, type CaseReport } from './lib/results';
import { createFundedPool } from './lib/seed';
import { median, round } from './lib/stats';

const DEFAULT_USERS = 1_000_000;
const GOAL_MS = 10_000;
const POOL = 'bench-realloc';

const allocation: Benchmark = {
  name: 'allocation',
  description: 'optimizeAllocation() (upgrade suggestions and idle allowance to the pool) over a million users',
  async run() {
    const users = envInt('BENCH_USERS', DEFAULT_USERS);
    const runs = envInt('BENCH_ALLOC_RUNS', 3);
    log(`settings: ${users} users (BENCH_USERS${users === DEFAULT_USERS ? '' : `, default ${DEFAULT_USERS}`}), ${runs} timed runs (BENCH_ALLOC_RUNS)`);
    let db: BenchDb | undefined;
    let handle: DbHandle | undefined;
    let sql: postgres.Sql | undefined;
    const dropOnSignal = () => void db?.drop().finally(() => process.exit(130));
    process.once('SIGINT', dropOnSignal);
    try {
      db = await createBenchDb();
      log(`  database ${db.name} created and migrated`);
      sql = postgres(db.url, { max: 1, onnotice: () => {} });
      handle = await openDb({ databaseUrl: db.url, dataDir: db.dataDir, maxConnections: 2 });
      await createFundedPool(handle.db, new SecretBox(randomBytes(32)), POOL, 0);

      // Idle means reset more than N days ago within this month: N fits the day of the month, at most the default 14.
      const monthStart = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
      const idleDays = Math.max(0, Math.min(14, Math.floor((Date.now() - monthStart) / 86_400_000 - 0.01)));
      await sql`update platform_settings set reallocation_idle_days = ${idleDays}, reallocation_pool = ${POOL} where id = 1`;

      await tuneForLoad(sql);
      let t0 = performance.now();
      await seedAllocationUsers(sql, users);
      const seedMs = performance.now() - t0;
      const [{ rows } = { rows: 0 }] = await sql<{ rows: number }[]>`select count(*)::int as rows from credit_transactions`;
      const expected = await expectedAllocation(sql);
      log(
        `  seeded ${users} users and ${rows} ledger rows in ${(seedMs / 1000).toFixed(1)} s; expecting ${expected.heavy} upgrade suggestions ` +
          `and ${expected.idle} idle users (${expected.credits} credits) to move (idle after ${idleDays} days this month)`,
      );
      await undoAllocation(sql, POOL);

      const times: number[] = [];
      for (let i = 1; i <= runs; i++) {
        if (i > 1) await undoAllocation(sql, POOL);
        t0 = performance.now();
        const result = await optimizeAllocation(handle.db);
        const ms = performance.now() - t0;
        times.push(ms);
        log(
          `  run ${i}/${runs}: ${(ms / 1000).toFixed(2)} s — ${result.upgradeSuggestions} suggestions, ${result.usersReallocated} users, ` + `${result.creditsReallocated} credits to ${result.pool}`,
        );
        if (result.upgradeSuggestions !== expected.heavy || result.usersReallocated !== expected.idle || result.creditsReallocated !== expected.credits) {
          throw new Error(`optimizeAllocation found ${JSON.stringify(result)}, expected ${JSON.stringify(expected)}`);
        }
      }
      const pools = await checkPools(handle.db);
      if (!pools.ok) throw new Error(`checkPools: ${JSON.stringify(pools.offenders)}`);

      const ms = median(times)!;
      return [
        timedOnceCase(`seed ${users.toLocaleString('en-US')} users + ${rows.toLocaleString('en-US')} ledger rows (SQL, indexes rebuilt)`, seedMs, rows),
        {
          case: `optimizeAllocation(), ${users.toLocaleString('en-US')} users (${expected.heavy} suggestions, ${expected.idle} idle moved)`,
          clients: null,
          throughput_per_s: round((users * 1000) / ms, 0),
          p50_ms: round(ms, 0),
          p95_ms: null,
          p99_ms: null,
          floor_per_s: null,
          ratio: null,
          goal: { text: `median <= ${GOAL_MS / 1000} s`, met: ms <= GOAL_MS },
        },
      ] satisfies CaseReport[];
    } finally {
      process.off('SIGINT', dropOnSignal);
      await sql?.end({ timeout: 5 });
      await handle?.close();
      await db?.drop();
    }
  },
};

export default allocation;
