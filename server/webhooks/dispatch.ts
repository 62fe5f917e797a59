import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { notify } from '../alerts/alert-service';
import type { SecretBox } from '../auth/secrets';
import type { Db, DbOrTx } from '../db/client';
import { col, countRow, queryRows } from '../db/rows';
import type { Outbound } from '../net/outbound';
import { webhookDeliveries } from '../ops/metrics';
import { WEBHOOK_RETRY_WINDOW_MS, webhookRetryDelayMs } from './backoff';
import { openEndpointSecret } from './endpoint-secret';

export type WebhookDispatchDeps = {
  secrets: SecretBox;
  outbound: Outbound;
  log?: Logger;
  timeoutMs?: number;
  /** The scheduling clock (backoff, give-up, 24 h disable); tests move it. Signatures use the wall clock. */
  now?: () => Date;
  random?: () => number;
  batchSize?: number;
};

/** A claimed delivery with what sending it needs: the event's body and the endpoint's url and secret. */
const claimedRow = z.object({
  id: col.id,
  attempts: col.integer,
  give_up_at: col.time,
  /** The claimed window's end, exactly (epoch seconds with microseconds): a replay moves it. */
  give_up_epoch: col.text,
  endpoint_id: col.id,
  msg_id: col.text,
  type: col.text,
  body: col.text,
  url: col.text,
  secret_encrypted: col.text,
});
type Claimed = z.output<typeof claimedRow>;

type Outcome = { ok: boolean; status: number | null; error: string | null; durationMs: number };

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

/**
 * Makes a delivery per subscribed, enabled endpoint for events not yet fanned out. SKIP LOCKED lets
 * several workers share the outbox; an endpoint sees events raised after it was created only.
 */
export async function fanOutWebhookEvents(db: DbOrTx, now: Date, limit = 500): Promise<number> {
  const [row] = await queryRows(
    db,
    countRow,
    sql`
    with ev as (
      select id, type, created_at from webhook_events where fanned_out_at is null order by id limit ${limit} for update skip locked
    ), ins as (
      insert into webhook_deliveries (event_id, endpoint_id, next_attempt_at, give_up_at)
      select ev.id, e.id, ${ts(now)}, ${ts(now)} + make_interval(secs => ${WEBHOOK_RETRY_WINDOW_MS / 1000})
      from ev join webhook_endpoints e on e.status = 'enabled' and ev.type = any(e.events) and e.created_at <= ev.created_at
      on conflict (event_id, endpoint_id) do nothing
      returning 1
    ), marked as (
      update webhook_events set fanned_out_at = now() where id in (select id from ev) returning 1
    )
    select (select count(*) from marked)::int as n, (select count(*) from ins)::int as deliveries`,
  );
  return row?.n ?? 0;
}

/**
 * Claims due deliveries of enabled endpoints: the claim moves `next_attempt_at` past the send's
 * timeout (a lease), so a worker that dies mid-send leaves a delivery that is simply sent again,
 * under the same webhook-id, once the lease runs out — at least once.
 */
async function claimDue(db: DbOrTx, now: Date, leaseMs: number, limit: number): Promise<Claimed[]> {
  return queryRows(
    db,
    claimedRow,
    sql`
    with claimed as (
      update webhook_deliveries d set next_attempt_at = ${ts(now)} + make_interval(secs => ${leaseMs / 1000}), attempts = d.attempts + 1
      where d.id in (
        select d2.id from webhook_deliveries d2 join webhook_endpoints e on e.id = d2.endpoint_id and e.status = 'enabled'
        where d2.status = 'pending' and d2.next_attempt_at <= ${ts(now)}
        order by d2.next_attempt_at, d2.id limit ${limit}
        for update of d2 skip locked)
      returning d.id, d.attempts, d.give_up_at, d.endpoint_id, d.event_id
    )
    select c.id::text as id, c.attempts, c.give_up_at, extract(epoch from c.give_up_at)::text as give_up_epoch, c.endpoint_id::text as endpoint_id, ev.msg_id, ev.type, ev.payload::text as body,
           e.url, e.secret_encrypted
    from claimed c join webhook_events ev on ev.id = c.event_id join webhook_endpoints e on e.id = c.endpoint_id`,
  );
}

/** POSTs the signed event: 2xx is delivered; a redirect, another status, a refusal or a timeout is not. */
async function send(deps: WebhookDispatchDeps, d: Claimed, timeoutMs: number): Promise<Outcome> {
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  try {
    const secret = openEndpointSecret(deps.secrets, d.secret_encrypted, d.url);
    const sentAt = new Date();
    const res = await deps.outbound.fetch(d.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Creditdesk-Webhooks/1',
        'webhook-id': d.msg_id,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign(d.msg_id, sentAt, d.body),
      },
      body: d.body,
    });
    await res.body?.cancel().catch(() => undefined);
    const ok = res.status >= 200 && res.status < 300;
    return { ok, status: res.status, error: ok ? null : `answered HTTP ${res.status}`, durationMs: took() };
  } catch (err) {
    const e = err as Error & { cause?: Error };
    const message = e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (e.cause?.message ?? e.message);
    return { ok: false, status: null, error: message.slice(0, 500), durationMs: took() };
  }
}

/**
 * The delivery row as this claim left it: not claimed again since (a lease that ran out) and not
 * replayed since (a replay moves the window's end). Only then does the attempt's outcome decide the
 * delivery's state; otherwise the newer claim or the replay does, and this attempt is only recorded.
 */
const stillClaimed = (d: Claimed) => sql`id = ${d.id} and status = 'pending' and attempts = ${d.attempts} and extract(epoch from give_up_at) = ${d.give_up_epoch}::numeric`;

/** Records the attempt; on failure schedules the retry (or gives up) and may disable the endpoint. */
async function settle(db: Db, deps: WebhookDispatchDeps, d: Claimed, outcome: Outcome, now: Date): Promise<'delivered' | 'retry' | 'failed'> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`insert into webhook_attempts (delivery_id, attempted_at, response_status, error, duration_ms)
                         values (${d.id}, ${ts(now)}, ${outcome.status}, ${outcome.error}, ${outcome.durationMs})`);
    if (outcome.ok) {
      await tx.execute(sql`update webhook_deliveries set status = 'delivered', delivered_at = ${ts(now)}, last_attempt_at = ${ts(now)},
                             last_status = ${outcome.status}, last_error = null where ${stillClaimed(d)}`);
      await tx.execute(sql`update webhook_endpoints set failing_since = null where id = ${d.endpoint_id} and failing_since is not null`);
      return 'delivered';
    }
    const giveUpAt = new Date(d.give_up_at);
    const next = new Date(Math.min(now.getTime() + webhookRetryDelayMs(d.attempts, deps.random), giveUpAt.getTime()));
    const gaveUp = now.getTime() >= giveUpAt.getTime();
    const [settled] = await queryRows(
      tx,
      z.object({ id: col.id }),
      sql`update webhook_deliveries set status = ${gaveUp ? 'failed' : 'pending'}, next_attempt_at = ${ts(next)},
            last_attempt_at = ${ts(now)}, last_status = ${outcome.status}, last_error = ${outcome.error} where ${stillClaimed(d)}
          returning id::text as id`,
    );
    await markFailing(tx, d.endpoint_id, d.url, now);
    // Replayed (or claimed again) while this attempt was out: the delivery is still due, as the replay made it.
    if (!settled) return 'retry';
    return gaveUp ? 'failed' : 'retry';
  });
}

/** Starts the endpoint's failure streak, and after 24 h of it disables the endpoint with an alert. */
async function markFailing(tx: DbOrTx, endpointId: string, url: string, now: Date): Promise<void> {
  const [disabled] = await queryRows(
    tx,
    z.object({ id: col.textOrNull }),
    sql`update webhook_endpoints set
          failing_since = coalesce(failing_since, ${ts(now)}),
          status = case when coalesce(failing_since, ${ts(now)}) <= ${ts(new Date(now.getTime() - WEBHOOK_RETRY_WINDOW_MS))} then 'disabled' else status end,
          disabled_reason = case when coalesce(failing_since, ${ts(now)}) <= ${ts(new Date(now.getTime() - WEBHOOK_RETRY_WINDOW_MS))}
            then 'every delivery failed for 24 hours' else disabled_reason end,
          updated_at = now()
        where id = ${endpointId} and status = 'enabled'
        returning case when status = 'disabled' then id::text end as id`,
  );
  if (!disabled?.id) return;
  await notify(tx, {
    type: 'webhook_endpoint_disabled',
    level: 'error',
    subject: endpointId,
    message: `The webhook endpoint ${url} failed every delivery for 24 hours and was disabled. Fix the receiver, then enable it again on the Webhooks page.`,
    metadata: { endpointId, url },
  });
}

export type WebhookDispatchResult = { eventsFannedOut: number; delivered: number; retrying: number; failed: number };

/** One pass: fan out new events, then send every due delivery (in batches) and settle each. */
export async function runWebhookDispatch(db: Db, deps: WebhookDispatchDeps): Promise<WebhookDispatchResult> {
  const now = deps.now ?? (() => new Date());
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const batchSize = deps.batchSize ?? 20;
  const result: WebhookDispatchResult = { eventsFannedOut: 0, delivered: 0, retrying: 0, failed: 0 };
  for (;;) {
    const n = await fanOutWebhookEvents(db, now());
    result.eventsFannedOut += n;
    if (n < 500) break;
  }
  // A bounded pass: a backlog larger than this waits for the next run rather than holding this one.
  for (let round = 0; round < 50; round++) {
    const due = await claimDue(db, now(), timeoutMs + 5_000, batchSize);
    if (!due.length) break;
    const settled = await Promise.all(
      due.map(async (d) => {
        const outcome = await send(deps, d, timeoutMs);
        const settled = await settle(db, deps, d, outcome, now()).catch((err: unknown) => {
          deps.log?.error({ err, deliveryId: d.id }, 'recording a webhook attempt failed; the lease will resend it');
          return 'retry' as const;
        });
        webhookDeliveries.inc({ event: d.type, outcome: settled });
        return settled;
      }),
    );
    for (const s of settled) result[s === 'delivered' ? 'delivered' : s === 'failed' ? 'failed' : 'retrying']++;
    if (due.length < batchSize) break;
  }
  return result;
}
