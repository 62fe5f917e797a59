import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDb, type DbHandle } from '../server/db/client';
import { startServer, type ServerProcess } from '../server/test/spawn';
import { envInt, log, type Benchmark } from './lib/benchmark';
import { createBenchDb, type BenchDb } from './lib/bench-db';
import { treeCpuMs } from './lib/cpu';
import { JsonPoster } from './lib/http-client';
import type { CaseReport } from './lib/results';
import { cpuText, runRounds, summarizeRuns, type RoundMode } from './lib/rounds';
import { BIG_ALLOWANCE, createKey, createUsers, setBalances } from './lib/seed';
import { round } from './lib/stats';
import { consumeFloorOp, consumeHttpOp } from './http/ops';
import { deleteRedisPrefix } from './http/setup';

const CLIENT_COUNTS = [16, 64];
const USERS = 64;
const SERVER_POOL = 20;
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * credits.consume over HTTP with every client on ONE API key (the case the per-key usage row lock
 * and the per-request key lookup hurt), against the consume statement's raw-SQL floor: the `http`
 * benchmark's consume cases alone, so the API-key path can be measured without its enhance cases.
 */
const keyAuth: Benchmark = {
  name: 'key-auth',
  description: 'credits.consume over HTTP on one API key (real server, Redis) against its raw-SQL floor',
  async run() {
    const s = { rounds: envInt('BENCH_ROUNDS', 2), seconds: envInt('BENCH_SECONDS', 5), warmupSeconds: 1 };
    log(`settings: ${s.rounds} rounds x ${s.seconds} s per case after 1 s of warm-up (BENCH_ROUNDS, BENCH_SECONDS) at ${CLIENT_COUNTS.join(', ')} clients; Redis ${REDIS_URL}`);
    let db: BenchDb | undefined;
    let handle: DbHandle | undefined;
    let server: ServerProcess | undefined;
    const redisPrefix = `cd-bench-${randomBytes(4).toString('hex')}`;
    try {
      db = await createBenchDb();
      handle = await openDb({ databaseUrl: db.url, dataDir: db.dataDir, maxConnections: 4 });
      const users = await createUsers(handle.db, 'bench-allow', USERS, 'pro');
      await setBalances(handle.db, 'bench-allow', BIG_ALLOWANCE);
      const apiKey = await createKey(handle.db, ['credits:write']);
      server = await startServer({
        NODE_ENV: 'production',
        DATABASE_URL: db.url,
        DATABASE_POOL_MAX: String(SERVER_POOL),
        REDIS_URL,
        REDIS_PREFIX: redisPrefix,
        LOG_LEVEL: 'warn',
        DATA_DIR: db.dataDir,
        MASTER_KEY: randomBytes(32).toString('hex'),
      });
      const srv = server;
      const url = db.url;
      const modes: RoundMode[] = [
        {
          key: 'consume-floor',
          label: 'credits.consume raw-SQL floor (the one CTE statement, postgres.js)',
          open: async (clients) => {
            const sql = postgres(url, { max: clients, onnotice: () => {} });
            return { op: consumeFloorOp(sql, users), close: () => sql.end({ timeout: 5 }) };
          },
        },
        {
          key: 'consume-one-key',
          label: 'credits.consume over HTTP, distinct users, one API key',
          rssPid: () => srv.child.pid,
          appCpuMs: () => treeCpuMs(srv.child.pid),
          open: async (clients) => {
            const poster = new JsonPoster(srv.url, { authorization: `Bearer ${apiKey}` }, clients);
            return { op: consumeHttpOp(poster, users, 'user_credits'), close: async () => poster.close() };
          },
        },
      ];
      const statsSql = postgres(url, { max: 1, onnotice: () => {} });
      const cases: CaseReport[] = [];
      try {
        for (const clients of CLIENT_COUNTS) {
          const runs = await runRounds(modes, clients, { ...s, pg: { sql: statsSql, dbName: db.name } });
          const floor = summarizeRuns(runs.get('consume-floor')!);
          for (const m of modes) {
            const x = summarizeRuns(runs.get(m.key)!);
            log(`  ${clients} clients, ${m.key}: median ${x.throughput.toFixed(0)}/s, ${cpuText(x.cpu)}`);
            const isFloor = m.key === 'consume-floor';
            cases.push({
              case: m.label,
              clients,
              throughput_per_s: round(x.throughput, 1),
              p50_ms: round(x.latency.p50, 3),
              p95_ms: round(x.latency.p95, 3),
              p99_ms: round(x.latency.p99, 3),
              floor_per_s: isFloor ? null : round(floor.throughput, 1),
              ratio: isFloor ? null : round(x.throughput / floor.throughput, 3),
              rss_mb: x.rssMb === null ? null : round(x.rssMb, 0),
            });
          }
        }
      } finally {
        await statsSql.end({ timeout: 5 });
      }
      return cases;
    } finally {
      await server?.stop();
      await handle?.close();
      log(`  deleted ${await deleteRedisPrefix(REDIS_URL, redisPrefix)} Redis keys under ${redisPrefix}:`);
      await db?.drop();
    }
  },
};

export default keyAuth;
