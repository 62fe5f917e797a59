import { sql } from 'drizzle-orm';
import { Gauge, Registry } from 'prom-client';
import { z } from 'zod';
import type { DbOrTx } from '../db/client';
import { col, queryRows } from '../db/rows';

/**
 * Readings of the whole installation taken from the database when /metrics is scraped, so every
 * process answers the same figures. Each collector runs small queries over small tables (pools,
 * open alerts, pending deliveries), never a scan of the ledger.
 */
export type ScrapeCollector = (db: DbOrTx, registry: Registry) => Promise<void>;

const collectors: ScrapeCollector[] = [];

/** Adds a reading to every scrape (e.g. the outbound webhook outbox's depth). */
export function addScrapeCollector(collector: ScrapeCollector) {
  collectors.push(collector);
}

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]) {
  return new Gauge<L>({ name, help, labelNames, registers: [registry] });
}

addScrapeCollector(async (db, registry) => {
  const pools = await queryRows(
    db,
    z.object({ provider: col.text, status: col.text, balance: col.integer, reserve: col.integer }),
    sql`select p.provider, p.status, coalesce(sum(s.balance), 0)::text as balance, p.emergency_reserve as reserve
        from credit_pools p left join credit_pool_stripes s on s.provider = p.provider
        where p.archived_at is null
        group by p.provider order by p.provider limit 500`,
  );
  const balance = gauge(registry, 'creditdesk_pool_balance_credits', 'Credits left in each provider pool (emergency reserve included).', ['provider']);
  const reserve = gauge(registry, 'creditdesk_pool_emergency_reserve_credits', "Each pool's emergency reserve, drawn only when the rest is spent.", ['provider']);
  const active = gauge(registry, 'creditdesk_pool_active', '1 when the pool may be drawn, 0 when it is suspended.', ['provider']);
  for (const p of pools) {
    balance.set({ provider: p.provider }, p.balance);
    reserve.set({ provider: p.provider }, p.reserve);
    active.set({ provider: p.provider }, p.status === 'suspended' ? 0 : 1);
  }
});

addScrapeCollector(async (db, registry) => {
  const open = await queryRows(db, z.object({ level: col.text, n: col.integer }), sql`select level, count(*)::int as n from system_alerts where status <> 'resolved' group by level`);
  const alerts = gauge(registry, 'creditdesk_alerts_open', 'Alerts not resolved, by level.', ['level']);
  for (const level of ['info', 'warning', 'error', 'critical']) alerts.set({ level }, open.find((r) => r.level === level)?.n ?? 0);

  const pending = await queryRows(db, z.object({ channel: col.text, n: col.integer }), sql`select channel, count(*)::int as n from alert_deliveries where status = 'pending' group by channel`);
  const queued = gauge(registry, 'creditdesk_alert_deliveries_pending', 'Alert deliveries waiting to be sent or retried, by channel.', ['channel']);
  for (const r of pending) queued.set({ channel: r.channel }, r.n);
});

/** The scrape-time readings in a registry of their own, for this scrape only. */
export async function collectScrapeGauges(db: DbOrTx): Promise<Registry> {
  const registry = new Registry();
  for (const collect of collectors) await collect(db, registry);
  return registry;
}
