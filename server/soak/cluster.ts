import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTempPostgres } from '../faults/lib/temp-postgres';
import { startTempRedis } from '../faults/lib/temp-redis';
import { repoRoot, startServer, type ServerProcess } from '../test/spawn';

/**
 * The system under test: private PostgreSQL and Redis, two server processes and one worker. Each
 * process can be killed -9 and restarted on the same port, and each service stopped and started.
 */
export async function startCluster(extraEnv: Record<string, string>, ports: number[]) {
  const [pg, redis] = await Promise.all([startTempPostgres(), startTempRedis()]);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cd-soak-'));
  // Errors the processes log are kept after the run, so an unexpected 5xx can be chased to its stack.
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'cd-soak-logs-'));
  const keepLog = (child: ChildProcess, name: string) => {
    const file = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
    child.stdout?.pipe(file, { end: false });
    child.stderr?.pipe(file, { end: false });
  };
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    REDIS_PREFIX: `soak-${randomBytes(3).toString('hex')}`,
    DATA_DIR: dataDir,
    MASTER_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'error',
    DATABASE_POOL_MAX: '8',
    WORKER_IN_SERVER: 'false',
    ALLOW_PRIVATE_OUTBOUND: 'true',
    ALLOW_PRIVATE_IMAGE_URLS: 'true',
    ENHANCE_HOLD_GRACE_SECONDS: '1',
    WEBHOOK_TIMEOUT_SECONDS: '3',
    PUBLIC_URL: `http://127.0.0.1:${ports[0]}`,
    ...extraEnv,
  };
  // The first server migrates alone; the second starts on a migrated database.
  const start = async (i: number, timeoutMs: number) => {
    const server = await startServer({ ...env, PORT: String(ports[i]) }, timeoutMs);
    keepLog(server.child, `server-${i}`);
    return server;
  };
  const servers: ServerProcess[] = [await start(0, 180_000)];
  servers.push(await start(1, 180_000));
  let worker: ChildProcess | null = null;
  let workerOut = '';
  const startWorker = () => {
    workerOut = '';
    worker = spawn(process.execPath, ['--import', 'tsx', 'server/worker.ts'], { cwd: repoRoot, env: { ...process.env, ...env } });
    worker.stdout!.on('data', (d) => (workerOut = (workerOut + d).slice(-4000)));
    worker.stderr!.on('data', (d) => (workerOut = (workerOut + d).slice(-4000)));
    keepLog(worker, 'worker');
  };
  startWorker();
  const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
  const killHard = (c: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (exited(c)) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });

  return {
    env,
    logDir,
    pg,
    redis,
    urls: () => servers.map((s) => s.url),
    async killServer(i: number) {
      await killHard(servers[i]!.child);
    },
    async restartServer(i: number) {
      servers[i] = await start(i, 120_000);
    },
    async killWorker() {
      if (worker) await killHard(worker);
    },
    restartWorker: startWorker,
    workerAlive: () => worker !== null && !exited(worker),
    workerOutput: () => workerOut,
    async close() {
      await Promise.all(servers.map((s) => s.stop()));
      if (worker) await killHard(worker);
      await redis.close();
      await pg.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
export type Cluster = Awaited<ReturnType<typeof startCluster>>;
