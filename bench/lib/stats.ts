/** Latency statistics over samples in milliseconds. */

export function median(values: number[]): number | null {
  return percentile(values, 50);
}

/** The p-th percentile (0..100) by linear interpolation between closest ranks; null when empty. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  return percentileOfSorted(sorted, p);
}

function percentileOfSorted(sorted: Float64Array, p: number): number {
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export type LatencySummary = { count: number; p50: number | null; p95: number | null; p99: number | null; max: number | null };

export function summarize(samples: number[]): LatencySummary {
  if (samples.length === 0) return { count: 0, p50: null, p95: null, p99: null, max: null };
  const sorted = Float64Array.from(samples).sort();
  return {
    count: sorted.length,
    p50: percentileOfSorted(sorted, 50),
    p95: percentileOfSorted(sorted, 95),
    p99: percentileOfSorted(sorted, 99),
    max: sorted[sorted.length - 1]!,
  };
}

/** Rounds for display and for the results file (3 significant decimals at most). */
export const round = (v: number | null, digits = 2): number | null => (v === null ? null : Number(v.toFixed(digits)));
