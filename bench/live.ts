import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDb, type DbHandle } from '../server/db/client';
import { checkLedger } from '../server/ledger/reconcile';
import { startServer, type ServerProcess } from '../server/test/spawn';
import { adminLogin } from './lib/admin-session';
import { envInt, envInts, log, type Benchmark } from './lib/benchmark';
import { createBenchDb, type BenchDb } from './lib/bench-db';
import { treeCpuMs } from './lib/cpu';
import { JsonPoster } from './lib/http-client';
import type { CaseReport } from './lib/results';
import { cpuText, runRounds, summarizeRuns, type RoundMode } from './lib/rounds';
import { BIG_ALLOWANCE, createKey, createUsers, setBalances } from './lib/seed';
import { round } from './lib/stats';
import { consumeHttpOp } from './http/ops';
import { deleteRedisPrefix } from './http/setup';
import { startSubscribers, type SubscriberProcess } from './live/subscriber-process';

const USERS = 64;
const SUBSCRIBERS = 200;
/** Diagnostics (a profile of one mode at one load): BENCH_CLIENTS=64 BENCH_LIVE_MODES=200. */
const CLIENT_COUNTS = envInts('BENCH_CLIENTS', '16,64', 1);
const MODES = envInts('BENCH_LIVE_MODES', `0,${SUBSCRIBERS}`, 0);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN = { email: 'bench-admin@bench.invalid', password: 'bench-password-123' };
/** Issue 19: 200 open subscriptions add no measurable latency to credits.consume. */
const GOAL_RATIO = 0.9;

/**
 * credits.consume over HTTP with 0 and with 200 open live streams on the same server, rounds
 * interleaved. The 200 (bench/live/subscribers.ts, in a process of their own): 100 unfiltered
 * ledger feeds (every charge goes to each), 50 figure streams, 50 ledger feeds filtered to a user
 * outside the load (read and dropped by the filter).
 */
const live: Benchmark = {
  name: 'live',
  description: 'credits.consume over HTTP with 0 and with 200 open live subscriptions (SSE) on the same server',
  async run() {
    const s = { rounds: envInt('BENCH_ROUNDS', 3), seconds: envInt('BENCH_SECONDS', 5), warmupSeconds: 1 };
    log(`settings: ${s.rounds} rounds x ${s.seconds} s per case after 1 s of warm-up (BENCH_ROUNDS, BENCH_SECONDS) at ${CLIENT_COUNTS.join(', ')} clients; Redis ${REDIS_URL}`);
    let db: BenchDb | undefined;
    let handle: DbHandle | undefined;
    let server: ServerProcess | undefined;
    let statsSql: postgres.Sql | undefined;
    const redisPrefix = `cd-bench-${randomBytes(4).toString('hex')}`;
    try {
      db = await createBenchDb();
      handle = await openDb({ databaseUrl: db.url, dataDir: db.dataDir, maxConnections: 2 });
      const users = await createUsers(handle.db, 'bench-live', USERS, 'pro');
      await setBalances(handle.db, 'bench-live', BIG_ALLOWANCE);
      const apiKey = await createKey(handle.db, ['credits:write']);
      server = await startServer({
        NODE_ENV: 'production',
        DATABASE_URL: db.url,
        DATABASE_POOL_MAX: '20',
        REDIS_URL,
        REDIS_PREFIX: redisPrefix,
        LOG_LEVEL: 'warn',
        DATA_DIR: db.dataDir,
        MASTER_KEY: randomBytes(32).toString('hex'),
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
      });
      const srv = server;
      const cookie = await adminLogin(srv.url, ADMIN.email, ADMIN.password);
      log(`  server pid ${srv.child.pid} on ${srv.url}`);
      const received = { events: 0, bytes: 0 };
      let subscribers: SubscriberProcess | undefined;
      const mode = (subs: number): RoundMode => ({
        key: `subs-${subs}`,
        label: `credits.consume over HTTP, distinct users, ${subs} open live subscriptions`,
        rssPid: () => srv.child.pid,
        appCpuMs: () => treeCpuMs(srv.child.pid),
        otherCpuMs: () => treeCpuMs(subscribers?.child.pid),
        open: async (clients) => {
          subscribers = subs ? await startSubscribers({ LIVE_URL: srv.url, LIVE_COOKIE: cookie, SUBSCRIBERS: String(subs) }) : undefined;
          const poster = new JsonPoster(srv.url, { authorization: `Bearer ${apiKey}` }, clients);
          return {
            op: consumeHttpOp(poster, users, 'user_credits'),
            close: async () => {
              poster.close();
              if (subscribers) {
                const got = await subscribers.close();
                received.events += got.events;
                received.bytes += got.bytes;
              }
              subscribers = undefined;
            },
          };
        },
      });
      const modes = MODES.map((subs) => ({ subs, mode: mode(subs) }));
      const cases: CaseReport[] = [];
      statsSql = postgres(db.url, { max: 1, onnotice: () => {} });
      for (const clients of CLIENT_COUNTS) {
        received.events = 0;
        received.bytes = 0;
        const runs = await runRounds(
          modes.map((m) => m.mode),
          clients,
          { ...s, pg: { sql: statsSql, dbName: db.name } },
        );
        const results = modes.map((m) => ({ ...m, x: summarizeRuns(runs.get(m.mode.key)!) }));
        const none = results.find((r) => r.subs === 0)?.x;
        log(
          `  ${clients} clients: ${results.map((r) => `${r.subs} subs ${r.x.throughput.toFixed(0)}/s (${cpuText(r.x.cpu)})`).join(', ')}; the streams received ${received.events} events, ${(received.bytes / 2 ** 20).toFixed(1)} MB`,
        );
        for (const { subs, mode: m, x } of results) {
          const ratio = subs > 0 && none ? x.throughput / none.throughput : null;
          cases.push({
            case: m.label,
            clients,
            throughput_per_s: round(x.throughput, 1),
            p50_ms: round(x.latency.p50, 3),
            p95_ms: round(x.latency.p95, 3),
            p99_ms: round(x.latency.p99, 3),
            floor_per_s: none && ratio !== null ? round(none.throughput, 1) : null,
            ratio: round(ratio, 3),
            rss_mb: x.rssMb === null ? null : round(x.rssMb, 0),
            server_cpu_ms_per_op: x.cpu ? round(x.cpu.app, 3) : null,
            postgres_cpu_ms_per_op: x.cpu ? round(x.cpu.pg, 3) : null,
            subscribers_cpu_ms_per_op: x.cpu?.other === undefined ? null : round(x.cpu.other, 3),
            ...(ratio === null ? {} : { goal: { text: `>= ${GOAL_RATIO} of the throughput without subscriptions`, met: ratio >= GOAL_RATIO } }),
          });
        }
      }
      await server.stop();
      server = undefined;
      const ledger = await checkLedger(handle.db);
      log(`  checkLedger: ${ledger.ok ? 'OK' : 'INCONSISTENT'} (${ledger.usersChecked} users)`);
      if (!ledger.ok) throw new Error('inconsistent ledger after the benchmark');
      return cases;
    } finally {
      await server?.stop();
      await statsSql?.end({ timeout: 5 });
      await handle?.close();
      await db?.drop();
      await deleteRedisPrefix(REDIS_URL, redisPrefix).catch(() => 0);
    }
  },
};

export default live;
