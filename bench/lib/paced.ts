import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export type PacedOptions = {
  /** Arrivals per second, evenly spaced. */
  ratePerS: number;
  durationMs: number;
  warmupMs?: number;
  /** One operation; `i` counts arrivals from 0 (warm-up included). */
  op: (i: number) => Promise<void>;
  /** Arrivals beyond this many operations in flight are dropped and counted (the system cannot keep up). */
  maxInFlight: number;
};

export type PacedResult = {
  targetPerS: number;
  achievedPerS: number;
  ops: number;
  errors: number;
  dropped: number;
  firstError: unknown;
  seconds: number;
  latenciesMs: number[];
};

/**
 * An open-loop (paced) load driver: operations start on a fixed schedule whether or not the earlier
 * ones have finished, as independent users' requests would. Latency is measured from the moment an
 * operation was due, not from when it was started, so a stall shows in the percentiles instead of
 * silently lowering the rate ("coordinated omission").
 */
export async function runPaced(opts: PacedOptions): Promise<PacedResult> {
  const intervalMs = 1000 / opts.ratePerS;
  const latenciesMs: number[] = [];
  let errors = 0;
  let dropped = 0;
  let firstError: unknown = null;
  let inFlight = 0;
  let arrivals = 0;
  const pending = new Set<Promise<void>>();

  const phase = async (ms: number, record: boolean) => {
    const start = performance.now();
    let due = 0;
    for (;;) {
      const now = performance.now();
      if (now - start >= ms) break;
      // Start every arrival whose time has come (a late timer starts several at once).
      while (start + due * intervalMs <= now) {
        const dueAt = start + due * intervalMs;
        due++;
        if (inFlight >= opts.maxInFlight) {
          if (record) dropped++;
          continue;
        }
        inFlight++;
        const p = opts
          .op(arrivals++)
          .then(
            () => {
              if (record) latenciesMs.push(performance.now() - dueAt);
            },
            (err: unknown) => {
              if (record) {
                errors++;
                firstError ??= err;
              }
            },
          )
          .finally(() => {
            inFlight--;
            pending.delete(p);
          });
        pending.add(p);
      }
      const next = start + due * intervalMs - performance.now();
      await sleep(Math.max(0, Math.min(next, 5)));
    }
    return (performance.now() - start) / 1000;
  };

  if (opts.warmupMs) await phase(opts.warmupMs, false);
  const measuredFrom = latenciesMs.length;
  const seconds = await phase(opts.durationMs, true);
  // Operations started in the window are waited for; their latency counts, the window does not grow.
  await Promise.all([...pending]);
  const ops = latenciesMs.length - measuredFrom;
  return { targetPerS: opts.ratePerS, achievedPerS: ops / seconds, ops, errors, dropped, firstError, seconds, latenciesMs };
}
