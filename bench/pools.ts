import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { SecretBox } from '../server/auth/secrets';
import { openDb, type DbHandle } from '../server/db/client';
import { checkLedger } from '../server/ledger/reconcile';
import { checkPools } from '../server/pools/reconcile';
import { envInt, log, type Benchmark } from './lib/benchmark';
import { createBenchDb, type BenchDb } from './lib/bench-db';
import type { CaseReport } from './lib/results';
import { cpuText, runRounds, summarizeRuns, type RoundMode } from './lib/rounds';
import { BIG_ALLOWANCE, createFundedPool, createUsers, setBalances, uncapOverflow } from './lib/seed';
import { round } from './lib/stats';
import { consumeOp, createHotRowTables, drawOp, hotRowFloorOp, oneStatementDrawOp, requestPathOp } from './pools/ops';

const CLIENTS = 64;
/** Far more than a run draws (a few thousand a second for a few minutes), within the pool's limits. */
const POOL_CREDITS = 100_000_000;
const HOT_POOL = 'bench-hot';
const GOAL = 0.8;

const pools: Benchmark = {
  name: 'pools',
  description: `pool draws at ${CLIENTS} clients on ONE pool vs consumeCredits on distinct users, with the raw-SQL single-hot-row floor`,
  async run() {
    const s = { rounds: envInt('BENCH_ROUNDS', 3), seconds: envInt('BENCH_SECONDS', 5), warmupSeconds: 1 };
    log(`settings: ${s.rounds} rounds x ${s.seconds} s per case after 1 s of warm-up (BENCH_ROUNDS, BENCH_SECONDS), ${CLIENTS} clients`);
    let db: BenchDb | undefined;
    let handle: DbHandle | undefined;
    const dropOnSignal = () => void db?.drop().finally(() => process.exit(130));
    process.once('SIGINT', dropOnSignal);
    try {
      db = await createBenchDb();
      log(`  database ${db.name} created and migrated`);
      handle = await openDb({ databaseUrl: db.url, dataDir: db.dataDir, maxConnections: 4 });
      const secrets = new SecretBox(randomBytes(32));
      const allowanceUsers = await createUsers(handle.db, 'bench-allow', CLIENTS, 'pro');
      await setBalances(handle.db, 'bench-allow', BIG_ALLOWANCE);
      const overflowUsers = await createUsers(handle.db, 'bench-over', CLIENTS, 'pro');
      await setBalances(handle.db, 'bench-over', 0);
      await uncapOverflow(handle.db);
      await createFundedPool(handle.db, secrets, HOT_POOL, POOL_CREDITS);
      const ownPools = Array.from({ length: CLIENTS }, (_, i) => `bench-own-${String(i).padStart(2, '0')}`);
      for (const p of ownPools) await createFundedPool(handle.db, secrets, p, POOL_CREDITS / 100);
      const setupSql = postgres(db.url, { max: 1, onnotice: () => {} });
      await createHotRowTables(setupSql, POOL_CREDITS);
      await setupSql`vacuum analyze`;
      await setupSql.end();
      log(`  ${CLIENTS} users with a big allowance, ${CLIENTS} pro users past theirs, pool ${HOT_POOL} and ${CLIENTS} own pools seeded`);

      const url = db.url;
      const drizzleMode = (key: string, label: string, make: (h: DbHandle) => ReturnType<typeof consumeOp>): RoundMode => ({
        key,
        label,
        open: async (clients) => {
          const h = await openDb({ databaseUrl: url, dataDir: '.data', maxConnections: clients });
          return { op: make(h), close: h.close };
        },
      });
      const hot = () => HOT_POOL;
      const own = (c: number) => ownPools[c]!;
      const modes: RoundMode[] = [
        {
          key: 'floor',
          label: 'raw-SQL floor: UPDATE one hot row + INSERT ledger row (postgres.js)',
          open: async (clients) => {
            const sql = postgres(url, { max: clients, onnotice: () => {} });
            return { op: hotRowFloorOp(sql), close: () => sql.end({ timeout: 5 }) };
          },
        },
        drizzleMode('distinct', 'consumeCredits, distinct users (allowance)', (h) => consumeOp(h.db, allowanceUsers)),
        drizzleMode('one-pool', 'drawFromPool in its own transaction, ONE pool', (h) => drawOp(h.db, hot)),
        drizzleMode('own-pools', 'drawFromPool in its own transaction, each client its own pool (diagnostic)', (h) => drawOp(h.db, own)),
        drizzleMode('one-pool-1stmt', 'drawFromPool without a transaction (its common case is one statement), ONE pool', (h) => oneStatementDrawOp(h.db, hot)),
        drizzleMode('path-one-pool', 'overflow hold + draw + capture, ONE pool (request path)', (h) => requestPathOp(h.db, overflowUsers, hot, 'platform_pool')),
        drizzleMode('path-own', 'overflow hold + draw + capture, own pools (request path, diagnostic)', (h) => requestPathOp(h.db, overflowUsers, own, 'platform_pool')),
      ];

      const statsSql = postgres(url, { max: 1, onnotice: () => {} });
      const runs = await runRounds(modes, CLIENTS, { ...s, pg: { sql: statsSql, dbName: db.name } }).finally(() => statsSql.end({ timeout: 5 }));
      const sum = new Map(modes.map((m) => [m.key, summarizeRuns(runs.get(m.key)!)]));
      for (const m of modes) log(`  ${m.key}: median ${sum.get(m.key)!.throughput.toFixed(0)}/s, ${cpuText(sum.get(m.key)!.cpu)}`);
      const floor = sum.get('floor')!.throughput;
      const distinct = sum.get('distinct')!.throughput;
      const onePool = sum.get('one-pool')!.throughput;
      const pathOne = sum.get('path-one-pool')!.throughput;
      const pathOwn = sum.get('path-own')!.throughput;
      log(
        `  one pool / distinct users: ${(onePool / distinct).toFixed(2)}; hot-row floor / distinct users: ${(floor / distinct).toFixed(2)}; ` +
          `one pool / own pools: ${(onePool / sum.get('own-pools')!.throughput).toFixed(2)}; one-statement draw / distinct users: ` +
          `${(sum.get('one-pool-1stmt')!.throughput / distinct).toFixed(2)}; request path one pool / own pools: ${(pathOne / pathOwn).toFixed(2)}`,
      );
      const cases: CaseReport[] = modes.map((m) => {
        const x = sum.get(m.key)!;
        const isFloor = m.key === 'floor';
        const c: CaseReport = {
          case: m.label,
          clients: CLIENTS,
          throughput_per_s: round(x.throughput, 1),
          p50_ms: round(x.latency.p50, 3),
          p95_ms: round(x.latency.p95, 3),
          p99_ms: round(x.latency.p99, 3),
          floor_per_s: isFloor ? null : round(floor, 1),
          ratio: isFloor ? null : round(x.throughput / floor, 3),
          rss_mb: null,
        };
        if (m.key === 'one-pool') c.goal = { text: `one pool ${(onePool / distinct).toFixed(2)} of distinct users, goal >= ${GOAL}`, met: onePool >= GOAL * distinct };
        if (m.key === 'path-one-pool') c.goal = { text: `${(pathOne / pathOwn).toFixed(2)} of the same path on own pools, goal >= ${GOAL}`, met: pathOne >= GOAL * pathOwn };
        return c;
      });

      const ledger = await checkLedger(handle.db);
      const poolCheck = await checkPools(handle.db);
      log(`  checkLedger: ${ledger.ok ? 'OK' : 'INCONSISTENT'} (${ledger.usersChecked} users); checkPools: ${poolCheck.ok ? 'OK' : 'INCONSISTENT'}`);
      if (!ledger.ok || !poolCheck.ok) throw new Error(`inconsistent after the benchmark: ${JSON.stringify({ ledger: ledger.offenders.slice(0, 3), pools: poolCheck.offenders.slice(0, 3) })}`);
      return cases;
    } finally {
      process.off('SIGINT', dropOnSignal);
      await handle?.close();
      await db?.drop();
    }
  },
};

export default pools;
