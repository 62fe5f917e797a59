import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { openDb } from '../../server/db/client';
import { allocateMonthlyCredits } from '../../server/ledger/monthly-reset';
import { log } from '../lib/benchmark';
import type { CaseReport } from '../lib/results';
import { median, round } from '../lib/stats';
import { floorReset, makeDue, seedUsers } from './reset-data';

const GOAL_TIMES_FLOOR = 2;

/**
 * allocateMonthlyCredits() against the set-based floor on the same seeded users, in ABBA order
 * (allocate, floor, floor, allocate, …) so that the ledger table growing run after run weighs on
 * both alike. Each timed run starts from the same state: every seeded user due, vacuumed, checkpointed.
 */
export async function runResetCases(databaseUrl: string, users: number, runsEach: number): Promise<CaseReport[]> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const handle = await openDb({ databaseUrl, dataDir: '.data', maxConnections: 1 });
  try {
    let t0 = performance.now();
    await seedUsers(sql, users);
    log(`  seeded ${users} users with their ledger entries in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const times = { allocate: [] as number[], floor: [] as number[] };
    const order: ('allocate' | 'floor')[] = [];
    for (let i = 0; i < runsEach; i++) order.push(...(i % 2 === 0 ? (['allocate', 'floor'] as const) : (['floor', 'allocate'] as const)));
    for (const which of order) {
      await makeDue(sql);
      t0 = performance.now();
      const reset = which === 'allocate' ? (await allocateMonthlyCredits(handle.db)).usersReset : await floorReset(sql);
      const ms = performance.now() - t0;
      if (reset !== users) throw new Error(`${which} reset ${reset} users, expected ${users}`);
      times[which].push(ms);
      log(`  monthly reset, ${which}: ${users} users in ${(ms / 1000).toFixed(2)} s (${((users * 1000) / ms).toFixed(0)} users/s)`);
    }

    const floorMs = median(times.floor)!;
    const allocMs = median(times.allocate)!;
    const perS = (ms: number) => (users * 1000) / ms;
    const ratio = perS(allocMs) / perS(floorMs);
    const label = `monthly reset, ${users.toLocaleString('en-US')} users`;
    return [
      {
        case: `${label}: raw set-based SQL floor (UPDATE + INSERT…SELECT)`,
        clients: null,
        throughput_per_s: round(perS(floorMs), 0),
        p50_ms: round(floorMs, 0),
        p99_ms: null,
        floor_per_s: null,
        ratio: null,
      },
      {
        case: `${label}: allocateMonthlyCredits()`,
        clients: null,
        throughput_per_s: round(perS(allocMs), 0),
        p50_ms: round(allocMs, 0),
        p99_ms: null,
        floor_per_s: round(perS(floorMs), 0),
        ratio: round(ratio, 3),
        goal: { text: `time <= ${GOAL_TIMES_FLOOR}x floor`, met: allocMs <= GOAL_TIMES_FLOOR * floorMs },
      },
    ];
  } finally {
    await handle.close();
    await sql.end({ timeout: 5 });
  }
}
