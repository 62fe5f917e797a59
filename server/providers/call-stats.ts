import { sql, type SQL } from 'drizzle-orm';

/**
 * The one definition of a provider's success rate: successful calls over the calls made (successes
 * and failures; skips are not calls, a retried call counts each time) in [from, to), as a 0–1
 * fraction to four places; null when no call was made. Screens show it as a percentage.
 * A lateral subquery for one provider, so it reads the (provider, created_at) index range only.
 */
export const callStatsFor = (provider: SQL, from: SQL, to?: SQL): SQL => sql`
  select count(*)::int as calls, count(*) filter (where outcome = 'success')::int as successes,
         percentile_cont(0.5) within group (order by latency_ms)::int as p50,
         percentile_cont(0.95) within group (order by latency_ms)::int as p95
  from provider_calls
  where provider = ${provider} and outcome <> 'skipped' and created_at >= ${from} ${to ? sql`and created_at < ${to}` : sql``}`;

/** The 24 hours every provider screen shows. */
export const callStats24h = (provider: SQL): SQL => callStatsFor(provider, sql`now() - interval '24 hours'`);

export const successRate = (successes: number, calls: number): number | null => (calls > 0 ? Math.round((successes / calls) * 10_000) / 10_000 : null);
