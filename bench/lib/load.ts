import { performance } from 'node:perf_hooks';

/** One operation of a client: `client` is its index (0..clients-1), `i` how many it has run before. */
export type Op = (client: number, i: number) => Promise<void>;

export type LoadOptions = {
  clients: number;
  op: Op;
  /** Measure for this long after the warm-up (closed loop, duration mode)… */
  durationMs?: number;
  /** …or have each client run exactly this many measured operations (count mode). */
  countPerClient?: number;
  /** Operations run before measuring starts (connections open, JIT warms); not recorded. */
  warmupMs?: number;
  /** Called just before and just after the measured window (e.g. to read CPU counters). */
  onMeasureStart?: () => Promise<void> | void;
  onMeasureEnd?: () => Promise<void> | void;
};

export type LoadResult = {
  clients: number;
  ops: number;
  errors: number;
  firstError: unknown;
  seconds: number;
  throughputPerS: number;
  latenciesMs: number[];
};

/**
 * A closed-loop load driver: N clients, each running `op` back to back (a new one as soon as the
 * last returns). Latency is measured per operation; throughput is the operations completed in the
 * measured window divided by its length. A failed operation counts as an error, not a sample.
 */
export async function runClosedLoop(opts: LoadOptions): Promise<LoadResult> {
  if ((opts.durationMs === undefined) === (opts.countPerClient === undefined)) {
    throw new Error('runClosedLoop needs exactly one of durationMs or countPerClient');
  }
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: unknown = null;
  const iterations = new Array<number>(opts.clients).fill(0);

  const loop = async (client: number, until: () => boolean, record: boolean) => {
    while (!until()) {
      const t0 = performance.now();
      try {
        await opts.op(client, iterations[client]!++);
        if (record) latenciesMs.push(performance.now() - t0);
      } catch (err) {
        errors++;
        firstError ??= err;
      }
    }
  };
  const all = (fn: (client: number) => Promise<void>) => Promise.all(Array.from({ length: opts.clients }, (_, c) => fn(c)));

  if (opts.warmupMs) {
    const warmEnd = performance.now() + opts.warmupMs;
    await all((c) => loop(c, () => performance.now() >= warmEnd, false));
    // An operation that fails while warming up fails the run: nothing would be measured right.
    if (errors) throw firstError;
  }

  await opts.onMeasureStart?.();
  const start = performance.now();
  if (opts.durationMs !== undefined) {
    const end = start + opts.durationMs;
    await all((c) => loop(c, () => performance.now() >= end, true));
  } else {
    await all(async (c) => {
      let n = 0;
      await loop(c, () => n++ >= opts.countPerClient!, true);
    });
  }
  const seconds = (performance.now() - start) / 1000;
  await opts.onMeasureEnd?.();
  return { clients: opts.clients, ops: latenciesMs.length, errors, firstError, seconds, throughputPerS: latenciesMs.length / seconds, latenciesMs };
}
