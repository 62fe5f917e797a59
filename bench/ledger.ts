import { randomBytes } from 'node:crypto';
import { startServer, type ServerProcess } from '../server/test/spawn';
import { openDb, type DbHandle } from '../server/db/client';
import { checkLedger } from '../server/ledger/reconcile';
import { envInt, log, type Benchmark } from './lib/benchmark';
import { createBenchDb, type BenchDb } from './lib/bench-db';
import type { CaseReport } from './lib/results';
import { runConsumeCases } from './ledger/consume-cases';
import { runResetCases } from './ledger/reset-cases';
import { createConsumeKey, createConsumeUsers } from './ledger/setup';

const CLIENT_COUNTS = [16, 64];
const DEFAULT_USERS = 1_000_000;
/** The server's database pool: its default, stated so the HTTP cases do not change when the default does. */
const SERVER_POOL = 20;

async function verifyLedger(handle: DbHandle): Promise<void> {
  const check = await checkLedger(handle.db);
  log(
    `  checkLedger: ${check.ok ? 'OK' : 'INCONSISTENT'} — ${check.usersChecked} users checked, ${check.offenders.length} offenders, ` +
      `${check.grantOffenders.length} grant offenders, ${check.untrackedAllowance.length} untracked allowances, ${check.overduePendingHolds} overdue holds`,
  );
  if (!check.ok) {
    const first = { offenders: check.offenders.slice(0, 3), grants: check.grantOffenders.slice(0, 3), untracked: check.untrackedAllowance.slice(0, 3) };
    throw new Error(`the ledger is inconsistent after the benchmark: ${JSON.stringify(first)}`);
  }
}

const ledger: Benchmark = {
  name: 'ledger',
  description: 'credits.consume (in-process and HTTP) and the monthly reset, each against its raw-SQL floor',
  async run() {
    const users = envInt('BENCH_USERS', DEFAULT_USERS);
    const settings = { rounds: envInt('BENCH_ROUNDS', 3), seconds: envInt('BENCH_SECONDS', 5), warmupSeconds: 1, resetRuns: envInt('BENCH_RESET_RUNS', 2) };
    log(
      `settings: ${settings.rounds} rounds x ${settings.seconds} s per consume case (BENCH_ROUNDS, BENCH_SECONDS); ` +
        `monthly reset over ${users} users (BENCH_USERS${users === DEFAULT_USERS ? '' : `, default ${DEFAULT_USERS}`}), ` +
        `${settings.resetRuns} runs each (BENCH_RESET_RUNS)`,
    );
    let db: BenchDb | undefined;
    let handle: DbHandle | undefined;
    let server: ServerProcess | undefined;
    const dropOnSignal = () =>
      void (async () => {
        await server?.stop('SIGKILL');
        await db?.drop();
        process.exit(130);
      })();
    process.once('SIGINT', dropOnSignal);
    try {
      db = await createBenchDb();
      log(`  database ${db.name} created and migrated`);
      handle = await openDb({ databaseUrl: db.url, dataDir: db.dataDir, maxConnections: 4 });
      const userIds = await createConsumeUsers(handle.db, Math.max(...CLIENT_COUNTS));
      const apiKey = await createConsumeKey(handle.db);
      server = await startServer({
        NODE_ENV: 'production',
        DATABASE_URL: db.url,
        REDIS_URL: 'off',
        LOG_LEVEL: 'warn',
        DATA_DIR: db.dataDir,
        MASTER_KEY: randomBytes(32).toString('hex'),
        DATABASE_POOL_MAX: String(SERVER_POOL),
      });
      log(`  server on ${server.url} (database pool of ${SERVER_POOL} connections, the default)`);

      const cases: CaseReport[] = await runConsumeCases({
        databaseUrl: db.url,
        dbName: db.name,
        server: { url: server.url, pid: server.child.pid, apiKey },
        userIds,
        clientCounts: CLIENT_COUNTS,
        rounds: settings.rounds,
        seconds: settings.seconds,
        warmupSeconds: settings.warmupSeconds,
      });
      await server.stop();
      server = undefined;

      cases.push(...(await runResetCases(db.url, users, settings.resetRuns)));
      await verifyLedger(handle);
      return cases;
    } finally {
      process.off('SIGINT', dropOnSignal);
      await server?.stop();
      await handle?.close();
      await db?.drop();
    }
  },
};

export default ledger;
