import { randomBytes } from 'node:crypto';
import { openDb, type DbHandle } from '../server/db/client';
import { checkLedger } from '../server/ledger/reconcile';
import { startServer, type ServerProcess } from '../server/test/spawn';
import { openStream, type SseStream } from '../server/test/sse-client';
import { adminLogin } from './lib/admin-session';
import { envInt, log, type Benchmark } from './lib/benchmark';
import { createBenchDb, type BenchDb } from './lib/bench-db';
import { treeCpuMs } from './lib/cpu';
import { JsonPoster } from './lib/http-client';
import type { CaseReport } from './lib/results';
import { cpuText, runRounds, summarizeRuns, type RoundMode } from './lib/rounds';
import { BIG_ALLOWANCE, createKey, createUsers, setBalances } from './lib/seed';
import { round } from './lib/stats';
import { consumeHttpOp } from './http/ops';
import { deleteRedisPrefix } from './http/setup';

const CLIENT_COUNTS = [16, 64];
const USERS = 64;
const SUBSCRIBERS = 200;
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN = { email: 'bench-admin@bench.invalid', password: 'bench-password-123' };
/** Issue 19: 200 open subscriptions add no measurable latency to credits.consume. */
const GOAL_RATIO = 0.9;

/**
 * credits.consume over HTTP with 0 and with 200 open live streams on the same server, rounds
 * interleaved. The 200: 100 unfiltered ledger feeds (every charge goes to each), 50 figure streams,
 * 50 ledger feeds filtered to a user outside the load (read and dropped by the filter).
 */
async function openSubscribers(baseUrl: string, cookie: string): Promise<SseStream<unknown>[]> {
  const streams: SseStream<unknown>[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const [path, input] = i % 4 < 2 ? ['admin.live.ledger', {}] : i % 4 === 2 ? ['admin.live.figures', {}] : ['admin.live.ledger', { userId: 'nobody-in-the-load' }];
    streams.push(openStream(baseUrl, path, input, { cookie }));
  }
  await Promise.all(streams.map((s) => s.connected));
  // Each stream's opening event (its catch-up read done), so no opening work falls inside a measurement.
  const deadline = Date.now() + 60_000;
  while (streams.some((s) => s.events.length === 0 && !s.ended())) {
    if (Date.now() > deadline) throw new Error('the live streams did not send their opening events');
    await new Promise((r) => setTimeout(r, 50));
  }
  const refused = streams.filter((s) => s.ended());
  if (refused.length) throw new Error(`${refused.length} streams did not open: ${JSON.stringify(refused[0]!.ended())}`);
  return streams;
}

const live: Benchmark = {
  name: 'live',
  description: 'credits.consume over HTTP with 0 and with 200 open live subscriptions (SSE) on the same server',
  async run() {
    const s = { rounds: envInt('BENCH_ROUNDS', 3), seconds: envInt('BENCH_SECONDS', 5), warmupSeconds: 1 };
    log(`settings: ${s.rounds} rounds x ${s.seconds} s per case after 1 s of warm-up (BENCH_ROUNDS, BENCH_SECONDS) at ${CLIENT_COUNTS.join(', ')} clients; Redis ${REDIS_URL}`);
    let db: BenchDb | undefined;
    let handle: DbHandle | undefined;
    let server: ServerProcess | undefined;
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
      const received = { events: 0 };
      const mode = (subs: number): RoundMode => ({
        key: `subs-${subs}`,
        label: `credits.consume over HTTP, distinct users, ${subs} open live subscriptions`,
        rssPid: () => srv.child.pid,
        appCpuMs: () => treeCpuMs(srv.child.pid),
        open: async (clients) => {
          const streams = subs ? await openSubscribers(srv.url, cookie) : [];
          const poster = new JsonPoster(srv.url, { authorization: `Bearer ${apiKey}` }, clients);
          return {
            op: consumeHttpOp(poster, users, 'user_credits'),
            close: async () => {
              poster.close();
              received.events += streams.reduce((n, st) => n + st.events.length, 0);
              for (const st of streams) st.close();
            },
          };
        },
      });
      const modes = [mode(0), mode(SUBSCRIBERS)];
      const cases: CaseReport[] = [];
      for (const clients of CLIENT_COUNTS) {
        received.events = 0;
        const runs = await runRounds(modes, clients, s);
        const [none, many] = modes.map((m) => summarizeRuns(runs.get(m.key)!));
        log(`  ${clients} clients: 0 subs ${none!.throughput.toFixed(0)}/s (${cpuText(none!.cpu)}), ${SUBSCRIBERS} subs ${many!.throughput.toFixed(0)}/s (${cpuText(many!.cpu)}); the streams received ${received.events} events`);
        for (const [m, x] of [[modes[0]!, none!], [modes[1]!, many!]] as const) {
          const ratio = m === modes[1] ? x.throughput / none!.throughput : null;
          cases.push({
            case: m.label,
            clients,
            throughput_per_s: round(x.throughput, 1),
            p50_ms: round(x.latency.p50, 3),
            p95_ms: round(x.latency.p95, 3),
            p99_ms: round(x.latency.p99, 3),
            floor_per_s: ratio === null ? null : round(none!.throughput, 1),
            ratio: round(ratio, 3),
            rss_mb: x.rssMb === null ? null : round(x.rssMb, 0),
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
      await handle?.close();
      await db?.drop();
      await deleteRedisPrefix(REDIS_URL, redisPrefix).catch(() => 0);
    }
  },
};

export default live;
