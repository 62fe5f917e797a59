import { performance } from 'node:perf_hooks';
import type { Fragment, Sql } from 'postgres';
import { log } from '../lib/benchmark';
import { cliActor } from '../../server/auth/audit';
import type { SecretBox } from '../../server/auth/secrets';
import type { DbOrTx } from '../../server/db/client';
import { saveProvider } from '../../server/providers/provider-admin';
import { withoutIndexes } from '../lib/bulk-load';
import { createFundedPool } from '../lib/seed';

/** Providers of the seeded captures, with their share of them and cost per credit. */
export const SEED_PROVIDERS = [
  { name: 'fal', kind: 'fal', share: 0.4, cost: '0.039' },
  { name: 'kie', kind: 'kie', share: 0.25, cost: '0.020' },
  { name: 'nanobanana', kind: 'nanobanana', share: 0.2, cost: '0.030' },
  { name: 'google', kind: 'google', share: 0.1, cost: '0.040' },
] as const;

/**
 * The SEED_PROVIDERS as providers with funded pools. Nothing listens on port 9: the health job
 * finds them down, as a dashboard often shows one.
 */
export async function seedAnalyticsProviders(db: DbOrTx, secrets: SecretBox): Promise<void> {
  for (const [i, p] of SEED_PROVIDERS.entries()) {
    await saveProvider(
      db,
      secrets,
      cliActor,
      {
        name: p.name,
        kind: p.kind,
        baseUrl: 'http://127.0.0.1:9',
        apiKey: 'bench',
        model: null,
        costPerRequest: p.cost,
        rateLimitPerMinute: 1000,
        priority: (i + 1) * 10,
        timeoutMs: 30_000,
        isActive: true,
        healthCheckUrl: null,
      },
      'create',
    );
    await createFundedPool(db, secrets, p.name, 50_000 * (i + 1), p.cost);
  }
}

/** `n` users u000001… (60% free, 30% plus, 10% pro) with their credit rows, reset this month. */
export async function seedAnalyticsUsers(sql: Sql, n: number): Promise<void> {
  await sql`
    insert into users (user_id, email, tier)
    select 'u' || lpad(g::text, 6, '0'), 'u' || g || '@bench.invalid',
           case when g % 10 < 6 then 'free' when g % 10 < 9 then 'plus' else 'pro' end
    from generate_series(1, ${n}::int) g`;
  await sql`
    insert into user_credits (user_id, subscription_tier, monthly_allowance, current_balance, consumed_this_month, lifetime_consumed, last_reset_at)
    select u.user_id, u.tier, a.credits, greatest(0, a.credits - g % 13), least(a.credits, g % 13), 40 + g % 300, date_trunc('month', now(), 'UTC')
    from users u
    cross join lateral (select substr(u.user_id, 2)::int as g) x
    cross join lateral (select case u.tier when 'free' then 0 when 'plus' then 10 else 25 end as credits) a
    where u.user_id >= 'u' and u.user_id < 'v'`;
  await sql`vacuum analyze users`;
  await sql`vacuum analyze user_credits`;
}

/**
 * `rows` ledger entries spread evenly over the last 365 days up to now (ids in time order, like a
 * real ledger), in chunks, users skewed toward a heavy few. The mix: 43% consumption, 21% hold,
 * 19% capture (provider and cost by SEED_PROVIDERS, local for the rest at no cost), 3% release,
 * 10% allocation, 2% adjustment, 2% grant; 10% of charges are 2 credits; 15% of requests paid by
 * the platform pool; six enhancement types. Plus provider_calls: one per capture-like share of
 * rows, 8% failures. Indexes and foreign keys are rebuilt after the load, then everything analysed.
 * Not a balanced ledger: only analytics read it.
 */
export async function seedLedger(sql: Sql, rows: number, users: number, chunk = 1_000_000): Promise<void> {
  await sql`select setseed(0.42)`;
  await withoutIndexes(sql, 'credit_transactions', async () => {
    for (let from = 1; from <= rows; from += chunk) {
      const to = Math.min(rows, from + chunk - 1);
      const t0 = performance.now();
      await insertLedgerRows(sql, { from, to, first: 1, count: rows, since: sql`now() - interval '365 days'` }, users);
      log(`  ledger rows ${from.toLocaleString('en-US')}–${to.toLocaleString('en-US')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  });
  await seedProviderCalls(sql, Math.round(rows / 5), sql`now() - interval '365 days'`);
  await sql`
    insert into system_alerts (type, level, subject, message)
    values ('pool_low', 'warning', 'kie', 'The kie pool is below its threshold.'),
           ('provider_unhealthy', 'error', 'google', 'google failed its health check.'),
           ('budget', 'info', '', 'Projected cost is at 80% of the budget.')`;
  const t0 = performance.now();
  await sql`vacuum analyze credit_transactions`;
  await sql`vacuum analyze provider_calls`;
  log(`  vacuum analyze in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/**
 * A kept database (BENCH_ANALYTICS_DB) brought up to now: the rows the seed would have written
 * since its newest one, at the seed's density (`rows` a year), so today's ledger is as full as a
 * fresh seed's would be. Returns how many ledger rows it added.
 */
export async function topUpLedger(sql: Sql, rows: number, users: number): Promise<number> {
  const [last] = await sql<{ id: string; since: string; seconds: number }[]>`
    select max(id)::text as id, max(created_at)::text as since, extract(epoch from now() - max(created_at))::float8 as seconds from credit_transactions`;
  const count = Math.floor((rows * last!.seconds) / (365 * 86_400));
  if (count < 1) return 0;
  const first = Number(last!.id) + 1;
  await insertLedgerRows(sql, { from: first, to: first + count - 1, first, count, since: sql`${last!.since}::timestamptz` }, users);
  await seedProviderCalls(sql, Math.round(count / 5), sql`${last!.since}::timestamptz`, false);
  await sql`analyze credit_transactions`;
  return count;
}

/**
 * Ledger rows numbered [from, to] of `count` spread evenly from `since` to now (row `first` at
 * `since`), in the seed's mix (seedLedger).
 */
async function insertLedgerRows(sql: Sql, w: { from: number; to: number; first: number; count: number; since: Fragment }, users: number): Promise<void> {
  const [a, b, c, d] = SEED_PROVIDERS;
  const cut: [number, number, number, number] = [a.share, a.share + b.share, a.share + b.share + c.share, a.share + b.share + c.share + d.share];
  const { from, to } = w;
  await sql`
        insert into credit_transactions (user_id, transaction_type, credits_used, credits_delta, bonus_credits, balance_after, source, tier,
          cost_usd, provider, api_request_id, enhancement_type, status, reservation_id, idempotency_key, request_hash, reason, created_at)
        select 'u' || lpad(s.u::text, 6, '0'), x.tt, case when x.charge then x.cr else 0 end,
          case x.tt when 'consumption' then -x.cr when 'hold' then -x.cr when 'release' then x.cr
                    when 'allocation' then 25 when 'adjustment' then 5 when 'grant' then 10 else 0 end,
          0, (s.r3 * 100)::int,
          case when x.charge and s.r3 >= 0.85 then 'platform_pool' else 'user_credits' end,
          case when s.u % 10 < 6 then 'free' when s.u % 10 < 9 then 'plus' else 'pro' end,
          case when x.tt = 'capture' then (x.cost * x.cr)::numeric(14, 6) when x.tt = 'consumption' then 0 end,
          case when x.tt = 'capture' then x.prov end,
          case when x.tt = 'capture' then 'req-' || s.g end,
          case when x.charge then (array['lighting', 'upscale', 'color', 'sharpen', 'denoise', 'style'])[1 + floor(s.r4 * 6)::int] end,
          case x.tt when 'hold' then 'pending' when 'release' then 'refunded' else 'completed' end,
          case when x.tt in ('hold', 'capture', 'release') then md5(s.g::text)::uuid end,
          case when x.tt = 'consumption' then 'seed-' || s.g end,
          case when x.tt = 'consumption' then ${'f'.repeat(32)} end,
          case when x.tt in ('allocation', 'adjustment', 'grant') then 'bench seed' end,
          (${w.since}) + ((s.g - ${w.first})::float8 / ${w.count}) * (now() - (${w.since}))
        from (
          select g, random() as r1, random() as r2, random() as r3, random() as r4, 1 + floor(${users} * power(random(), 2))::int as u
          from generate_series(${from}::bigint, ${to}::bigint) g
        ) s
        cross join lateral (
          select t.tt, t.tt in ('consumption', 'hold', 'capture', 'release') as charge, case when s.r2 < 0.9 then 1 else 2 end as cr, p.prov, p.cost
          from (select case when s.r1 < 0.43 then 'consumption' when s.r1 < 0.64 then 'hold' when s.r1 < 0.83 then 'capture'
                            when s.r1 < 0.86 then 'release' when s.r1 < 0.96 then 'allocation' when s.r1 < 0.98 then 'adjustment' else 'grant' end as tt) t,
               (select case when s.r4 < ${cut[0]} then 'fal' when s.r4 < ${cut[1]} then 'kie' when s.r4 < ${cut[2]} then 'nanobanana'
                            when s.r4 < ${cut[3]} then 'google' else 'local' end as prov,
                       case when s.r4 < ${cut[0]} then ${a.cost}::numeric when s.r4 < ${cut[1]} then ${b.cost}::numeric
                            when s.r4 < ${cut[2]} then ${c.cost}::numeric when s.r4 < ${cut[3]} then ${d.cost}::numeric else 0 end as cost) p
        ) x`;
}

/** Provider calls spread from `since` to now, 8% failures; a bulk load (`bulk`) drops and rebuilds the indexes around it. */
async function seedProviderCalls(sql: Sql, calls: number, since: Fragment, bulk = true): Promise<void> {
  const [a, b, c] = SEED_PROVIDERS;
  const cut: [number, number, number] = [a.share, a.share + b.share, a.share + b.share + c.share];
  const load = async () => {
    const t0 = performance.now();
    await sql`
      insert into provider_calls (provider, request_id, outcome, latency_ms, http_status, error_kind, error, created_at)
      select p.prov, 'req-' || g, case when s.r1 < 0.08 then 'failure' else 'success' end, 400 + floor(s.r2 * 3000)::int,
             case when s.r1 < 0.08 then 500 end, case when s.r1 < 0.08 then 'http' end,
             case when s.r1 < 0.08 then 'POST /v1 answered HTTP 500: internal' end,
             (${since}) + (g::float8 / ${calls}) * (now() - (${since}))
      from (select g, random() as r1, random() as r2, random() as r3 from generate_series(1, ${calls}::int) g) s
      cross join lateral (select case when s.r3 < ${cut[0]} then 'fal' when s.r3 < ${cut[1]} then 'kie' when s.r3 < ${cut[2]} then 'nanobanana' else 'google' end as prov) p`;
    log(`  ${calls.toLocaleString('en-US')} provider calls in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  await (bulk ? withoutIndexes(sql, 'provider_calls', load) : load());
}
