import postgres from 'postgres';
import { openDb } from '../../server/db/client';
import { selfCpuMs, treeCpuMs } from '../lib/cpu';
import { JsonPoster } from '../lib/http-client';
import type { Op } from '../lib/load';
import { selfRssMb, treeRssMb } from '../lib/proc';
import { floorOp, httpOp, inProcessOp } from './consume-ops';

export type ConsumeSettings = {
  databaseUrl: string;
  dbName: string;
  server: { url: string; pid: number | undefined; apiKey: string };
  userIds: string[];
  clientCounts: number[];
  rounds: number;
  seconds: number;
  warmupSeconds: number;
};

/** One way of running credits.consume; `floor` is the one the others are compared with. */
export type Mode = {
  key: string;
  label: string;
  /** Opens what the clients share, returns their operation and how to close it. */
  open: (clients: number) => Promise<{ op: Op; close: () => Promise<void>; rssMb: () => number | null }>;
  /** CPU ms used so far by the process that runs the ledger code (this one, or the server). */
  appCpuMs: () => number;
  goal?: { text: string; minRatio: number };
};

const IN_PROCESS_GOAL = 0.6;

export function modes(s: ConsumeSettings): Mode[] {
  const floor = (prepare: boolean) => async (clients: number) => {
    const sql = postgres(s.databaseUrl, { max: clients, prepare, onnotice: () => {} });
    return { op: floorOp(sql, s.userIds), close: () => sql.end({ timeout: 5 }), rssMb: selfRssMb };
  };
  return [
    { key: 'floor', label: 'credits.consume raw-SQL floor (postgres.js, prepared)', open: floor(true), appCpuMs: selfCpuMs },
    { key: 'floor-unprepared', label: 'credits.consume raw SQL, unprepared (diagnostic)', open: floor(false), appCpuMs: selfCpuMs },
    {
      key: 'in-process',
      label: 'credits.consume in-process (consumeCredits, drizzle)',
      appCpuMs: selfCpuMs,
      goal: { text: `>= ${IN_PROCESS_GOAL} of floor`, minRatio: IN_PROCESS_GOAL },
      open: async (clients) => {
        const handle = await openDb({ databaseUrl: s.databaseUrl, dataDir: '.data', maxConnections: clients });
        return { op: inProcessOp(handle.db, s.userIds), close: handle.close, rssMb: selfRssMb };
      },
    },
    {
      key: 'http',
      label: 'credits.consume over HTTP (POST /trpc, API key)',
      appCpuMs: () => treeCpuMs(s.server.pid),
      open: async (clients) => {
        const poster = new JsonPoster(s.server.url, { authorization: `Bearer ${s.server.apiKey}` }, clients);
        return { op: httpOp(poster, s.userIds), close: async () => poster.close(), rssMb: () => treeRssMb(s.server.pid) };
      },
    },
  ];
}
