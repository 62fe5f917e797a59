import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

/** Set by the primary on each process it forks: which of the N it is (kept by its replacement). */
const INDEX_ENV = 'CREDITDESK_SERVER_PROCESS';
/** How long the primary waits for its processes to finish after SIGTERM (each gives itself 10 s). */
const SHUTDOWN_MS = 15_000;

/**
 * Whether this process runs what must run once per server (the in-server job worker, the refill
 * listener): the only process, or the first of a cluster.
 */
export const leadsServer = () => cluster.isPrimary || process.env[INDEX_ENV] === '0';

/**
 * The primary of SERVER_PROCESSES > 1: forks the processes one after another (the first migrates,
 * creates the first admin and seeds providers before the others start), restarts one that dies
 * after it listened, stops everything when one fails to start, and on SIGTERM or SIGINT has each
 * finish its requests. It opens no database and serves nothing itself: it hands connections out.
 */
export function runPrimary(count: number, log: Logger): void {
  const live = new Set<Worker>();
  let stopping = false;

  const fork = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const worker = cluster.fork({ [INDEX_ENV]: String(index) });
      live.add(worker);
      let listened = false;
      worker.once('listening', () => {
        listened = true;
        resolve();
      });
      worker.once('exit', (code, signal) => {
        live.delete(worker);
        if (stopping) return;
        if (!listened) return reject(new Error(`server process ${index} exited with ${signal ?? code} before it listened`));
        log.warn('server process %d (pid %s) exited with %s: starting another', index, String(worker.process.pid), signal ?? code);
        fork(index).catch((err: unknown) => shutdown(1, err));
      });
    });

  const shutdown = (code: number, err?: unknown) => {
    if (stopping) return;
    stopping = true;
    if (err) log.error({ err }, 'stopping every server process');
    else log.info('stopping %d server processes', live.size);
    const done = () => live.size === 0 && process.exit(code);
    for (const w of live) {
      w.once('exit', done);
      w.process.kill('SIGTERM');
    }
    done();
    setTimeout(() => {
      for (const w of live) w.process.kill('SIGKILL');
      process.exit(1);
    }, SHUTDOWN_MS).unref();
  };

  // A terminal's Ctrl-C reaches every process of the group; the processes ignore SIGINT and wait for this SIGTERM.
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));

  void (async () => {
    for (let i = 0; i < count; i++) await fork(i);
    log.info('%d server processes listening (pids %s)', count, [...live].map((w) => w.process.pid).join(', '));
  })().catch((err: unknown) => shutdown(1, err));
}
