import postgres from 'postgres';
import { openDb } from '../../server/db/client';
import { log } from '../lib/benchmark';
import { JsonPoster } from '../lib/http-client';
import { runClosedLoop, type LoadResult, type Op } from '../lib/load';
import { selfRssMb, treeRssMb } from '../lib/proc';
import type { CaseReport } from '../lib/results';
import { median, round, summarize } from '../lib/stats';
import { floorOp, httpOp, inProcessOp } from './consume-ops';

export type ConsumeSettings = {
  databaseUrl: string;
  server: { url: string; pid: number | undefined; apiKey: string };
  userIds: string[];
  clientCounts: number[];
  rounds: number;
  seconds: number;
  warmupSeconds: number;
};

type Mode = {
  key: string;
  label: string;
  /** Opens what the clients share, returns their operation and how to close it. */
  open: (clients: number) => Promise<{ op: Op; close: () => Promise<void>; rssMb: () => number | null }>;
  goal?: { text: string; minRatio: number };
};

const IN_PROCESS_GOAL = 0.6;

function modes(s: ConsumeSettings): Mode[] {
  const floor = (prepare: boolean) => async (clients: number) => {
    const sql = postgres(s.databaseUrl, { max: clients, prepare, onnotice: () => {} });
    return { op: floorOp(sql, s.userIds), close: () => sql.end({ timeout: 5 }), rssMb: selfRssMb };
  };
  return [
    { key: 'floor', label: 'credits.consume raw-SQL floor (postgres.js, prepared)', open: floor(true) },
    { key: 'floor-unprepared', label: 'credits.consume raw SQL, unprepared (diagnostic)', open: floor(false) },
    {
      key: 'in-process',
      label: 'credits.consume in-process (consumeCredits, drizzle)',
      goal: { text: `>= ${IN_PROCESS_GOAL} of floor`, minRatio: IN_PROCESS_GOAL },
      open: async (clients) => {
        const handle = await openDb({ databaseUrl: s.databaseUrl, dataDir: '.data', maxConnections: clients });
        return { op: inProcessOp(handle.db, s.userIds), close: handle.close, rssMb: selfRssMb };
      },
    },
    {
      key: 'http',
      label: 'credits.consume over HTTP (POST /trpc, API key)',
      open: async (clients) => {
        const poster = new JsonPoster(s.server.url, { authorization: `Bearer ${s.server.apiKey}` }, clients);
        return { op: httpOp(poster, s.userIds), close: async () => poster.close(), rssMb: () => treeRssMb(s.server.pid) };
      },
    },
  ];
}

async function measure(mode: Mode, clients: number, s: ConsumeSettings): Promise<LoadResult & { rssMb: number | null }> {
  const { op, close, rssMb } = await mode.open(clients);
  try {
    const result = await runClosedLoop({ clients, op, warmupMs: s.warmupSeconds * 1000, durationMs: s.seconds * 1000 });
    if (result.errors) throw new Error(`${mode.label} at ${clients} clients: ${result.errors} errors; first: ${String(result.firstError)}`);
    return { ...result, rssMb: rssMb() };
  } finally {
    await close();
  }
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
  for (const clients of s.clientCounts) {
    const runs = new Map<string, (LoadResult & { rssMb: number | null })[]>(all.map((m) => [m.key, []]));
    for (let r = 1; r <= s.rounds; r++) {
      for (const mode of all) {
        const res = await measure(mode, clients, s);
        runs.get(mode.key)!.push(res);
        log(`  ${clients} clients, round ${r}/${s.rounds}, ${mode.key}: ${res.throughputPerS.toFixed(0)}/s (${res.ops} ops in ${res.seconds.toFixed(1)} s)`);
      }
    }
    const floorPerS = median(runs.get('floor')!.map((x) => x.throughputPerS))!;
    for (const mode of all) {
      const rs = runs.get(mode.key)!;
      const throughput = median(rs.map((x) => x.throughputPerS))!;
      const lat = summarize(rs.flatMap((x) => x.latenciesMs));
      const isFloor = mode.key === 'floor';
      const ratio = isFloor ? null : throughput / floorPerS;
      const rss = rs.map((x) => x.rssMb).filter((x): x is number => x !== null);
      reports.push({
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
      });
    }
  }
  return reports;
}
