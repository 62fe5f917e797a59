import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { SecretBox } from '../server/auth/secrets';
import { openDb, type DbHandle } from '../server/db/client';
import { checkLedger } from '../server/ledger/reconcile';
import { checkPools } from '../server/pools/reconcile';
import { startServer, type ServerProcess } from '../server/test/spawn';
import { envInt, envInts, log, type Benchmark } from './lib/benchmark';
import { createBenchDb, type BenchDb } from './lib/bench-db';
import { treeCpuMs } from './lib/cpu';
import { startFakeFal } from './lib/fake-fal';
import { JsonPoster } from './lib/http-client';
import type { Op } from './lib/load';
import { runPaced } from './lib/paced';
import type { CaseReport } from './lib/results';
import { cpuText, runRounds, summarizeRuns, type RoundMode, type Summary } from './lib/rounds';
import { sampleRss } from './lib/rss-sampler';
import { BIG_ALLOWANCE, createKey, createUsers, setBalances, uncapOverflow } from './lib/seed';
import { round, summarize } from './lib/stats';
import { consumeFloorOp, consumeHttpOp, enhanceFloorOp, enhanceHttpOp } from './http/ops';
import { configureStubProvider, deleteRedisPrefix } from './http/setup';
import { startBareServer, type BareServer } from './http/bare-floor';

/** Diagnostics (a profile of one procedure at one load): BENCH_CLIENTS=16 BENCH_HTTP_PROCS=enhance. */
const CLIENT_COUNTS = envInts('BENCH_CLIENTS', '1,16,64', 1);
const PROCS = (process.env.BENCH_HTTP_PROCS ?? 'consume,enhance').split(',').map((p): Proc => {
  if (p !== 'consume' && p !== 'enhance') throw new Error(`BENCH_HTTP_PROCS: ${p} is not consume or enhance`);
  return p;
});
const USERS = 64;
const PROVIDER = 'bench-fal';
const POOL_CREDITS = 100_000_000;
/** The server's database pool: its default, stated so the cases do not change when the default does. */
const SERVER_POOL = 20;
const GOALS = { consumeBareRatio: 0.6, enhanceBareRatio: 0.5, poolRatio: 0.8, pacedP99Ms: 25, pacedShare: 0.5 };
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

type Proc = 'consume' | 'enhance';
type Variant = 'floor' | 'bare' | 'calls' | 'distinct' | 'pool';
type HttpMode = RoundMode & { proc: Proc; variant: Variant };

const labels: Record<Proc, Record<Exclude<Variant, 'calls'>, string> & { calls?: string }> = {
  consume: {
    floor: 'credits.consume raw-SQL floor (the one CTE statement, postgres.js)',
    bare: 'credits.consume bare HTTP floor (node:http + JSON + the same statement, postgres.js)',
    distinct: 'credits.consume over HTTP, distinct users (allowance)',
    pool: 'credits.consume over HTTP, one pool (pro users past allowance: overflow)',
  },
  enhance: {
    floor: "enhance.run raw-SQL floor (the gateway's statements, postgres.js)",
    bare: 'enhance.run bare HTTP floor (node:http + JSON + the same statements, postgres.js)',
    // A diagnostic, not the goal's floor: how much of the app's gap the provider's protocol itself is.
    calls: "enhance.run bare HTTP floor + the provider's four calls (input, fal submit, status, result; undici)",
    distinct: 'enhance.run over HTTP, distinct users (allowance), stub fal',
    pool: 'enhance.run over HTTP, one pool (allowance spent: overflow), stub fal',
  },
};

const http: Benchmark = {
  name: 'http',
  description: 'credits.consume and enhance.run end to end over HTTP/tRPC (real server, Redis, stub provider) against bare HTTP floors and raw-SQL floors',
  async run() {
    const s = { rounds: envInt('BENCH_ROUNDS', 2), seconds: envInt('BENCH_SECONDS', 5), warmupSeconds: 1, pacedSeconds: envInt('BENCH_PACED_SECONDS', 10) };
    log(
      `settings (BENCH_CLIENTS, BENCH_HTTP_PROCS select a part): ${s.rounds} rounds x ${s.seconds} s per case after 1 s of warm-up (BENCH_ROUNDS, BENCH_SECONDS) at ${CLIENT_COUNTS.join(', ')} clients; ` +
        `paced cases ${s.pacedSeconds} s (BENCH_PACED_SECONDS); Redis ${REDIS_URL} (BENCH_REDIS_URL)`,
    );
    let db: BenchDb | undefined;
    let handle: DbHandle | undefined;
    let server: ServerProcess | undefined;
    let fal: Awaited<ReturnType<typeof startFakeFal>> | undefined;
    let bare: BareServer | undefined;
    const redisPrefix = `cd-bench-${randomBytes(4).toString('hex')}`;
    const dropOnSignal = () =>
      void (async () => {
        await server?.stop('SIGKILL');
        await bare?.stop();
        await db?.drop();
        process.exit(130);
      })();
    process.once('SIGINT', dropOnSignal);
    try {
      db = await createBenchDb();
      log(`  database ${db.name} created and migrated`);
      handle = await openDb({ databaseUrl: db.url, dataDir: db.dataDir, maxConnections: 4 });
      const masterKey = randomBytes(32);
      const secrets = new SecretBox(masterKey);
      const allowance = await createUsers(handle.db, 'bench-allow', USERS, 'pro');
      await setBalances(handle.db, 'bench-allow', BIG_ALLOWANCE);
      const overflow = await createUsers(handle.db, 'bench-over', USERS, 'pro');
      await setBalances(handle.db, 'bench-over', 0);
      await uncapOverflow(handle.db);
      fal = await startFakeFal();
      await configureStubProvider(handle.db, secrets, PROVIDER, fal.url, POOL_CREDITS);
      const apiKey = await createKey(handle.db, ['credits:write', 'enhance']);
      const inputImageUrl = `${fal.url}/input.png`;
      server = await startServer({
        NODE_ENV: 'production',
        DATABASE_URL: db.url,
        DATABASE_POOL_MAX: String(SERVER_POOL),
        REDIS_URL,
        REDIS_PREFIX: redisPrefix,
        LOG_LEVEL: 'warn',
        DATA_DIR: db.dataDir,
        MASTER_KEY: masterKey.toString('hex'),
        ALLOW_PRIVATE_IMAGE_URLS: 'true',
        ALLOW_PRIVATE_OUTBOUND: 'true',
        // The load is a few users at full speed: the per-user and per-key limits are not what is measured.
        ENHANCE_RATE_PER_USER_PER_MINUTE: '100000000',
        ENHANCE_RATE_PER_KEY_PER_MINUTE: '100000000',
        // As deployed by default, the server also works the scheduled jobs; `false` measures it with the jobs elsewhere.
        WORKER_IN_SERVER: process.env.BENCH_WORKER_IN_SERVER ?? 'true',
      });
      const srv = server;
      log(
        `  server pid ${srv.child.pid} on ${srv.url} (database pool ${SERVER_POOL}, Redis prefix ${redisPrefix}, jobs in the server: ${process.env.BENCH_WORKER_IN_SERVER ?? 'true'}); stub fal on ${fal.url}`,
      );
      bare = await startBareServer({ DATABASE_URL: db.url, DATABASE_POOL_MAX: String(SERVER_POOL), BARE_PROVIDER: PROVIDER });
      const bareSrv = bare;
      log(`  bare HTTP floor pid ${bareSrv.child.pid} on ${bareSrv.url} (database pool ${SERVER_POOL})`);

      const url = db.url;
      const floorMode = (proc: Proc, make: (sql: postgres.Sql) => Op): HttpMode => ({
        key: `${proc}-floor`,
        label: labels[proc].floor,
        proc,
        variant: 'floor',
        open: async (clients) => {
          // The pool the server and the bare floor have: 64 more connections do not fit beside theirs under max_connections 100.
          const sql = postgres(url, { max: Math.min(clients, SERVER_POOL), onnotice: () => {} });
          return { op: make(sql), close: () => sql.end({ timeout: 5 }) };
        },
      });
      const httpMode = (proc: Proc, variant: Variant, make: (poster: JsonPoster) => Op): HttpMode => {
        const target = variant === 'bare' || variant === 'calls' ? bareSrv : srv;
        const headers: Record<string, string> = { authorization: `Bearer ${apiKey}`, ...(variant === 'calls' ? { 'x-bare-calls': '1' } : {}) };
        return {
          key: `${proc}-${variant}`,
          label: labels[proc][variant]!,
          proc,
          variant,
          rssPid: () => target.child.pid,
          appCpuMs: () => treeCpuMs(target.child.pid),
          open: async (clients) => {
            const poster = new JsonPoster(target.url, headers, clients);
            return { op: make(poster), close: async () => poster.close() };
          },
        };
      };
      const allModes: HttpMode[] = [
        floorMode('consume', (sql) => consumeFloorOp(sql, allowance)),
        httpMode('consume', 'bare', (p) => consumeHttpOp(p, allowance, 'user_credits')),
        httpMode('consume', 'distinct', (p) => consumeHttpOp(p, allowance, 'user_credits')),
        httpMode('consume', 'pool', (p) => consumeHttpOp(p, overflow, 'platform_pool')),
        floorMode('enhance', (sql) => enhanceFloorOp(sql, allowance, PROVIDER)),
        httpMode('enhance', 'bare', (p) => enhanceHttpOp(p, allowance, inputImageUrl, PROVIDER, 'user_credits')),
        httpMode('enhance', 'calls', (p) => enhanceHttpOp(p, allowance, inputImageUrl, PROVIDER, 'user_credits')),
        httpMode('enhance', 'distinct', (p) => enhanceHttpOp(p, allowance, inputImageUrl, PROVIDER, 'user_credits')),
        httpMode('enhance', 'pool', (p) => enhanceHttpOp(p, overflow, inputImageUrl, PROVIDER, 'platform_pool')),
      ];
      const modes = allModes.filter((m) => PROCS.includes(m.proc));

      const statsSql = postgres(url, { max: 1, onnotice: () => {} });
      const results = new Map<number, Map<string, Summary>>();
      try {
        for (const clients of CLIENT_COUNTS) {
          const runs = await runRounds(modes, clients, { ...s, pg: { sql: statsSql, dbName: db.name } });
          const sums = new Map(modes.map((m) => [m.key, summarizeRuns(runs.get(m.key)!)]));
          for (const m of modes) log(`  ${clients} clients, ${m.key}: median ${sums.get(m.key)!.throughput.toFixed(0)}/s, ${cpuText(sums.get(m.key)!.cpu)}`);
          results.set(clients, sums);
        }
      } finally {
        await statsSql.end({ timeout: 5 });
      }

      const cases: CaseReport[] = [];
      for (const proc of PROCS) {
        for (const clients of CLIENT_COUNTS) {
          const sums = results.get(clients)!;
          const floor = sums.get(`${proc}-floor`)!.throughput;
          const bareFloor = sums.get(`${proc}-bare`)!.throughput;
          const distinct = sums.get(`${proc}-distinct`)!.throughput;
          const withCalls = sums.get(`${proc}-calls`)?.throughput;
          if (withCalls !== undefined) {
            log(
              `  ${clients} clients: ${proc} app ${(distinct / withCalls).toFixed(2)} of the bare floor with the provider's calls (${distinct.toFixed(0)} against ${withCalls.toFixed(0)}/s; a diagnostic)`,
            );
          }
          for (const m of modes.filter((x) => x.proc === proc)) {
            const x = sums.get(m.key)!;
            // The app's cases against the bare HTTP floor (the goal), and against the raw-SQL floor too.
            const isApp = m.variant === 'distinct' || m.variant === 'pool';
            const against = isApp || m.variant === 'calls' ? bareFloor : m.variant === 'bare' ? floor : null;
            const ratio = against === null ? null : x.throughput / against;
            const c: CaseReport = {
              case: m.label,
              clients,
              throughput_per_s: round(x.throughput, 1),
              p50_ms: round(x.latency.p50, 3),
              p95_ms: round(x.latency.p95, 3),
              p99_ms: round(x.latency.p99, 3),
              floor_per_s: against === null ? null : round(against, 1),
              ratio: round(ratio, 3),
              sql_floor_per_s: isApp ? round(floor, 1) : null,
              sql_ratio: isApp ? round(x.throughput / floor, 3) : null,
              rss_mb: x.rssMb === null ? null : round(x.rssMb, 0),
            };
            if (clients === 64 && m.variant === 'distinct') {
              const goal = proc === 'consume' ? GOALS.consumeBareRatio : GOALS.enhanceBareRatio;
              c.goal = { text: `>= ${goal} of the bare HTTP floor at 64 clients`, met: ratio! >= goal };
            }
            if (clients === 64 && m.variant === 'pool') {
              const share = x.throughput / distinct;
              c.goal = { text: `one pool ${share.toFixed(2)} of distinct users, goal >= ${GOALS.poolRatio}`, met: share >= GOALS.poolRatio };
            }
            cases.push(c);
          }
        }
        // The open-loop cases: arrivals at half the peak the closed-loop cases reached, latency from each
        // arrival's due time; the bare HTTP floor at the same rate first, so the tail this machine gives
        // a server doing only the SQL is measured in the same run as the app's.
        const peak = Math.max(...CLIENT_COUNTS.map((c) => results.get(c)!.get(`${proc}-distinct`)!.throughput));
        // BENCH_PACED_RATE: a fixed rate instead of half the peak, to compare two builds' latency at the
        // same load (the goal, at half the peak, is then not judged).
        const fixedRate = envInt('BENCH_PACED_RATE', 0);
        const rate = fixedRate || Math.max(1, Math.round(peak * GOALS.pacedShare));
        const pacing = fixedRate ? `a fixed ${rate}/s (BENCH_PACED_RATE)` : `50% of peak (${rate}/s)`;
        const paced = async (target: ServerProcess | BareServer, what: string, extraHeaders: Record<string, string> = {}) => {
          const poster = new JsonPoster(target.url, { authorization: `Bearer ${apiKey}`, ...extraHeaders }, 512);
          const op = proc === 'consume' ? consumeHttpOp(poster, allowance, 'user_credits') : enhanceHttpOp(poster, allowance, inputImageUrl, PROVIDER, 'user_credits');
          const cpu0 = treeCpuMs(target.child.pid);
          const rss = sampleRss(target.child.pid);
          const run = await runPaced({ ratePerS: rate, durationMs: s.pacedSeconds * 1000, warmupMs: 1000, maxInFlight: 1024, op: (i) => op(i, 0) });
          const rssMb = rss.stop();
          poster.close();
          const lat = summarize(run.latenciesMs);
          const cpu = (treeCpuMs(target.child.pid) - cpu0) / Math.max(1, run.ops);
          log(
            `  ${proc} ${what} paced at ${pacing}, the peak ${peak.toFixed(0)}/s: achieved ${run.achievedPerS.toFixed(0)}/s, ` +
              `p50 ${lat.p50?.toFixed(1)} ms, p95 ${lat.p95?.toFixed(1)} ms, p99 ${lat.p99?.toFixed(1)} ms, max ${lat.max?.toFixed(1)} ms, ${run.errors} errors, ${run.dropped} dropped; ` +
              `cpu/op ${cpu.toFixed(2)} ms (warm-up included)`,
          );
          if (run.errors) throw new Error(`${proc} ${what} paced: ${run.errors} errors; first: ${String(run.firstError)}`);
          return { run, lat, rssMb };
        };
        const bareRun = await paced(bareSrv, 'bare floor');
        const callsLabel = labels[proc].calls;
        const callsRun = callsLabel ? [[callsLabel, await paced(bareSrv, "bare floor + the provider's calls", { 'x-bare-calls': '1' }), false] as const] : [];
        const appRun = await paced(srv, 'app');
        for (const [label, { run, lat, rssMb }, isApp] of [[labels[proc].bare, bareRun, false] as const, ...callsRun, [labels[proc].distinct, appRun, true] as const]) {
          cases.push({
            case: `${label}, open loop at ${pacing}`,
            clients: null,
            throughput_per_s: round(run.achievedPerS, 1),
            p50_ms: round(lat.p50, 3),
            p95_ms: round(lat.p95, 3),
            p99_ms: round(lat.p99, 3),
            floor_per_s: null,
            ratio: null,
            ...(isApp ? { floor_p99_ms: round(bareRun.lat.p99, 3) } : {}),
            rss_mb: rssMb === null ? null : round(rssMb, 0),
            ...(isApp && !fixedRate ? { goal: { text: `p99 <= ${GOALS.pacedP99Ms} ms at half the peak`, met: (lat.p99 ?? Infinity) <= GOALS.pacedP99Ms && run.dropped === 0 } } : {}),
          });
        }
      }

      log(`  stub fal answered ${fal.counts.input} input fetches, ${fal.counts.submit} submits, ${fal.counts.status} status polls, ${fal.counts.result} results`);
      await server.stop();
      server = undefined;
      await bare.stop();
      bare = undefined;
      const ledger = await checkLedger(handle.db);
      const poolCheck = await checkPools(handle.db);
      log(`  checkLedger: ${ledger.ok ? 'OK' : 'INCONSISTENT'} (${ledger.usersChecked} users); checkPools: ${poolCheck.ok ? 'OK' : 'INCONSISTENT'}`);
      if (!ledger.ok || !poolCheck.ok) throw new Error(`inconsistent after the benchmark: ${JSON.stringify({ ledger: ledger.offenders.slice(0, 3), pools: poolCheck.offenders.slice(0, 3) })}`);
      return cases;
    } finally {
      process.off('SIGINT', dropOnSignal);
      await server?.stop();
      await bare?.stop();
      await fal?.close();
      await handle?.close();
      await db?.drop();
      const n = await deleteRedisPrefix(REDIS_URL, redisPrefix).catch(() => 0);
      if (n) log(`  deleted ${n} Redis keys under ${redisPrefix}:`);
    }
  },
};

export default http;
