import { describe, expect, it } from 'vitest';
import { runSoak } from '../soak/run';
import { freePort } from '../test/spawn';

describe('[FAULT] a 2-minute chaos soak: mixed load, seeded faults, the books balance after every heal', () => {
  it('every invariant holds after each fault and at the end', async () => {
    const seed = Number(process.env.SOAK_SEED ?? 20);
    const lines: string[] = [];
    const result = await runSoak({ minutes: 2, seed, ports: [await freePort(), await freePort()], opsPerSecond: 4, log: (l) => lines.push(l) });
    // On failure the message carries the seed, the fault history and the offending rows, to replay with --seed.
    expect(result.error, JSON.stringify({ seed, lines, history: result.history, logs: result.logs }, null, 2)).toBeNull();
    expect(result.violations, JSON.stringify({ seed, lines, history: result.history }, null, 2)).toEqual([]);
    expect(result.history.length).toBeGreaterThan(0);
    expect(result.history.every((e) => e.checks === 'passed')).toBe(true);
    expect(result.checksPassed).toBe(result.history.length + 1);
    expect(result.stats.betweenFaults.ok).toBeGreaterThan(0);
  }, 900_000);
});
