import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { webhookDeliverySchema, type WebhookDeliveryView } from '../../shared/webhooks';
import { audit, type Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { col, countRow, queryOne, queryRows } from '../db/rows';
import { DomainError } from '../errors';
import { WEBHOOK_RETRY_WINDOW_MS } from './backoff';

const RECENT_ATTEMPTS = 5;

/** A delivery with its event and its latest attempts (`recent`, built as json in the query). */
const deliveryRow = z.object({
  id: col.id,
  msg_id: col.text,
  event_type: col.text,
  status: webhookDeliverySchema.shape.status,
  attempts: col.integer,
  next_attempt_at: col.time,
  last_status: col.integerOrNull,
  last_error: col.textOrNull,
  last_attempt_at: col.timeOrNull,
  delivered_at: col.timeOrNull,
  created_at: col.time,
  recent: z.array(z.object({ attemptedAt: z.string(), responseStatus: z.number().nullable(), error: z.string().nullable(), durationMs: z.number() })),
});

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** An endpoint's deliveries, newest first, each with its latest attempts (one query for the page). */
export async function listDeliveries(db: DbOrTx, input: { endpointId: string; page: number; pageSize: number }) {
  const [rows, total] = await Promise.all([
    queryRows(
      db,
      deliveryRow,
      sql`
      select d.id::text as id, ev.msg_id, ev.type as event_type, d.status, d.attempts, d.next_attempt_at, d.last_status, d.last_error,
             d.last_attempt_at, d.delivered_at, d.created_at,
             coalesce((select json_agg(json_build_object('attemptedAt', a.attempted_at, 'responseStatus', a.response_status,
                                                         'error', a.error, 'durationMs', a.duration_ms) order by a.id desc)
                       from (select * from webhook_attempts where delivery_id = d.id order by id desc limit ${RECENT_ATTEMPTS}) a), '[]'::json) as recent
      from webhook_deliveries d join webhook_events ev on ev.id = d.event_id
      where d.endpoint_id = ${input.endpointId}
      order by d.id desc limit ${input.pageSize} offset ${input.page * input.pageSize}`,
    ),
    queryOne(db, countRow, sql`select count(*)::int as n from webhook_deliveries where endpoint_id = ${input.endpointId}`),
  ]);
  return {
    rows: rows.map((r): WebhookDeliveryView => ({
      id: r.id,
      msgId: r.msg_id,
      eventType: r.event_type,
      status: r.status,
      attempts: r.attempts,
      nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
      lastStatus: r.last_status,
      lastError: r.last_error,
      lastAttemptAt: iso(r.last_attempt_at),
      deliveredAt: iso(r.delivered_at),
      createdAt: iso(r.created_at)!,
      recentAttempts: r.recent.map((a) => ({ ...a, attemptedAt: iso(a.attemptedAt)! })),
    })),
    total: total?.n ?? 0,
  };
}

/**
 * Queues the delivery again at once, whatever its state, with a fresh 24 h of retries. The event
 * and so its webhook-id are the same: a receiver that deduplicates by id sees a repeat.
 */
export async function replayDelivery(db: DbOrTx, actor: Actor, deliveryId: string, now = new Date()): Promise<{ id: string; msgId: string }> {
  return db.transaction(async (tx) => {
    const row = await queryOne(
      tx,
      z.object({ id: col.id, msg_id: col.text, endpoint_id: col.id, status: col.text }),
      sql`
      with before as (select id, status from webhook_deliveries where id = ${deliveryId} for update)
      update webhook_deliveries d set status = 'pending', next_attempt_at = ${now.toISOString()}::timestamptz,
        give_up_at = ${now.toISOString()}::timestamptz + make_interval(secs => ${WEBHOOK_RETRY_WINDOW_MS / 1000})
      from before, webhook_events ev
      where d.id = before.id and ev.id = d.event_id
      returning d.id::text as id, ev.msg_id, d.endpoint_id::text as endpoint_id, before.status`,
    );
    if (!row) throw new DomainError('NOT_FOUND', 'NOT_FOUND', `Webhook delivery ${deliveryId} does not exist.`);
    await audit(tx, actor, {
      action: 'webhook.replay',
      targetType: 'webhook_delivery',
      targetId: row.id,
      before: { status: row.status },
      after: { status: 'pending', endpointId: row.endpoint_id, webhookId: row.msg_id },
    });
    return { id: row.id, msgId: row.msg_id };
  });
}
