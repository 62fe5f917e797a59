import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { backfillDailySummaries, generateDailyUsageSummary } from '../server/analytics/daily-summary';
import { breakdownRows, summaryRows } from '../server/analytics/day-aggregates';
import { dashboard } from '../server/analytics/dashboard';
import { forecast } from '../server/analytics/forecast';
import { addDays, today } from '../server/analytics/days';
import { dayBreakdownFromRollup, daySummaryFromRollup, rolledThrough, rollUpDay } from '../server/analytics/today-rollup';
import { usageTrend } from '../server/analytics/trends';
import { SecretBox } from '../server/auth/secrets';
import { openDb, type DbHandle } from '../server/db/client';
import { getHistory } from '../server/ledger/balance';
import { searchLedger } from '../server/ledger/ledger-search';
import { sql as dsql } from 'drizzle-orm';
import { startServer, type ServerProcess } from '../server/test/spawn';
import { seedAnalyticsProviders, seedAnalyticsUsers, seedLedger, topUpLedger } from './analytics/seed';
import { adminLogin, trpcQuery } from './lib/admin-session';
import { envInt, log, type Benchmark } from './lib/benchmark';
import { createBenchDb, type BenchDb } from './lib/bench-db';
import { tuneForLoad } from './lib/bulk-load';
import { timedOnceCase, type CaseReport } from './lib/results';
import { median, round, summarize } from './lib/stats';

const DEFAULT_ROWS = 10_000_000;
const USERS = 100_000;
const GOAL_MS = 100;
const HISTORY_GOAL_MS = 5;
const HEAVY_USER = 'u000001';
const DEEP_PAGE = 100;
const ADMIN = { email: 'bench-admin@bench.invalid', password: 'bench-password-123' };

type Timed = { key: string; label: string; call: () => Promise<unknown> };

/** Each call `runs` times after `warmup` calls, interleaved (A B C, A B C, …), one at a time. */
async function timeCalls(calls: Timed[], warmup: number, runs: number): Promise<Map<string, number[]>> {
  for (let i = 0; i < warmup; i++) for (const c of calls) await c.call();
  const samples = new Map<string, number[]>(calls.map((c) => [c.key, []]));
  for (let i = 0; i < runs; i++) {
    for (const c of calls) {
      const t0 = performance.now();
      await c.call();
      samples.get(c.key)!.push(performance.now() - t0);
    }
  }
  return samples;
}

const latencyCase = (label: string, ms: number[], goalMs?: number): CaseReport => {
  const s = summarize(ms);
  const total = ms.reduce((a, b) => a + b, 0);
  return {
    case: label,
    clients: 1,
    throughput_per_s: round((ms.length * 1000) / total, 1),
    p50_ms: round(s.p50, 2),
    p95_ms: round(s.p95, 2),
    p99_ms: round(s.p99, 2),
    floor_per_s: null,
    ratio: null,
    ...(goalMs === undefined ? {} : { goal: { text: `median <= ${goalMs} ms`, met: (s.p50 ?? Infinity) <= goalMs } }),
  };
};

const analytics: Benchmark = {
  name: 'analytics',
  description: 'daily summaries, admin.dashboard and a 365-day usage trend over a year of ledger (10M rows, 100k users)',
  async run() {
    const rows = envInt('BENCH_LEDGER_ROWS', DEFAULT_ROWS);
    const runs = envInt('BENCH_QUERY_RUNS', 15);
    log(`settings: ${rows} ledger rows (BENCH_LEDGER_ROWS${rows === DEFAULT_ROWS ? '' : `, default ${DEFAULT_ROWS}`}), ${USERS} users, ${runs} timed calls of each query (BENCH_QUERY_RUNS)`);
    let db: BenchDb | undefined;
    let handle: DbHandle | undefined;
    let sql: postgres.Sql | undefined;
    let server: ServerProcess | undefined;
    const dropOnSignal = () =>
      void (async () => {
        await server?.stop('SIGKILL');
        await db?.drop();
        process.exit(130);
      })();
    process.once('SIGINT', dropOnSignal);
    try {
      // BENCH_ANALYTICS_DB keeps the seeded database for the next run (seeding 100M rows takes ~20 min).
      const keep = process.env.BENCH_ANALYTICS_DB;
      db = await createBenchDb(keep ? { keep } : {});
      log(`  database ${db.name} ${db.reused ? 'reused (BENCH_ANALYTICS_DB)' : 'created'} and migrated`);
      sql = postgres(db.url, { max: 1, onnotice: () => {} });
      handle = await openDb({ databaseUrl: db.url, dataDir: db.dataDir, maxConnections: 8 });
      // A kept database's provider secrets must open on its next run: its key follows from its name.
      const masterKey = keep ? createHash('sha256').update(`bench master key ${keep}`).digest() : randomBytes(32);
      const secrets = new SecretBox(masterKey);
      await tuneForLoad(sql);
      let t0 = performance.now();
      let seedMs: number | null = null;
      if (db.reused) {
        const [seeded] = await sql<{ n: string }[]>`select coalesce(max(id), 0)::text as n from credit_transactions`;
        if (Number(seeded!.n) < rows) throw new Error(`${db.name} holds ${seeded!.n} ledger rows, fewer than BENCH_LEDGER_ROWS=${rows}: drop it or name another`);
        const added = await topUpLedger(sql, rows, USERS);
        log(`  ${added} ledger rows added since the seed's newest, at its density, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      } else {
        await seedAnalyticsProviders(handle.db, secrets);
        await seedAnalyticsUsers(sql, USERS);
        await seedLedger(sql, rows, USERS);
        seedMs = performance.now() - t0;
        log(`  seeded ${USERS} users and ${rows} ledger rows in ${(seedMs / 1000).toFixed(1)} s`);
      }

      t0 = performance.now();
      const days = await backfillDailySummaries(handle.db);
      const backfillMs = performance.now() - t0;
      log(days.length ? `  daily summaries for ${days.length} finished days (${days[0]} … ${days.at(-1)}) in ${(backfillMs / 1000).toFixed(1)} s` : '  daily summaries: none missing');
      await sql`vacuum analyze daily_usage_summary`;
      await sql`vacuum analyze daily_usage_breakdown`;
      await sql`vacuum analyze daily_user_usage`;
      const yesterday = addDays(today(), -1);
      const nightly: number[] = [];
      for (let i = 0; i < 5; i++) {
        t0 = performance.now();
        await generateDailyUsageSummary(handle.db, yesterday);
        nightly.push(performance.now() - t0);
      }
      // What the usage-rollup job (every 5 minutes) has done by now: today's closed quarter-hours,
      // rolled afresh on a reused database so the first run is timed as on a fresh one.
      if (db.reused) await sql`delete from usage_rollup_buckets where bucket_start >= date_trunc('day', now(), 'UTC')`;
      t0 = performance.now();
      const rolled = await rollUpDay(handle.db, today());
      const rollupMs = performance.now() - t0;
      log(`  usage-rollup: ${rolled} quarter-hours of today rolled up in ${(rollupMs / 1000).toFixed(1)} s`);
      const rollupRuns: number[] = [];
      for (let i = 0; i < 5; i++) {
        // A run with nothing due (the job's common case) and the raw tail it leaves to each read.
        t0 = performance.now();
        await rollUpDay(handle.db, today());
        rollupRuns.push(performance.now() - t0);
      }

      const year = { from: addDays(today(), -364), to: today() };
      const db0 = handle.db;
      const inProcess = await timeCalls(
        [
          { key: 'dashboard', label: 'dashboard()', call: () => dashboard(db0) },
          { key: 'trend', label: 'usageTrend 365 days', call: () => usageTrend(db0, { ...year, split: 'none' }) },
          { key: 'trend-provider', label: 'usageTrend 365 days by provider', call: () => usageTrend(db0, { ...year, split: 'provider' }) },
        ],
        2,
        runs,
      );
      for (const [k, ms] of inProcess) log(`  in-process ${k}: median ${median(ms)!.toFixed(1)} ms`);
      // Where the time goes: the parts the dashboard and the trend are made of, one at a time.
      const now = today();
      const parts = await timeCalls(
        [
          { key: "today's summary from every ledger row of today (summaryRows, the nightly job's)", label: '', call: () => db0.execute(dsql`select * from (${summaryRows(now, now)}) s`) },
          { key: "today's breakdown from every ledger row of today (breakdownRows)", label: '', call: () => db0.execute(dsql`select * from (${breakdownRows(now, now)}) b`) },
          {
            key: "today's summary from the rollup and the ledger after it",
            label: '',
            call: async () => db0.execute(dsql`select * from (${daySummaryFromRollup(now, await rolledThrough(db0, now))}) s`),
          },
          {
            key: "today's breakdown from the rollup and the ledger after it",
            label: '',
            call: async () => db0.execute(dsql`select * from (${dayBreakdownFromRollup(now, await rolledThrough(db0, now))}) b`),
          },
          { key: 'usageTrend 30 days (dashboard chart)', label: '', call: () => usageTrend(db0, { from: addDays(now, -29), to: now, split: 'none' }) },
          { key: 'forecast()', label: '', call: () => forecast(db0, now) },
        ],
        1,
        5,
      );
      for (const [k, ms] of parts) log(`    part: ${k}: median ${median(ms)!.toFixed(1)} ms`);

      // The ledger's per-user history of the heaviest user (the seed's skew puts the most rows on
      // u000001): the Ledger page searched by user id (offset pages) and the user's history (cursor).
      const [heavy] = await sql<{ n: number; mid: string }[]>`
        select count(*)::int as n, (percentile_disc(0.5) within group (order by id))::text as mid
        from credit_transactions where user_id = ${HEAVY_USER}`;
      // Paging forward, the Ledger page sends the last row it showed: page DEEP_PAGE starts below the
      // row that ends page DEEP_PAGE - 1, newest first.
      const [pageEnd] = await sql<{ id: string }[]>`
        select id::text as id from credit_transactions where user_id = ${HEAVY_USER} order by id desc offset ${DEEP_PAGE * 50 - 1} limit 1`;
      log(`  ${HEAVY_USER} has ${heavy!.n} ledger rows; deep history cursor at id ${heavy!.mid}; page ${DEEP_PAGE} starts before id ${pageEnd!.id}`);
      const history = await timeCalls(
        [
          { key: 'search-first', label: '', call: () => searchLedger(db0, { query: HEAVY_USER, page: 0, pageSize: 50 }) },
          { key: 'search-deep', label: '', call: () => searchLedger(db0, { query: HEAVY_USER, page: DEEP_PAGE, pageSize: 50 }) },
          { key: 'search-deep-before', label: '', call: () => searchLedger(db0, { query: HEAVY_USER, page: DEEP_PAGE, pageSize: 50, before: pageEnd!.id }) },
          { key: 'history-first', label: '', call: () => getHistory(db0, { userId: HEAVY_USER, limit: 25 }) },
          { key: 'history-deep', label: '', call: () => getHistory(db0, { userId: HEAVY_USER, cursor: heavy!.mid, limit: 25 }) },
        ],
        2,
        runs,
      );
      for (const [k, ms] of history) log(`  in-process ${k}: median ${median(ms)!.toFixed(2)} ms`);
      const [todayRows] = await sql<{ n: number }[]>`select count(*)::int as n from credit_transactions where created_at >= date_trunc('day', now(), 'UTC')`;
      const [jit] = await sql<{ jit: string }[]>`show jit`;
      log(`    ${todayRows!.n} ledger rows today so far; jit ${jit!.jit}`);

      server = await startServer({
        NODE_ENV: 'production',
        DATABASE_URL: db.url,
        REDIS_URL: 'off',
        LOG_LEVEL: 'warn',
        DATA_DIR: db.dataDir,
        MASTER_KEY: masterKey.toString('hex'),
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
      });
      const base = server.url;
      const cookie = await adminLogin(base, ADMIN.email, ADMIN.password);
      const overHttp = await timeCalls(
        [
          { key: 'dashboard', label: 'GET admin.dashboard', call: () => trpcQuery(base, cookie, 'admin.dashboard') },
          { key: 'trend', label: 'GET admin.usage.trend', call: () => trpcQuery(base, cookie, 'admin.usage.trend', { range: year, split: 'none' }) },
          { key: 'trend-provider', label: 'GET admin.usage.trend provider', call: () => trpcQuery(base, cookie, 'admin.usage.trend', { range: year, split: 'provider' }) },
        ],
        2,
        runs,
      );
      for (const [k, ms] of overHttp) log(`  over HTTP ${k}: median ${median(ms)!.toFixed(1)} ms`);
      await server.stop();
      server = undefined;

      const n = rows.toLocaleString('en-US');
      const cases: CaseReport[] = [
        ...(seedMs === null ? [] : [timedOnceCase(`seed ${n} ledger rows + ${USERS.toLocaleString('en-US')} users (SQL generate_series, indexes rebuilt, analysed)`, seedMs, rows)]),
        // A reused database has its summaries already: only a day that ended since its last run.
        ...(days.length === 0 ? [] : [timedOnceCase(`backfillDailySummaries: ${days.length} finished days`, backfillMs, days.length, 2)]),
        timedOnceCase(`usage-rollup: today's ${rolled} closed quarter-hours, first run, ${n} rows`, rollupMs),
        latencyCase('usage-rollup with nothing due (its run every 5 minutes)', rollupRuns),
        latencyCase(`generateDailyUsageSummary, one day (${Math.round(rows / 365).toLocaleString('en-US')} rows/day)`, nightly),
        latencyCase(`ledger.search by user id (${HEAVY_USER}, ${heavy!.n.toLocaleString('en-US')} rows), first page of 50, ${n} rows`, history.get('search-first')!, HISTORY_GOAL_MS),
        latencyCase(`ledger.search by user id, page ${DEEP_PAGE} (offset ${DEEP_PAGE * 50}), ${n} rows`, history.get('search-deep')!, HISTORY_GOAL_MS),
        latencyCase(`ledger.search by user id, page ${DEEP_PAGE} paged forward (before the last row shown), ${n} rows`, history.get('search-deep-before')!, HISTORY_GOAL_MS),
        latencyCase(`users.history (${HEAVY_USER}), first page of 25, ${n} rows`, history.get('history-first')!, HISTORY_GOAL_MS),
        latencyCase(`users.history, page of 25 at the median id by cursor, ${n} rows`, history.get('history-deep')!, HISTORY_GOAL_MS),
        latencyCase(`dashboard() in-process, ${n} rows`, inProcess.get('dashboard')!, GOAL_MS),
        latencyCase(`GET /trpc/admin.dashboard (admin session), ${n} rows`, overHttp.get('dashboard')!, GOAL_MS),
        latencyCase(`usageTrend 365 days in-process, ${n} rows`, inProcess.get('trend')!, GOAL_MS),
        latencyCase(`GET /trpc/admin.usage.trend 365 days, ${n} rows`, overHttp.get('trend')!, GOAL_MS),
        latencyCase(`usageTrend 365 days, split 'provider', in-process, ${n} rows`, inProcess.get('trend-provider')!, GOAL_MS),
        latencyCase(`GET /trpc/admin.usage.trend 365 days, split 'provider', ${n} rows`, overHttp.get('trend-provider')!, GOAL_MS),
      ];
      return cases;
    } finally {
      process.off('SIGINT', dropOnSignal);
      await server?.stop();
      await sql?.end({ timeout: 5 });
      await handle?.close();
      await db?.drop();
    }
  },
};

export default analytics;
