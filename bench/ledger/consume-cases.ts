import postgres, { type Sql } from 'postgres';
import { log } from '../lib/benchmark';
import { runClosedLoop, type LoadResult } from '../lib/load';
import { pgBackendsCpuMs, pgCpuDelta, selfCpuMs } from '../lib/cpu';
import type { CaseReport } from '../lib/results';
import { median, round, summarize } from '../lib/stats';
import { modes, type ConsumeSettings, type Mode } from './consume-modes';

/** CPU per operation in ms: where the ledger code runs, in PostgreSQL, and in this process (the load generator for HTTP). */
type CpuPerOp = { app: number; pg: number; self: number };
type Measured = LoadResult & { rssMb: number | null; cpu: CpuPerOp };

async function measure(mode: Mode, clients: number, s: ConsumeSettings, statsSql: Sql): Promise<Measured> {
  const { op, close, rssMb } = await mode.open(clients);
  try {
    let start = { app: 0, self: 0, pg: new Map<number, number>() };
    let end = start;
    const read = async () => ({ app: mode.appCpuMs(), self: selfCpuMs(), pg: await pgBackendsCpuMs(statsSql, s.dbName) });
    const result = await runClosedLoop({
      clients,
      op,
      warmupMs: s.warmupSeconds * 1000,
      durationMs: s.seconds * 1000,
      onMeasureStart: async () => void (start = await read()),
      onMeasureEnd: async () => void (end = await read()),
    });
    if (result.errors && isTooManyConnections(result.firstError)) throw result.firstError;
    if (result.errors) throw new Error(`${mode.label} at ${clients} clients: ${result.errors} errors; first: ${String(result.firstError)}`);
    const perOp = (ms: number) => ms / Math.max(1, result.ops);
    const cpu = { app: perOp(end.app - start.app), pg: perOp(pgCpuDelta(start.pg, end.pg)), self: perOp(end.self - start.self) };
    return { ...result, rssMb: rssMb(), cpu };
  } finally {
    await close();
  }
}

/** PostgreSQL refused a connection (max_connections reached, e.g. by test runs sharing the server). */
const isTooManyConnections = (err: unknown) => (err as { code?: string } | null)?.code === '53300';

/** A case refused connections is run again after a pause, a few times, rather than recorded with errors. */
async function measureWithRetry(mode: Mode, clients: number, s: ConsumeSettings, statsSql: Sql): Promise<Measured> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await measure(mode, clients, s, statsSql);
    } catch (err) {
      if (!isTooManyConnections(err) || attempt >= 6) throw err;
      log(`  ${clients} clients, ${mode.key}: PostgreSQL has no free connection (others are using it); retrying in 15 s`);
      await new Promise((r) => setTimeout(r, 15_000));
    }
  }
}

const cpuText = (c: CpuPerOp, http: boolean) => `cpu/op: ${http ? 'server' : 'node'} ${c.app.toFixed(2)} ms, postgres ${c.pg.toFixed(2)} ms${http ? `, load generator ${c.self.toFixed(2)} ms` : ''}`;

/** The cases of one client count from its rounds: medians of throughput and CPU, percentiles over all samples. */
function report(all: Mode[], runs: Map<string, Measured[]>, clients: number): CaseReport[] {
  const floorPerS = median(runs.get('floor')!.map((x) => x.throughputPerS))!;
  return all.map((mode) => {
    const rs = runs.get(mode.key)!;
    const throughput = median(rs.map((x) => x.throughputPerS))!;
    const lat = summarize(rs.flatMap((x) => x.latenciesMs));
    const isFloor = mode.key === 'floor';
    const ratio = isFloor ? null : throughput / floorPerS;
    const rss = rs.map((x) => x.rssMb).filter((x): x is number => x !== null);
    const cpu = { app: median(rs.map((x) => x.cpu.app))!, pg: median(rs.map((x) => x.cpu.pg))!, self: median(rs.map((x) => x.cpu.self))! };
    log(`  ${clients} clients, ${mode.key}: median ${throughput.toFixed(0)}/s, ${cpuText(cpu, mode.key === 'http')}`);
    return {
      case: mode.label,
      clients,
      throughput_per_s: round(throughput, 1),
      p50_ms: round(lat.p50, 3),
      p95_ms: round(lat.p95, 3),
      p99_ms: round(lat.p99, 3),
      floor_per_s: isFloor ? null : round(floorPerS, 1),
      ratio: round(ratio, 3),
      rss_mb: rss.length ? round(Math.max(...rss), 0) : null,
      ...(mode.goal && ratio !== null ? { goal: { text: mode.goal.text, met: ratio >= mode.goal.minRatio } } : {}),
    };
  });
}

/**
 * Each client count runs `rounds` rounds of every mode back to back (floor, in-process, HTTP, …),
 * so a noisy machine slows them alike; throughput is the median over rounds, latency percentiles
 * are over every sample of every round.
 */
export async function runConsumeCases(s: ConsumeSettings): Promise<CaseReport[]> {
  if (Math.max(...s.clientCounts) > s.userIds.length) throw new Error('more clients than bench users');
  const all = modes(s);
  const reports: CaseReport[] = [];
  const statsSql = postgres(s.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    for (const clients of s.clientCounts) {
      const runs = new Map<string, Measured[]>(all.map((m) => [m.key, []]));
      for (let r = 1; r <= s.rounds; r++) {
        for (const mode of all) {
          const res = await measureWithRetry(mode, clients, s, statsSql);
          runs.get(mode.key)!.push(res);
          log(
            `  ${clients} clients, round ${r}/${s.rounds}, ${mode.key}: ${res.throughputPerS.toFixed(0)}/s ` +
              `(${res.ops} ops in ${res.seconds.toFixed(1)} s; ${cpuText(res.cpu, mode.key === 'http')})`,
          );
        }
      }
      reports.push(...report(all, runs, clients));
    }
  } finally {
    await statsSql.end({ timeout: 5 });
  }
  return reports;
}
