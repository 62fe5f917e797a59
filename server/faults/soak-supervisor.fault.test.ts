import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../soak/cluster';
import { freePort } from '../test/spawn';
import { waitFor } from '../test/wait';

// Seed 2 of a 30-minute soak stopped here: a server was killed while PostgreSQL restarted, its
// restart ran first and found the database down, the server exited, and the run's clean-up then
// waited for ever on the server killed by a signal (it has no exit code, only a signal code). The
// worker, restarted just before PostgreSQL went down, failed its start and was never started again.
let cluster: Cluster;
let closed = false;
beforeAll(async () => {
  cluster = await startCluster({ LOG_LEVEL: 'info' }, [await freePort(), await freePort()]);
}, 400_000);
afterAll(async () => {
  if (!closed) await cluster?.close();
});

const healthy = async (url: string) => (await fetch(`${url}/healthz`).catch(() => null))?.status === 200;

describe('[FAULT] the soak supervises its processes as systemd would', () => {
  it('a server restarted while PostgreSQL is down retries, and comes up once the database is back', async () => {
    cluster.pg.stop();
    await cluster.killServer(1);
    const restart = cluster.restartServer(1);
    await waitFor(() => cluster.restarts().includes('server-1 failed to start (attempt 1)'), { timeoutMs: 180_000, what: 'a failed start' });
    cluster.pg.start();
    await restart;
    expect(cluster.restarts().some((r) => /^server-1 started on attempt \d+$/.test(r))).toBe(true);
    expect(await healthy(cluster.urls()[1]!)).toBe(true);
    expect(await healthy(cluster.urls()[0]!)).toBe(true);
  }, 400_000);

  it('a worker that exits while it starts (the database down) is started again', async () => {
    await cluster.killWorker();
    cluster.pg.stop();
    cluster.restartWorker();
    await waitFor(() => cluster.restarts().some((r) => r.startsWith('worker exited')), { timeoutMs: 180_000, what: 'the worker to fail its start' });
    cluster.pg.start();
    await waitFor(() => cluster.workerAlive() && cluster.workerOutput().includes('Creditdesk worker started'), { timeoutMs: 180_000, what: 'the worker to run again' });
  }, 400_000);

  it('closing a cluster with a process killed by a signal ends', async () => {
    await cluster.killServer(0);
    closed = true;
    await cluster.close();
  }, 120_000);
});
