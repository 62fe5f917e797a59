import { setTimeout as sleep } from 'node:timers/promises';
import type { Sql } from 'postgres';
import { log } from './benchmark';
import { pgBackendsCpuMs, pgCpuDelta, selfCpuMs } from './cpu';
import { runClosedLoop, type LoadResult, type Op } from './load';
import { sampleRss } from './rss-sampler';
import { median, summarize, type LatencySummary } from './stats';

/** One way of running an operation, opened per client count and closed after each measurement. */
export type RoundMode = {
  key: string;
  label: string;
  open: (clients: number) => Promise<{ op: Op; close: () => Promise<void> }>;
  /** A process whose resident memory is sampled during the measurement (the server). */
  rssPid?: () => number | undefined;
  /** CPU ms used so far where the code under test runs (default: this process). */
  appCpuMs?: () => number;
  /** CPU ms used so far by a helper process outside the code under test (the live bench's subscribers). */
  otherCpuMs?: () => number;
};

/** Where CPU time goes, per operation: the code under test, PostgreSQL's backends, this process. */
export type CpuPerOp = { app: number; pg: number; self: number; other?: number };
export type Measured = LoadResult & { rssMb: number | null; cpu: CpuPerOp | null };

export type Summary = { throughput: number; latency: LatencySummary; rssMb: number | null; runs: number; cpu: CpuPerOp | null };

/** Reads PostgreSQL backends' CPU for one database (a local server whose /proc is readable). */
export type PgCpu = { sql: Sql; dbName: string };

export const cpuText = (c: CpuPerOp | null) =>
  c
    ? `cpu/op: app ${c.app.toFixed(2)} ms, postgres ${c.pg.toFixed(2)} ms, bench process ${c.self.toFixed(2)} ms` + (c.other === undefined ? '' : `, other process ${c.other.toFixed(2)} ms`)
    : 'cpu: -';

/** PostgreSQL refused a connection (max_connections reached, e.g. by test runs sharing the server). */
export const isTooManyConnections = (err: unknown) => (err as { code?: string } | null)?.code === '53300';

async function measureOnce(mode: RoundMode, clients: number, seconds: number, warmupSeconds: number, pg?: PgCpu): Promise<Measured> {
  const { op, close } = await mode.open(clients);
  let sampler: ReturnType<typeof sampleRss> | undefined;
  const appCpu = mode.appCpuMs ?? selfCpuMs;
  const read = async () => ({
    app: appCpu(),
    self: selfCpuMs(),
    other: mode.otherCpuMs?.(),
    pg: pg ? await pgBackendsCpuMs(pg.sql, pg.dbName) : new Map<number, number>(),
  });
  let start: Awaited<ReturnType<typeof read>> | undefined;
  let end: Awaited<ReturnType<typeof read>> | undefined;
  try {
    const result = await runClosedLoop({
      clients,
      op,
      warmupMs: warmupSeconds * 1000,
      durationMs: seconds * 1000,
      onMeasureStart: async () => {
        start = await read();
        sampler = mode.rssPid ? sampleRss(mode.rssPid()) : undefined;
      },
      onMeasureEnd: async () => void (end = await read()),
    });
    const rssMb = sampler?.stop() ?? null;
    if (result.errors) {
      if (isTooManyConnections(result.firstError)) throw result.firstError;
      const e = result.firstError;
      throw new Error(`${mode.label} at ${clients} clients: ${result.errors} errors; first: ${e instanceof Error ? e.message : String(e)}`);
    }
    const perOp = (ms: number) => ms / Math.max(1, result.ops);
    const cpu =
      start && end && pg
        ? {
            app: perOp(end.app - start.app),
            pg: perOp(pgCpuDelta(start.pg, end.pg)),
            self: perOp(end.self - start.self),
            ...(start.other === undefined || end.other === undefined ? {} : { other: perOp(end.other - start.other) }),
          }
        : null;
    return { ...result, rssMb, cpu };
  } finally {
    sampler?.stop();
    await close();
  }
}

/** A measurement refused connections is run again after a pause, a few times, rather than recorded with errors. */
export async function measure(mode: RoundMode, clients: number, seconds: number, warmupSeconds: number, pg?: PgCpu): Promise<Measured> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await measureOnce(mode, clients, seconds, warmupSeconds, pg);
    } catch (err) {
      if (!isTooManyConnections(err) || attempt >= 6) throw err;
      log(`  ${clients} clients, ${mode.key}: PostgreSQL has no free connection (others are using it); retrying in 15 s`);
      await sleep(15_000);
    }
  }
}

/**
 * Runs `rounds` rounds of every mode back to back at one client count (A B C, A B C, …), so a noisy
 * machine slows them alike. Returns each mode's runs.
 */
export async function runRounds(modes: RoundMode[], clients: number, s: { rounds: number; seconds: number; warmupSeconds: number; pg?: PgCpu }): Promise<Map<string, Measured[]>> {
  const runs = new Map<string, Measured[]>(modes.map((m) => [m.key, []]));
  for (let r = 1; r <= s.rounds; r++) {
    for (const mode of modes) {
      const res = await measure(mode, clients, s.seconds, s.warmupSeconds, s.pg);
      runs.get(mode.key)!.push(res);
      log(
        `  ${clients} clients, round ${r}/${s.rounds}, ${mode.key}: ${res.throughputPerS.toFixed(0)}/s ` +
          `(${res.ops} ops in ${res.seconds.toFixed(1)} s, p50 ${summarize(res.latenciesMs).p50?.toFixed(1)} ms` +
          `${res.rssMb === null ? '' : `, rss ${res.rssMb.toFixed(0)} MB`}; ${cpuText(res.cpu)})`,
      );
    }
  }
  return runs;
}

/** Median throughput over the runs, latency percentiles over every sample of every run, highest RSS. */
export function summarizeRuns(rs: Measured[]): Summary {
  const rss = rs.map((x) => x.rssMb).filter((x): x is number => x !== null);
  const cpus = rs.map((x) => x.cpu).filter((x): x is CpuPerOp => x !== null);
  const others = cpus.map((c) => c.other).filter((x): x is number => x !== undefined);
  const cpu = cpus.length
    ? {
        app: median(cpus.map((c) => c.app))!,
        pg: median(cpus.map((c) => c.pg))!,
        self: median(cpus.map((c) => c.self))!,
        ...(others.length ? { other: median(others)! } : {}),
      }
    : null;
  return {
    cpu,
    throughput: median(rs.map((x) => x.throughputPerS))!,
    latency: summarize(rs.flatMap((x) => x.latenciesMs)),
    rssMb: rss.length ? Math.max(...rss) : null,
    runs: rs.length,
  };
}
