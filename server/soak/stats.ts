import type { OpKind } from './ops';

export type OpRecord = { startMs: number; ms: number; kind: OpKind; outcome: string };
export type Window = { fromMs: number; toMs: number };

const p99 = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]! : 0);

/** Throughput (successful ops per second) and p99 latency, split by whether a fault was active when the op started. */
export function summarize(ops: OpRecord[], faultWindows: Window[], totalMs: number) {
  const during = (o: OpRecord) => faultWindows.some((w) => o.startMs >= w.fromMs && o.startMs <= w.toMs);
  const faultMs = faultWindows.reduce((a, w) => a + (w.toMs - w.fromMs), 0);
  const part = (xs: OpRecord[], ms: number) => ({
    ops: xs.length,
    ok: xs.filter((o) => o.outcome === 'ok').length,
    okPerSecond: ms > 0 ? Number((xs.filter((o) => o.outcome === 'ok').length / (ms / 1000)).toFixed(2)) : 0,
    p99Ms: Math.round(p99(xs.map((o) => o.ms))),
  });
  const byKind: Record<string, number> = {};
  for (const o of ops) byKind[o.kind] = (byKind[o.kind] ?? 0) + 1;
  const failures: Record<string, number> = {};
  for (const o of ops) if (o.outcome !== 'ok') failures[o.outcome] = (failures[o.outcome] ?? 0) + 1;
  return {
    operations: ops.length,
    byKind,
    duringFaults: part(ops.filter(during), faultMs),
    betweenFaults: part(
      ops.filter((o) => !during(o)),
      totalMs - faultMs,
    ),
    failures,
  };
}
