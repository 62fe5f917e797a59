import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { round } from './stats';

export const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** One row of a results file; a field that does not apply is null. */
export type CaseRow = {
  case: string;
  clients: number | null;
  throughput_per_s: number | null;
  p50_ms: number | null;
  p95_ms?: number | null;
  p99_ms: number | null;
  floor_per_s: number | null;
  ratio: number | null;
  /** Where a case has a second floor (the HTTP cases: the raw SQL under the bare HTTP floor), it and its ratio. */
  sql_floor_per_s?: number | null;
  sql_ratio?: number | null;
  rss_mb?: number | null;
  /** An open-loop case: the p99 of its floor paced at the same rate in the same run. */
  floor_p99_ms?: number | null;
  /** CPU per operation where the server ran and in PostgreSQL's backends, where a case reports it. */
  server_cpu_ms_per_op?: number | null;
  postgres_cpu_ms_per_op?: number | null;
  /** The live bench: CPU per operation of the process reading the subscriptions' events. */
  subscribers_cpu_ms_per_op?: number | null;
};

/** A row as a benchmark reports it: the goal is printed, not written to the results file. */
export type CaseReport = CaseRow & { goal?: { text: string; met: boolean } };

/**
 * A step timed once (a seed, a backfill, a batch job): its time, and with `units` (rows, days,
 * users) how many a second it did, to `digits` decimals.
 */
export const timedOnceCase = (label: string, ms: number, units?: number, digits = 0): CaseReport => ({
  case: label,
  clients: null,
  throughput_per_s: units === undefined ? null : round((units * 1000) / ms, digits),
  p50_ms: round(ms, 0),
  p99_ms: null,
  floor_per_s: null,
  ratio: null,
});

export type ResultsFile = { name: string; machine: string; date: string; cases: CaseRow[] };

/** A short description of this machine: CPU, cores, memory, Node and the PostgreSQL server. */
export function machineString(postgresVersion: string): string {
  const cpus = os.cpus();
  const model = (cpus[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim();
  const gib = Math.round(os.totalmem() / 2 ** 30);
  return `${model}, ${cpus.length} cores, ${gib} GiB, node ${process.version}, PostgreSQL ${postgresVersion}`;
}

export function writeResults(file: ResultsFile): string {
  const dir = path.join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  const target = path.join(dir, `${file.name}.json`);
  writeFileSync(target, `${JSON.stringify(file, null, 2)}\n`);
  return target;
}

export const toRow = ({ goal: _goal, ...row }: CaseReport): CaseRow => row;

const fmt = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '-' : v.toFixed(digits));

/** The table printed at the end of a benchmark. */
export function formatTable(cases: CaseReport[]): string {
  const header = ['case', 'clients', 'throughput/s', 'p50 ms', 'p95 ms', 'p99 ms', 'floor/s', 'ratio', 'sql floor/s', 'sql ratio', 'rss MB', 'goal'];
  const rows = cases.map((c) => [
    c.case,
    c.clients === null ? '-' : String(c.clients),
    fmt(c.throughput_per_s),
    fmt(c.p50_ms, 2),
    fmt(c.p95_ms, 2),
    fmt(c.p99_ms, 2),
    fmt(c.floor_per_s),
    fmt(c.ratio, 2),
    fmt(c.sql_floor_per_s),
    fmt(c.sql_ratio, 2),
    fmt(c.rss_mb, 0),
    c.goal ? `${c.goal.met ? 'MET' : 'NOT MET'} (${c.goal.text})` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
