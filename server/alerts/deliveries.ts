import { alertDeliveries as alertDeliveriesTotal } from '../ops/metrics';
import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { AlertChannelName } from '../../shared/alerts';
import type { Db } from '../db/client';
import { channels } from './channels';
import { ChannelError, DEFAULT_CHANNEL_TIMEOUT_MS, type AlertDeps, type ChannelSettings } from './channels/channel';
import { loadChannelSettings } from './channel-settings';
import { alertDeliveries } from './tables';

export const MAX_ATTEMPTS = 5;
const SEND_BATCH = 50;
const MAX_SEND_BATCHES = 10;
/**
 * A claimed delivery is leased, not locked: no transaction stays open across a network call. The
 * lease outlasts the slowest send (timeouts are seconds), and if this process dies mid-send the
 * delivery is due again when it runs out.
 */
const LEASE_SECONDS = 120;

/** Wait before the next try after `attempts` tries: 30 s, 60 s, 120 s, … capped at an hour. */
export const backoffSeconds = (attempts: number) => Math.min(30 * 2 ** Math.max(0, attempts - 1), 3600);

export type SendResult = { sent: number; retrying: number; failed: number };
type Claimed = typeof alertDeliveries.$inferSelect;
type Outcome = keyof SendResult;

async function markSent(db: Db, id: number) {
  await db
    .update(alertDeliveries)
    .set({ status: 'sent', sentAt: sql`now()`, lastError: null })
    .where(eq(alertDeliveries.id, id));
}

/**
 * Records the failure; retries with backoff until MAX_ATTEMPTS, or at once gives up when `final`.
 * A receiver that said how long to wait (a 429's Retry-After) is not tried before that: the wait is
 * a later next_attempt_at, never a sleep in this process.
 */
async function markFailed(db: Db, d: Claimed, error: string, final: boolean, retryAfter: number | null = null): Promise<Outcome> {
  const giveUp = final || d.attempts >= MAX_ATTEMPTS;
  const wait = Math.max(backoffSeconds(d.attempts), retryAfter ?? 0);
  await db
    .update(alertDeliveries)
    .set({
      status: giveUp ? 'failed' : 'pending',
      lastError: error.slice(0, 1000),
      ...(giveUp ? {} : { nextAttemptAt: sql`now() + make_interval(secs => ${wait})` }),
    })
    .where(eq(alertDeliveries.id, d.id));
  return giveUp ? 'failed' : 'retrying';
}

/** One send. A channel's failure is recorded on its delivery and never thrown; only database errors escape. */
async function deliver(db: Db, deps: AlertDeps, d: Claimed, settings: Map<AlertChannelName, ChannelSettings>): Promise<Outcome> {
  const channel = d.channel as AlertChannelName;
  const s = settings.get(channel);
  // Switched off after routing: an admin's decision, not a fault to retry.
  if (!s?.enabled) return markFailed(db, d, `the ${channel} channel was disabled before this delivery was sent`, true);
  try {
    await channels[channel].send((d.payload ?? {}) as Record<string, unknown>, s, {
      secrets: deps.secrets,
      outbound: deps.outbound,
      timeoutMs: deps.channelTimeoutMs ?? DEFAULT_CHANNEL_TIMEOUT_MS,
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    deps.log?.warn({ deliveryId: d.id, alertId: d.alertId, channel, attempt: d.attempts, err: message }, 'alert delivery failed');
    return markFailed(db, d, message, false, err instanceof ChannelError ? err.retryAfterSeconds : null);
  }
  await markSent(db, d.id);
  return 'sent';
}

/** Claims up to SEND_BATCH due deliveries (SKIP LOCKED, so processes never share one) and leases them. */
async function claimDue(db: Db): Promise<Claimed[]> {
  const due = db
    .select({ id: alertDeliveries.id })
    .from(alertDeliveries)
    .where(and(eq(alertDeliveries.status, 'pending'), lte(alertDeliveries.nextAttemptAt, sql`now()`)))
    .orderBy(asc(alertDeliveries.nextAttemptAt), asc(alertDeliveries.id))
    .limit(SEND_BATCH)
    .for('update', { skipLocked: true });
  return db
    .update(alertDeliveries)
    .set({ attempts: sql`${alertDeliveries.attempts} + 1`, nextAttemptAt: sql`now() + make_interval(secs => ${LEASE_SECONDS})` })
    .where(inArray(alertDeliveries.id, due))
    .returning();
}

/**
 * Sends every pending delivery that is due: marks it sent, or records the error and schedules the
 * next try with exponential backoff; after MAX_ATTEMPTS tries it is failed. One channel failing
 * does not hold up the others: each delivery is sent on its own.
 */
export async function sendDueDeliveries(db: Db, deps: AlertDeps): Promise<SendResult> {
  const result: SendResult = { sent: 0, retrying: 0, failed: 0 };
  for (let i = 0; i < MAX_SEND_BATCHES; i++) {
    const claimed = await claimDue(db);
    if (!claimed.length) break;
    const settings = await loadChannelSettings(db);
    const outcomes = await Promise.allSettled(claimed.map((d) => deliver(db, deps, d, settings)));
    const errors: unknown[] = [];
    outcomes.forEach((o, i) => {
      if (o.status === 'fulfilled') {
        result[o.value]++;
        alertDeliveriesTotal.inc({ channel: claimed[i]!.channel, outcome: o.value });
      } else errors.push(o.reason);
    });
    // A database error while recording: the lease expires and the delivery is tried again.
    if (errors.length) throw new AggregateError(errors, `recording ${errors.length} alert deliveries failed`);
    if (claimed.length < SEND_BATCH) break;
  }
  return result;
}
