import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Sql } from 'postgres';

const tickMs = 1000 / 100; // USER_HZ is 100 on Linux

/** utime + stime of one process in ms, or 0 when it is gone or unreadable. */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * tickMs;
  } catch {
    return 0;
  }
}

function descendants(pid: number): number[] {
  const all: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    all.push(p);
    try {
      stack.push(...readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // gone
    }
  }
  return all;
}

/** CPU time in ms used so far by a process and its descendants (Linux only, else 0). */
export const treeCpuMs = (pid: number | undefined) => (pid === undefined || os.platform() !== 'linux' ? 0 : descendants(pid).reduce((s, p) => s + processCpuMs(p), 0));

/** CPU time in ms of this process. */
export const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * CPU time in ms used so far by the PostgreSQL backends connected to `dbName` (a local server
 * whose /proc we can read); backends that come and go between two readings are missed.
 */
export async function pgBackendsCpuMs(sql: Sql, dbName: string): Promise<Map<number, number>> {
  const rows = await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = ${dbName} and pid <> pg_backend_pid()`;
  return new Map(rows.map((r) => [r.pid, processCpuMs(r.pid)]));
}

/** CPU ms between two readings of the same backends. */
export function pgCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let ms = 0;
  for (const [pid, t] of after) if (before.has(pid)) ms += t - before.get(pid)!;
  return ms;
}
