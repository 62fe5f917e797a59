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
  const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
  let closing = false;
  const restarts: string[] = [];

  // A process restarts as a supervisor (systemd, Kubernetes) would restart it: a start that fails,
  // because PostgreSQL is still down, say, is tried again until it comes up.
  const startServerProcess = async (i: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const server = await startServer({ ...env, PORT: String(ports[i]) }, Math.max(30_000, deadline - Date.now()));
        keepLog(server.child, `server-${i}`);
        if (attempt > 1) restarts.push(`server-${i} started on attempt ${attempt}`);
        return server;
      } catch (e) {
        if (closing || Date.now() > deadline) throw e;
        restarts.push(`server-${i} failed to start (attempt ${attempt})`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  };
  // The first server migrates alone; the second starts on a migrated database.
  const servers: ServerProcess[] = [await startServerProcess(0, 180_000)];
  servers.push(await startServerProcess(1, 180_000));

  // The worker is supervised the same way: if it exits (a start that found PostgreSQL down), it is
  // started again after a second — except while a kill-worker fault holds it down.
  let worker: ChildProcess | null = null;
  let workerOut = '';
  let workerHeldDown = false;
  const startWorker = () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/worker.ts'], { cwd: repoRoot, env: { ...process.env, ...env } });
    worker = child;
    workerOut = '';
    child.stdout.on('data', (d) => (workerOut = (workerOut + d).slice(-4000)));
    child.stderr.on('data', (d) => (workerOut = (workerOut + d).slice(-4000)));
    keepLog(child, 'worker');
    child.once('exit', (code, signal) => {
      if (closing || workerHeldDown || worker !== child) return;
      restarts.push(`worker exited (${signal ?? code}) and was started again`);
      setTimeout(() => !closing && !workerHeldDown && worker === child && startWorker(), 1_000).unref();
    });
  };
  startWorker();
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
      servers[i] = await startServerProcess(i, 300_000);
    },
    async killWorker() {
      workerHeldDown = true;
      if (worker) await killHard(worker);
    },
    restartWorker() {
      workerHeldDown = false;
      startWorker();
    },
    workerAlive: () => worker !== null && !exited(worker),
    workerOutput: () => workerOut,
    /** What the supervisor did on its own: starts that failed and were tried again. */
    restarts: () => [...restarts],
    async close() {
      closing = true;
      await Promise.all(servers.map((s) => s.stop()));
      if (worker) await killHard(worker);
      await redis.close();
      await pg.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
export type Cluster = Awaited<ReturnType<typeof startCluster>>;
