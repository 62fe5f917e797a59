import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db/client';
import { col, queryRows } from '../db/rows';
import { checkLedger } from '../ledger/reconcile';
import { checkPools } from '../pools/reconcile';
import { purchaseKey } from '../pools/refill-purchase';
import type { Fakes } from './fakes';

export type Violation = { check: string; rows: unknown[] };
export const CHECK_NAMES = ['ledger', 'pools', 'overdue-holds', 'settled-once', 'idempotency', 'enhancement-once', 'purchase-once', 'webhook-dedupe', 'alert-storm'] as const;

/**
 * The invariants, each answering the rows that break it. They hold at any moment, faults or not:
 * everything that moves money does it in one transaction. `holdGraceSeconds` allows the expiry job
 * (its worker perhaps just killed) a while to release holds past their expiry.
 */
export async function runChecks(db: DbOrTx, fakes: Fakes, opts: { holdGraceSeconds: number }): Promise<Violation[]> {
  const out: Violation[] = [];
  const add = (check: string, rows: unknown[]) => rows.length && out.push({ check, rows: rows.slice(0, 20) });
  const ledger = await checkLedger(db, { holdGraceSeconds: opts.holdGraceSeconds });
  add('ledger', [...ledger.offenders, ...ledger.untrackedAllowance]);
  add('pools', (await checkPools(db)).offenders);
  if (ledger.overduePendingHolds) {
    add(
      'overdue-holds',
      await queryRows(
        db,
        z.object({ id: col.id, user_id: col.text, expires_at: col.time }),
        sql`select id::text, user_id, expires_at from credit_reservations
      where status = 'pending' and expires_at < now() - make_interval(secs => ${opts.holdGraceSeconds}) limit 20`,
      ),
    );
  }
  // A hold is one entry, settled by at most one capture or release (exactly one once not pending).
  add(
    'settled-once',
    await queryRows(
      db,
      z.object({ id: col.id, status: col.text, holds: col.integer, settles: col.integer }),
      sql`
    select r.id::text, r.status, count(*) filter (where t.transaction_type = 'hold')::int as holds,
           count(*) filter (where t.transaction_type in ('capture', 'release'))::int as settles
    from credit_reservations r left join credit_transactions t on t.reservation_id = r.id group by r.id, r.status
    having count(*) filter (where t.transaction_type = 'hold') <> 1
        or count(*) filter (where t.transaction_type in ('capture', 'release')) <> case when r.status = 'pending' then 0 else 1 end`,
    ),
  );
  // Every soak request carries its own key: a key that charged twice (per user) is a double charge.
  add(
    'idempotency',
    await queryRows(
      db,
      z.object({ user_id: col.text, idempotency_key: col.text, charges: col.integer }),
      sql`
    select user_id, idempotency_key, count(*)::int as charges from (
      select user_id, idempotency_key from credit_transactions where transaction_type = 'consumption' and idempotency_key is not null
      union all select user_id, idempotency_key from credit_reservations) k
    group by user_id, idempotency_key having count(*) > 1`,
    ),
  );
  add(
    'enhancement-once',
    await queryRows(
      db,
      z.object({ enhancement_id: col.text, idempotency_key: col.text, captures: col.integer }),
      sql`
    select e.enhancement_id::text, e.idempotency_key, count(t.id)::int as captures
    from enhancement_requests e join credit_transactions t on t.reservation_id::text = e.reservation_id and t.transaction_type = 'capture'
    group by e.enhancement_id, e.idempotency_key having count(t.id) > 1`,
    ),
  );
  // The pool is credited at most once per purchase request, and only for what the provider sold.
  const requests = await queryRows(
    db,
    z.object({ id: col.integer, status: col.text, amount: col.integer, credited: col.integer }),
    sql`
    select r.id::int, r.status, r.amount_requested as amount,
      coalesce((select sum(p.credits_delta) from credit_pool_transactions p where p.purchase_request_id = r.id and p.transaction_type = 'purchase'), 0)::text as credited
    from credit_purchase_requests r where r.provider in (select provider from credit_pools where billing_mode = 'http')`,
  );
  add(
    'purchase-once',
    requests.filter((r) => {
      const bought = fakes.billing.purchasesFor(purchaseKey(r.id));
      const credited = r.credited;
      return bought.length > 1 || credited > r.amount || (credited > 0 && bought.length === 0) || (r.status === 'completed' && credited !== r.amount);
    }),
  );
  // Each webhook id always carries the same body, so a receiver can drop repeats by id.
  const byId = new Map<string, Set<string>>();
  for (const r of fakes.receiver.state.received) byId.set(r.headers['webhook-id'] ?? '', (byId.get(r.headers['webhook-id'] ?? '') ?? new Set()).add(r.raw));
  add(
    'webhook-dedupe',
    [...byId].filter(([id, bodies]) => !id || bodies.size > 1).map(([id, bodies]) => ({ id, bodies: [...bodies] })),
  );
  // At most one firing notice per alert crossing and channel.
  add(
    'alert-storm',
    await queryRows(
      db,
      z.object({ alert_id: col.id, channel: col.text, notices: col.integer }),
      sql`
    select alert_id::text, channel, count(*)::int as notices from alert_deliveries where kind = 'firing' group by alert_id, channel having count(*) > 1`,
    ),
  );
  return out;
}

/** At the end, with every fault healed: every webhook event reached the receiver (at least once). */
export async function undeliveredWebhooks(db: DbOrTx, fakes: Fakes) {
  const events = await queryRows(
    db,
    z.object({ msg_id: col.text, type: col.text }),
    sql`
    select e.msg_id, e.type from webhook_events e
    where e.fanned_out_at is null and e.type in ('credits.low', 'credits.depleted', 'enhancement.completed')
       or exists (select 1 from webhook_deliveries d where d.event_id = e.id)`,
  );
  const got = new Set(fakes.receiver.state.received.map((r) => r.headers['webhook-id']));
  return events.filter((e) => !got.has(e.msg_id));
}
