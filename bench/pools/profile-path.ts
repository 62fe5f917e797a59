import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { SecretBox } from '../../server/auth/secrets';
import { openDb, type Db } from '../../server/db/client';
import { createBenchDb } from '../lib/bench-db';
import { reserveCredits } from '../../server/ledger/reserve-credits';
import { drawFromPool } from '../../server/pools/draw';
import { nextKey } from '../lib/keys';
import { cpuText, runRounds, summarizeRuns, type RoundMode } from '../lib/rounds';
import { BIG_ALLOWANCE, createFundedPool, createUsers, setBalances, uncapOverflow } from '../lib/seed';
import { consumeOp, requestPathOp } from './ops';

/**
 * Where the overflow request path's time goes, statement by statement: the pools benchmark's data
 * (64 overflowing pro users, one pool and 64 own pools of 64 stripes), BENCH_SECONDS of the path at
 * 64 clients first (the dead row versions a real run leaves), then PROFILE_OPS operations on one
 * connection with auto_explain loaded in that session only, its plans sent back as notices: the
 * executor time of every statement, and the round trips. Run: npx tsx bench/pools/profile-path.ts
 */
const CLIENTS = 64;
const ops = Number(process.env.PROFILE_OPS ?? 200);
const loadSeconds = Number(process.env.BENCH_SECONDS ?? 5);

type PlanNode = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; 'Actual Total Time'?: number; 'Actual Loops'?: number; Plans?: PlanNode[] };
const planText = (p: PlanNode, depth: number): string =>
  `${'  '.repeat(depth)}${p['Node Type']} ${p['Relation Name'] ?? ''} ${p['Index Name'] ?? ''} ${p['Actual Total Time']} ms x${p['Actual Loops']}\n` +
  (p.Plans ?? []).map((c) => planText(c, depth + 1)).join('');

type Stat = { n: number; ms: number; text: string };

async function main() {
  const bench = await createBenchDb();
  try {
    // Diagnostic only, on this throwaway database: what the commits' WAL flushes cost.
    if (process.env.PROFILE_SYNC_COMMIT) {
      const admin = postgres(bench.url, { max: 1, onnotice: () => {} });
      await admin.unsafe(`alter database "${bench.name}" set synchronous_commit = ${process.env.PROFILE_SYNC_COMMIT === 'off' ? 'off' : 'on'}`);
      await admin.end();
    }
    const handle = await openDb({ databaseUrl: bench.url, dataDir: bench.dataDir, maxConnections: CLIENTS });
    const secrets = new SecretBox(randomBytes(32));
    const users = await createUsers(handle.db, 'bench-over', CLIENTS, 'pro');
    await setBalances(handle.db, 'bench-over', 0);
    await uncapOverflow(handle.db);
    await createFundedPool(handle.db, secrets, 'bench-hot', 100_000_000);
    for (let i = 0; i < CLIENTS; i++) await createFundedPool(handle.db, secrets, `bench-own-${String(i).padStart(2, '0')}`, 1_000_000);
    // At 64 clients, each step added on its own: what it costs in PostgreSQL's and this process's CPU.
    const allowanceUsers = await createUsers(handle.db, 'bench-allow', CLIENTS, 'pro');
    await setBalances(handle.db, 'bench-allow', BIG_ALLOWANCE);
    const hot = () => 'bench-hot';
    const hold = (c: number) => reserveCredits(handle.db, { userId: users[c]!, credits: 1, enhancementType: 'upscale', idempotencyKey: nextKey('hold'), ttlSeconds: 300 });
    const steps: RoundMode[] = [
      { key: 'consume', label: 'consumeCredits, distinct users', open: async () => ({ op: consumeOp(handle.db, allowanceUsers), close: async () => {} }) },
      { key: 'hold', label: 'overflow hold', open: async () => ({ op: async (c) => void (await hold(c)), close: async () => {} }) },
      {
        key: 'hold+draw',
        label: 'overflow hold + draw',
        open: async () => ({ op: async (c) => void (await drawFromPool(handle.db, hot(), 1, { reservationId: (await hold(c)).reservationId })), close: async () => {} }),
      },
      { key: 'path', label: 'hold + draw + capture', open: async () => ({ op: requestPathOp(handle.db, users, hot, 'platform_pool'), close: async () => {} }) },
    ];
    const statsSql = postgres(bench.url, { max: 1, onnotice: () => {} });
    const runs = await runRounds(steps, CLIENTS, { rounds: 1, seconds: loadSeconds, warmupSeconds: 1, pg: { sql: statsSql, dbName: bench.name } });
    await statsSql.end();
    for (const m of steps) console.log(`${m.label}: ${cpuText(summarizeRuns(runs.get(m.key)!).cpu)}`);
    await handle.close();

    const stats = new Map<string, Stat>();
    let statements = 0;
    const client = postgres(bench.url, {
      max: 1,
      connection: { jit: 'off' },
      onnotice: (n) => {
        const plan = JSON.parse(String(n.message).replace(/^duration: [\d.]+ ms\s+plan:\s*/, '')) as { 'Query Text': string; Plan: PlanNode };
        const m = /^duration: ([\d.]+) ms/.exec(String(n.message));
        const key = plan['Query Text'].replace(/\s+/g, ' ').trim().slice(0, 110);
        const s = stats.get(key) ?? { n: 0, ms: 0, text: key };
        s.n++;
        s.ms += Number(m?.[1] ?? 0);
        stats.set(key, s);
        // PROFILE_PLANS=1: the last operation's plans, node by node, with their triggers.
        if (process.env.PROFILE_PLANS && s.n === ops) console.log(`${s.text}\n${planText(plan.Plan, 1)}${JSON.stringify((plan as { Triggers?: unknown }).Triggers ?? [])}`);
      },
    });
    await client`load 'auto_explain'`;
    await client.unsafe(`set auto_explain.log_min_duration = 0; set auto_explain.log_level = 'notice'; 
      set auto_explain.log_analyze = on; set auto_explain.log_timing = on; set auto_explain.log_triggers = on; set auto_explain.log_format = 'json'; set auto_explain.log_nested_statements = on; set client_min_messages = 'notice'`);
    const captured: { query: string; params: unknown[] }[] = [];
    const db = drizzle({ client, logger: { logQuery: (query, params) => void (statements++, captured.push({ query, params })) } }) as unknown as Db;
    const op = requestPathOp(db, users, () => 'bench-hot', 'platform_pool');
    const t0 = performance.now();
    for (let i = 0; i < ops; i++) await op(i % CLIENTS, i);
    const wall = (performance.now() - t0) / ops;
    await client`set auto_explain.log_min_duration = -1`;
    // Planning time of each statement of one operation (EXPLAIN without ANALYZE plans, runs nothing).
    const planning: string[] = [];
    for (const c of captured.slice(-Math.round(statements / ops))) {
      const times: number[] = [];
      for (let i = 0; i < 21; i++) {
        const [r] = await client.unsafe(`explain (summary, format json) ${c.query}`, c.params as never[]);
        times.push((r!['QUERY PLAN'] as { 'Planning Time': number }[])[0]!['Planning Time']);
      }
      planning.push(
        `${times
          .sort((a, b) => a - b)[10]!
          .toFixed(3)
          .padStart(8)} ms planning  ${c.query.replace(/\s+/g, ' ').trim().slice(0, 100)}`,
      );
    }
    await client.end();
    const rows = [...stats.values()].sort((a, b) => b.ms - a.ms);
    const total = rows.reduce((s, r) => s + r.ms, 0) / ops;
    console.log(`one connection: ${wall.toFixed(2)} ms per operation, ${(statements / ops).toFixed(1)} statements (drizzle; plus BEGIN/COMMIT), executor ${total.toFixed(3)} ms`);
    for (const r of rows) console.log(`${(r.ms / ops).toFixed(3).padStart(8)} ms/op  x${(r.n / ops).toFixed(1)}  ${r.text}`);
    for (const line of planning) console.log(line);
  } finally {
    await bench.drop();
  }
}

await main();
