import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from './test/harness';
import { runScript, startServer, type ServerProcess } from './test/spawn';
import { waitFor } from './test/wait';

/** GET on a fresh connection (no keep-alive), so each request is handed to a process anew. */
const fresh = (url: string) =>
  new Promise<number>((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });

/** The server's JSON log lines (LOG_LEVEL debug: one per request, each with its process's pid). */
const lines = (s: ServerProcess): { pid: number; msg: string; url?: string }[] =>
  s
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
const listeningPids = (s: ServerProcess) =>
  new Set(
    lines(s)
      .filter((l) => l.msg.startsWith('Creditdesk on'))
      .map((l) => l.pid),
  );

let env: TestEnv;
let server: ServerProcess;

beforeAll(async () => {
  env = await createTestEnv();
  // Three processes compile the server at once: on a busy machine that takes minutes, not seconds.
  server = await startServer({ ...env.env, LOG_LEVEL: 'debug', SERVER_PROCESSES: '2', DATABASE_POOL_MAX: '4' }, 180_000);
  // A process logs its start just after it listens: wait for both lines.
  await waitFor(() => listeningPids(server).size === 2, { timeoutMs: 120_000, what: 'both processes' });
}, 320_000);
afterAll(async () => {
  await server?.stop('SIGKILL');
  await env.close();
});

describe('SERVER_PROCESSES: N HTTP server processes on one port', () => {
  it('answers requests from both processes', async () => {
    const pids = listeningPids(server);
    expect(pids.size).toBe(2);
    expect(pids.has(server.child.pid!)).toBe(false);
    for (let i = 0; i < 20; i++) expect(await fresh(`${server.url}/livez`)).toBe(200);
    const answered = new Set(
      lines(server)
        .filter((l) => l.url === '/livez')
        .map((l) => l.pid),
    );
    expect(answered).toEqual(pids);
  });

  it('a killed process is replaced and the port keeps answering meanwhile', async () => {
    const before = listeningPids(server);
    const victim = [...before][0]!;
    process.kill(victim, 'SIGKILL');
    await waitFor(() => lines(server).some((l) => l.msg.includes(`(pid ${victim}) exited`)), { what: 'the primary to notice' });
    // The other process answers every request while the replacement starts.
    let replacement: number | undefined;
    await waitFor(
      async () => {
        expect(await fresh(`${server.url}/livez`)).toBe(200);
        replacement = [...listeningPids(server)].find((p) => !before.has(p));
        return replacement;
      },
      { timeoutMs: 150_000, what: 'the replacement process' },
    );
    const start = lines(server).length;
    for (let i = 0; i < 20; i++) expect(await fresh(`${server.url}/livez`)).toBe(200);
    const answered = new Set(
      lines(server)
        .slice(start)
        .filter((l) => l.url === '/livez')
        .map((l) => l.pid),
    );
    expect(answered).toEqual(new Set([...before].filter((p) => p !== victim).concat(replacement!)));
  }, 180_000);

  it('SIGTERM stops every process gracefully and the primary exits 0', async () => {
    const pids = [...listeningPids(server)].filter((p) => isAlive(p));
    expect(pids.length, server.output().slice(-3000)).toBe(2);
    expect(await server.stop('SIGTERM')).toBe(0);
    for (const p of pids) expect(isAlive(p)).toBe(false);
    const stopped = lines(server)
      .filter((l) => l.msg.includes('received: finishing in-flight requests'))
      .map((l) => l.pid);
    expect(new Set(stopped)).toEqual(new Set(pids));
  });

  it('refuses more than one process on the embedded PGlite database, naming the variable', async () => {
    const run = await runScript('server/main.ts', [], { DATABASE_URL: '', REDIS_URL: 'off', SERVER_PROCESSES: '2', DATA_DIR: env.env.DATA_DIR! });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('Invalid configuration: SERVER_PROCESSES=2 needs DATABASE_URL (the embedded PGlite database is opened by one process only)');
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
