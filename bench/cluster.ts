import { randomBytes } from 'node:crypto';
import os from 'node:os';
import postgres from 'postgres';
import { openDb, type DbHandle } from '../server/db/client';
import { checkLedger } from '../server/ledger/reconcile';
import { startServer, type ServerProcess } from '../server/test/spawn';
import { waitFor } from '../server/test/wait';
import { envInt, log, type Benchmark } from './lib/benchmark';
import { createBenchDb, type BenchDb } from './lib/bench-db';
import { treeCpuMs } from './lib/cpu';
import { JsonPoster } from './lib/http-client';
import type { CaseReport } from './lib/results';
import { cpuText, runRounds, summarizeRuns, type RoundMode } from './lib/rounds';
import { BIG_ALLOWANCE, createUsers, setBalances, createKey } from './lib/seed';
import { round } from './lib/stats';
import { consumeHttpOp } from './http/ops';
import { deleteRedisPrefix } from './http/setup';

const CLIENTS = 64;
const USERS = 64;
/** Each process's database pool (the default): N processes hold N × this many connections. */
const SERVER_POOL = 20;
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PROCESS_COUNTS = [1, 2];

const cluster: Benchmark = {
  name: 'cluster',
  description: 'credits.consume over HTTP, distinct users, 64 clients: 1 server process against 2 (SERVER_PROCESSES) on one port',
  async run() {
    const s = { rounds: envInt('BENCH_ROUNDS', 3), seconds: envInt('BENCH_SECONDS', 5), warmupSeconds: 1 };
    log(
      `settings: ${s.rounds} interleaved rounds x ${s.seconds} s after 1 s of warm-up (BENCH_ROUNDS, BENCH_SECONDS); load before: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    let db: BenchDb | undefined;
    let handle: DbHandle | undefined;
    const servers: ServerProcess[] = [];
    const prefixes: string[] = [];
    try {
      db = await createBenchDb();
      handle = await openDb({ databaseUrl: db.url, dataDir: db.dataDir, maxConnections: 4 });
      const users = await createUsers(handle.db, 'bench-cl', USERS, 'pro');
      await setBalances(handle.db, 'bench-cl', BIG_ALLOWANCE);
      const apiKey = await createKey(handle.db, ['credits:write']);
      const masterKey = randomBytes(32).toString('hex');
      const modes: RoundMode[] = [];
      // Both servers run for the whole benchmark (one idles while the other is measured), so the rounds interleave.
      for (const n of PROCESS_COUNTS) {
        const prefix = `cd-bench-cl-${randomBytes(4).toString('hex')}`;
        prefixes.push(prefix);
        const srv = await startServer({
          NODE_ENV: 'production',
          DATABASE_URL: db.url,
          DATABASE_POOL_MAX: String(SERVER_POOL),
          REDIS_URL,
          REDIS_PREFIX: prefix,
          LOG_LEVEL: 'info',
          DATA_DIR: db.dataDir,
          MASTER_KEY: masterKey,
          SERVER_PROCESSES: String(n),
        });
        servers.push(srv);
        if (n > 1) await waitFor(() => srv.output().includes('server processes listening'), { timeoutMs: 60_000, what: `${n} processes` });
        log(`  ${n} process(es): pid ${srv.child.pid} on ${srv.url}, database pool ${SERVER_POOL} each (${n * SERVER_POOL} connections at most)`);
        modes.push({
          key: `${n}-proc`,
          label: `credits.consume over HTTP, distinct users, ${n} server process${n > 1 ? 'es' : ''}`,
          appCpuMs: () => treeCpuMs(srv.child.pid),
          open: async (clients) => {
            // One connection per client: keep-alive connections are spread over the processes as they open.
            const poster = new JsonPoster(srv.url, { authorization: `Bearer ${apiKey}` }, clients);
            return { op: consumeHttpOp(poster, users, 'user_credits'), close: async () => poster.close() };
          },
        });
      }
      const statsSql = postgres(db.url, { max: 1, onnotice: () => {} });
      let runs;
      try {
        runs = await runRounds(modes, CLIENTS, { ...s, pg: { sql: statsSql, dbName: db.name } });
      } finally {
        await statsSql.end({ timeout: 5 });
      }
      const one = summarizeRuns(runs.get('1-proc')!);
      const cases: CaseReport[] = [];
      for (const m of modes) {
        const x = summarizeRuns(runs.get(m.key)!);
        log(`  ${m.key}: median ${x.throughput.toFixed(0)}/s, p50 ${x.latency.p50?.toFixed(1)} ms, p99 ${x.latency.p99?.toFixed(1)} ms; ${cpuText(x.cpu)}`);
        cases.push({
          case: m.label,
          clients: CLIENTS,
          throughput_per_s: round(x.throughput, 1),
          p50_ms: round(x.latency.p50, 3),
          p95_ms: round(x.latency.p95, 3),
          p99_ms: round(x.latency.p99, 3),
          // The baseline here is one process, not a raw-SQL floor.
          floor_per_s: m.key === '1-proc' ? null : round(one.throughput, 1),
          ratio: m.key === '1-proc' ? null : round(x.throughput / one.throughput, 3),
          server_cpu_ms_per_op: x.cpu ? round(x.cpu.app, 3) : null,
          postgres_cpu_ms_per_op: x.cpu ? round(x.cpu.pg, 3) : null,
        });
      }
      log(
        `  load after: ${os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')} on ${os.cpus().length} cores (the load generator shares them)`,
      );
      for (const srv of servers.splice(0)) await srv.stop();
      const ledger = await checkLedger(handle.db);
      log(`  checkLedger: ${ledger.ok ? 'OK' : 'INCONSISTENT'} (${ledger.usersChecked} users)`);
      if (!ledger.ok) throw new Error('ledger inconsistent after the benchmark');
      return cases;
    } finally {
      for (const srv of servers) await srv.stop();
      await handle?.close();
      await db?.drop();
      for (const p of prefixes) await deleteRedisPrefix(REDIS_URL, p).catch(() => 0);
    }
  },
};

export default cluster;
