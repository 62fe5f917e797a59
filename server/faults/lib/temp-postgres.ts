import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../test/spawn';

const bin = (name: string) => {
  const versions = execFileSync('ls', ['/usr/lib/postgresql']).toString().trim().split('\n').sort();
  return path.join('/usr/lib/postgresql', versions.at(-1)!, 'bin', name);
};

/**
 * A private PostgreSQL cluster for tests that stop and restart the database, so the shared one
 * other tests use is never touched. As root it runs as the postgres user (initdb refuses root).
 */
export async function startTempPostgres() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cd-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const run = (cmd: string, args: string[]) => (asRoot ? execFileSync('runuser', ['-u', 'postgres', '--', bin(cmd), ...args], { stdio: 'pipe' }) : execFileSync(bin(cmd), args, { stdio: 'pipe' }));
  const port = await freePort();
  const data = path.join(dir, 'data');
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
  const start = () => run('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  const stop = () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    async close() {
      try {
        stop();
      } catch {
        // already stopped by the test
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
